// optim/adam.cpp — Adam/AdamW: option checks, lazily created moments, the dispatched update.
#include "engine/optim/adam.h"

#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "kernels/cpu/optim.h"

namespace fcnlab {

namespace {
std::vector<ParamGroup> one_group(std::vector<ParamInfo> params) {
  return {ParamGroup{"", std::move(params), {}, {}, {}}};
}
}  // namespace

Adam::Adam(std::vector<ParamInfo> params, const AdamOptions& o)
    : Adam("Adam", one_group(std::move(params)), o, false) {}
Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& o)
    : Adam("Adam", std::move(groups), o, false) {}
Adam::Adam(const char* type, std::vector<ParamGroup> groups, const AdamOptions& o, bool decoupled)
    : Optimizer(type, std::move(groups), o.lr, o.weight_decay, std::nullopt), opt_(o),
      decoupled_(decoupled) {
  check();
}

AdamW::AdamW(std::vector<ParamInfo> params, const AdamOptions& o)
    : Adam("AdamW", one_group(std::move(params)), o, true) {}
AdamW::AdamW(std::vector<ParamGroup> groups, const AdamOptions& o)
    : Adam("AdamW", std::move(groups), o, true) {}

void Adam::check() const {
  FCNLAB_CHECK(opt_.beta1 >= 0 && opt_.beta1 < 1, type(), ": beta1 must be in [0, 1), got ",
               opt_.beta1);
  FCNLAB_CHECK(opt_.beta2 >= 0 && opt_.beta2 < 1, type(), ": beta2 must be in [0, 1), got ",
               opt_.beta2);
  FCNLAB_CHECK(opt_.eps >= 0, type(), ": eps must be >= 0, got ", opt_.eps);
}

void Adam::update(const ParamGroup&, ParamInfo& p, ParamState& s, double lr,
                  double weight_decay) {
  Tensor& m = s.buffers["exp_avg"];
  Tensor& v = s.buffers["exp_avg_sq"];
  if (!m.defined()) m = zeros_like(p.tensor);
  if (!v.defined()) v = zeros_like(p.tensor);
  FCNLAB_DISPATCH(p.tensor.device(), adam_update, p.tensor, p.tensor.grad(), m, v, lr, opt_.beta1,
                  opt_.beta2, opt_.eps, weight_decay, decoupled_, s.step);
}

nlohmann::json Adam::hyper_json() const {
  return {{"lr", opt_.lr}, {"beta1", opt_.beta1}, {"beta2", opt_.beta2}, {"eps", opt_.eps},
          {"weight_decay", opt_.weight_decay}, {"decoupled_weight_decay", decoupled_}};
}

void Adam::load_hyper_json(const nlohmann::json& j) {
  FCNLAB_CHECK(j.at("decoupled_weight_decay").get<bool>() == decoupled_, type(),
               ".load_state_dict: checkpoint's decoupled_weight_decay differs");
  opt_.lr = j.at("lr").get<double>();
  opt_.beta1 = j.at("beta1").get<double>();
  opt_.beta2 = j.at("beta2").get<double>();
  opt_.eps = j.at("eps").get<double>();
  opt_.weight_decay = j.at("weight_decay").get<double>();
  check();
}

}  // namespace fcnlab
