// optim/sgd.h — stochastic gradient descent with momentum, dampening, Nesterov momentum and
// L2 weight decay, with torch.optim.SGD's semantics (the momentum buffer starts as the first
// gradient; the lr multiplies the whole step). Caffe's solver folds the lr into the momentum
// buffer instead; the two agree while the lr is constant (FCN's "fixed" policy).
#pragma once
#include "engine/optim/optimizer.h"

namespace fcnlab {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening 0
};

class SGD : public Optimizer {
 public:
  // One group holding `params` (e.g. model.named_parameters()).
  SGD(std::vector<ParamInfo> params, const SgdOptions& o);
  // Groups' unset lr / weight_decay / momentum come from o.
  SGD(std::vector<ParamGroup> groups, const SgdOptions& o);
  const SgdOptions& options() const { return opt_; }

 protected:
  void update(const ParamGroup& g, ParamInfo& p, ParamState& s, double lr,
              double weight_decay) override;
  nlohmann::json hyper_json() const override;
  void load_hyper_json(const nlohmann::json& j) override;
  std::vector<std::string> buffer_names(const ParamGroup& g) const override;

 private:
  void check() const;
  SgdOptions opt_;
};

}  // namespace fcnlab
