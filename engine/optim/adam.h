// optim/adam.h — Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, and AdamW
// (Loshchilov & Hutter 2019) with weight decay decoupled from the adaptive step; both with
// torch.optim semantics (bias correction per parameter step, eps added after the
// bias-corrected square root).
#pragma once
#include "engine/optim/optimizer.h"

namespace fcnlab {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // torch's AdamW defaults to 0.01: pass it explicitly
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamInfo> params, const AdamOptions& o);
  Adam(std::vector<ParamGroup> groups, const AdamOptions& o);
  const AdamOptions& options() const { return opt_; }
  bool decoupled_weight_decay() const { return decoupled_; }

 protected:
  Adam(const char* type, std::vector<ParamGroup> groups, const AdamOptions& o, bool decoupled);
  void update(const ParamGroup& g, ParamInfo& p, ParamState& s, double lr,
              double weight_decay) override;
  nlohmann::json hyper_json() const override;
  void load_hyper_json(const nlohmann::json& j) override;
  std::vector<std::string> buffer_names(const ParamGroup&) const override {
    return {"exp_avg", "exp_avg_sq"};
  }

 private:
  void check() const;
  AdamOptions opt_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamInfo> params, const AdamOptions& o);
  AdamW(std::vector<ParamGroup> groups, const AdamOptions& o);
};

}  // namespace fcnlab
