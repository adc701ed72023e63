// optim/optimizer.h — the base of SGD and Adam/AdamW: parameter groups, per-parameter
// lr_mult / decay_mult (Caffe's FCN trains biases at 2x lr with no decay, fixed upsampling at
// lr_mult 0), a global lr factor set by the LR schedule, step() under NoGrad, and checkpoints
// (state tensors as a TensorMap plus a JSON of hyper-parameters and step counts).
//
// Effective values for parameter p of group g at a step:
//   lr = g.lr * lr_factor() * p.lr_mult,   weight_decay = g.weight_decay * p.decay_mult.
// Parameters that are frozen (requires_grad false), have no gradient, or have lr_mult 0 are
// skipped entirely (their state does not advance).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/nn/module.h"
#include "engine/tensor_map.h"

namespace fcnlab {

// A set of parameters sharing hyper-parameters. Unset fields take the optimizer's defaults
// at construction (PyTorch's param_groups semantics); afterwards they are all set.
struct ParamGroup {
  std::string name;               // "" -> "group<i>"
  std::vector<ParamInfo> params;  // names must be unique across groups ("" -> "<group>.<i>")
  std::optional<double> lr;
  std::optional<double> weight_decay;
  std::optional<double> momentum;  // SGD only
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& type() const { return type_; }
  // Applies one update to every parameter with a gradient. Runs under NoGrad.
  void step();
  // Drops the gradients of every parameter (the next backward starts from zero).
  void zero_grad();

  // Multiplies every group's lr; an LR schedule sets it each iteration (schedule.factor(it)).
  void set_lr_factor(double f);
  double lr_factor() const { return lr_factor_; }
  // The lr that parameter `i` of group `g` gets at the next step.
  double effective_lr(size_t g, size_t i) const;
  int64_t step_count() const { return step_count_; }
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // ---- checkpoints
  // State tensors named "<param name>.<buffer>" ("fc6.weight.momentum_buffer"); they share
  // storage with the optimizer's state (save them, do not modify them).
  TensorMap state_dict() const;
  // {"type", "step", "lr_factor", "hyper": {...}, "groups": [{name, lr, weight_decay,
  //  momentum?, params: [{name, lr_mult, decay_mult}]}], "param_steps": {name: n}}
  nlohmann::json state_json() const;
  // Restores both. The groups and parameter names must match this optimizer's (the error
  // lists every difference); tensors are copied to each parameter's device and dtype.
  void load_state_dict(const TensorMap& tensors, const nlohmann::json& meta);

 protected:
  struct ParamState {
    int64_t step = 0;  // updates applied to this parameter
    TensorMap buffers;  // "momentum_buffer", "exp_avg", ...
  };
  // defaults: the optimizer's lr / weight_decay / momentum for groups that leave them unset.
  Optimizer(std::string type, std::vector<ParamGroup> groups, double lr, double weight_decay,
            std::optional<double> momentum);
  // One parameter's update; lr and weight_decay are the effective values. s.step is already
  // incremented for this update. Called with the parameter's grad defined.
  virtual void update(const ParamGroup& g, ParamInfo& p, ParamState& s, double lr,
                      double weight_decay) = 0;
  virtual nlohmann::json hyper_json() const = 0;
  virtual void load_hyper_json(const nlohmann::json& j) = 0;
  // The names of the buffers update() creates (checked on load).
  virtual std::vector<std::string> buffer_names(const ParamGroup& g) const = 0;
  // A zero tensor like p (its device and dtype), for lazily created state.
  static Tensor zeros_like(const Tensor& p);

 private:
  std::string type_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, ParamState> state_;  // by parameter name
  double lr_factor_ = 1.0;
  int64_t step_count_ = 0;
};

}  // namespace fcnlab
