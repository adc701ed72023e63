// optim/sgd.cpp — SGD: option checks and the per-parameter update through the dispatcher.
#include "engine/optim/sgd.h"

#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "kernels/cpu/optim.h"

namespace fcnlab {

SGD::SGD(std::vector<ParamInfo> params, const SgdOptions& o)
    : SGD(std::vector<ParamGroup>{ParamGroup{"", std::move(params), {}, {}, {}}}, o) {}

SGD::SGD(std::vector<ParamGroup> groups, const SgdOptions& o)
    : Optimizer("SGD", std::move(groups), o.lr, o.weight_decay, o.momentum), opt_(o) {
  check();
}

void SGD::check() const {
  FCNLAB_CHECK(opt_.dampening >= 0 && opt_.dampening <= 1, "SGD: dampening must be in [0, 1], got ",
               opt_.dampening);
  for (const auto& g : param_groups()) {
    FCNLAB_CHECK(*g.momentum >= 0, "SGD: group '", g.name, "' momentum must be >= 0, got ",
                 *g.momentum);
    FCNLAB_CHECK(!opt_.nesterov || (*g.momentum > 0 && opt_.dampening == 0), "SGD: nesterov "
                 "needs momentum > 0 and dampening 0; group '", g.name, "' has momentum ",
                 *g.momentum, ", dampening ", opt_.dampening);
  }
}

void SGD::update(const ParamGroup& g, ParamInfo& p, ParamState& s, double lr,
                 double weight_decay) {
  const double momentum = *g.momentum;
  Tensor buf;
  if (momentum != 0.0) {
    Tensor& b = s.buffers["momentum_buffer"];
    if (!b.defined()) b = zeros_like(p.tensor);
    buf = b;
  }
  const bool first = s.step == 1;
  FCNLAB_DISPATCH(p.tensor.device(), sgd_update, p.tensor, p.tensor.grad(), buf, lr, weight_decay,
                  momentum, opt_.dampening, opt_.nesterov, first);
}

nlohmann::json SGD::hyper_json() const {
  return {{"lr", opt_.lr}, {"momentum", opt_.momentum}, {"dampening", opt_.dampening},
          {"weight_decay", opt_.weight_decay}, {"nesterov", opt_.nesterov}};
}

void SGD::load_hyper_json(const nlohmann::json& j) {
  opt_.lr = j.at("lr").get<double>();
  opt_.momentum = j.at("momentum").get<double>();
  opt_.dampening = j.at("dampening").get<double>();
  opt_.weight_decay = j.at("weight_decay").get<double>();
  opt_.nesterov = j.at("nesterov").get<bool>();
  check();
}

std::vector<std::string> SGD::buffer_names(const ParamGroup& g) const {
  if (*g.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

}  // namespace fcnlab
