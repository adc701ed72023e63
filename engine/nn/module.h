// nn/module.h — the base of every layer and model: named parameters and buffers, named
// children (dotted names "features.conv1_1.weight"), train/eval, device and dtype moves,
// state_dict / load_state_dict, and Sequential.
//
// Identity: a parameter is a Tensor handle; Module::to(Device) and to(DType) rewrite the
// storage of the SAME TensorImpl, and load_state_dict copies into it, so handles that a layer
// keeps (Conv2d::weight) or that an optimizer already holds stay valid after both.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "engine/tensor_map.h"

namespace fcnlab {

// A parameter and its training attributes. Caffe/FCN train biases with lr_mult 2 and
// decay_mult 0, and fixed upsampling filters with lr_mult 0; optimizers multiply the group's
// lr and weight decay by these.
struct ParamInfo {
  std::string name;  // local name in its module; dotted full name from named_parameters()
  Tensor tensor;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

// What load_state_dict found. In strict mode any problem throws (nothing is loaded);
// otherwise the matching keys are loaded and the rest is reported here.
struct LoadReport {
  std::vector<std::string> loaded;      // keys copied into the module
  std::vector<std::string> missing;     // in the module, absent from the map
  std::vector<std::string> unexpected;  // in the map, not in the module
  std::vector<std::string> mismatched;  // "fc6.weight expected [4096, 512, 7, 7], got [4096, 25088]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // "missing keys: a.weight, b.bias; unexpected keys: c.weight; shape mismatch: ..." ("" if ok)
  std::string str() const;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // "Conv2d", "Sequential", ... (used by summary()).
  virtual std::string type_name() const { return "Module"; }
  // One-input forward for simple layers; models with several inputs/outputs define their own.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // ---- registration (names: non-empty, no '.', unique among this module's params,
  // buffers and children). A parameter gets requires_grad = true.
  Tensor register_parameter(const std::string& name, Tensor t, double lr_mult = 1.0,
                            double decay_mult = 1.0);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // ---- lookup. Local: this module's own entries; dotted: anywhere below.
  ParamInfo& param_info(const std::string& dotted);  // throws if absent
  Tensor parameter(const std::string& dotted) { return param_info(dotted).tensor; }
  Tensor buffer(const std::string& dotted);
  std::shared_ptr<Module> child(const std::string& dotted) const;
  bool has_parameter(const std::string& dotted) const;
  // Sets lr_mult/decay_mult of one parameter (dotted name).
  void set_param_mults(const std::string& dotted, double lr_mult, double decay_mult);
  // Sets the mults of every parameter whose local name is `local_name` ("bias"), recursively.
  void set_mults_by_local_name(const std::string& local_name, double lr_mult, double decay_mult);

  // ---- enumeration: this module's own entries in registration order, then each child's,
  // children in registration order (depth first).
  std::vector<Tensor> parameters() const;
  std::vector<ParamInfo> named_parameters() const;  // ParamInfo::name is the dotted name
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  // Every module below (and this one, named ""), depth first, with dotted names.
  std::vector<std::pair<std::string, Module*>> named_modules();
  // Number of parameter elements; trainable_only counts those with requires_grad.
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- mode and placement, recursive.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void to(Device device);  // moves params, their grads and buffers in place (same TensorImpl)
  void to(DType dtype);    // casts floating params/grads/buffers in place (same TensorImpl)
  void zero_grad();
  void set_requires_grad(bool on);  // freeze (false) or unfreeze every parameter below

  // ---- checkpoints: parameters and buffers by dotted name (the tensors share storage).
  TensorMap state_dict() const;
  // Copies values into the existing tensors (dtype converted, device kept). strict: any
  // missing, unexpected or mis-shaped key throws one Error naming all of them, and nothing
  // is loaded. Non-strict: loads what matches, returns the rest in the report.
  LoadReport load_state_dict(const TensorMap& state, bool strict = true);

  // A readable tree: "features (Sequential)\n  conv1_1 (Conv2d) weight [64, 3, 3, 3] ...".
  std::string summary() const;

 protected:
  // Hook for modules that keep per-mode settings beyond training_ (default: nothing).
  virtual void on_train(bool on) {}

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  ParamInfo* find_param(const std::string& dotted);
  const ParamInfo* find_param(const std::string& dotted) const;
  void collect_params(const std::string& prefix, std::vector<ParamInfo>& out) const;
  void collect_buffers(const std::string& prefix,
                       std::vector<std::pair<std::string, Tensor>>& out) const;
  void summary_into(const std::string& name, int depth, std::string& out) const;
  template <class F> void for_each_tensor(F&& f);  // params (and their grads) and buffers

  std::vector<ParamInfo> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Runs its children in order. Children are named "0", "1", ... unless given a name.
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  std::string type_name() const override { return "Sequential"; }

  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> m) {
    return register_module(std::to_string(children().size()), std::move(m));
  }
  template <class M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    return register_module(name, std::move(m));
  }
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const;
  Tensor forward(const Tensor& x) override;
};

}  // namespace fcnlab
