// optim/optimizer.cpp — groups, the step loop, and checkpoint state.
#include "engine/optim/optimizer.h"

#include <set>

#include "engine/autograd.h"

namespace fcnlab {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}
}  // namespace

Optimizer::Optimizer(std::string type, std::vector<ParamGroup> groups, double lr,
                     double weight_decay, std::optional<double> momentum)
    : type_(std::move(type)), groups_(std::move(groups)) {
  FCNLAB_CHECK(!groups_.empty(), type_, ": no parameter groups given");
  std::set<std::string> names;
  std::set<const TensorImpl*> seen;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    if (g.name.empty()) g.name = "group" + std::to_string(gi);
    if (!g.lr) g.lr = lr;
    if (!g.weight_decay) g.weight_decay = weight_decay;
    if (momentum) {
      if (!g.momentum) g.momentum = momentum;
    } else {
      FCNLAB_CHECK(!g.momentum, type_, ": group '", g.name, "' sets momentum, which ", type_,
                   " does not use");
    }
    FCNLAB_CHECK(*g.lr >= 0, type_, ": group '", g.name, "' lr must be >= 0, got ", *g.lr);
    FCNLAB_CHECK(*g.weight_decay >= 0, type_, ": group '", g.name,
                 "' weight_decay must be >= 0, got ", *g.weight_decay);
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      ParamInfo& p = g.params[pi];
      if (p.name.empty()) p.name = g.name + "." + std::to_string(pi);
      FCNLAB_CHECK(p.tensor.defined(), type_, ": parameter '", p.name, "' is undefined");
      FCNLAB_CHECK(is_floating(p.tensor.dtype()), type_, ": parameter '", p.name,
                   "' must be floating, got ", dtype_name(p.tensor.dtype()));
      FCNLAB_CHECK(names.insert(p.name).second, type_, ": parameter name '", p.name,
                   "' appears twice");
      FCNLAB_CHECK(seen.insert(p.tensor.impl_ptr().get()).second, type_, ": parameter '",
                   p.name, "' is the same tensor as an earlier parameter");
    }
  }
}

Tensor Optimizer::zeros_like(const Tensor& p) {
  return Tensor::zeros(p.shape(), p.dtype(), p.device());
}

void Optimizer::set_lr_factor(double f) {
  FCNLAB_CHECK(f >= 0, type_, ": lr factor must be >= 0, got ", f);
  lr_factor_ = f;
}

double Optimizer::effective_lr(size_t g, size_t i) const {
  FCNLAB_CHECK(g < groups_.size() && i < groups_[g].params.size(), type_,
               ": no parameter ", i, " in group ", g);
  return *groups_[g].lr * lr_factor_ * groups_[g].params[i].lr_mult;
}

void Optimizer::step() {
  NoGrad no_grad;
  ++step_count_;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      ParamInfo& p = g.params[pi];
      Tensor grad = p.tensor.grad();
      if (!p.tensor.requires_grad() || !grad.defined() || p.lr_mult == 0.0) continue;
      FCNLAB_CHECK(grad.shape() == p.tensor.shape() && grad.device() == p.tensor.device() &&
                       grad.dtype() == p.tensor.dtype(),
                   type_, ": gradient of '", p.name, "' is ", grad.shape().str(), " ",
                   dtype_name(grad.dtype()), " on ", grad.device().str(), ", expected ",
                   p.tensor.shape().str(), " ", dtype_name(p.tensor.dtype()), " on ",
                   p.tensor.device().str());
      ParamState& s = state_[p.name];
      // The module may have been moved or cast since the state was made.
      for (auto& [n, b] : s.buffers)
        if (b.device() != p.tensor.device() || b.dtype() != p.tensor.dtype())
          b = b.to(p.tensor.dtype()).to(p.tensor.device());
      ++s.step;
      update(g, p, s, effective_lr(gi, pi), *g.weight_decay * p.decay_mult);
    }
  }
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.tensor.zero_grad();
}

// ---------------------------------------------------------------- checkpoints

TensorMap Optimizer::state_dict() const {
  TensorMap m;
  for (const auto& [name, s] : state_)
    for (const auto& [b, t] : s.buffers) m[name + "." + b] = t;
  return m;
}

nlohmann::json Optimizer::state_json() const {
  nlohmann::json j;
  j["type"] = type_;
  j["step"] = step_count_;
  j["lr_factor"] = lr_factor_;
  j["hyper"] = hyper_json();
  j["groups"] = nlohmann::json::array();
  for (const auto& g : groups_) {
    nlohmann::json jg{{"name", g.name}, {"lr", *g.lr}, {"weight_decay", *g.weight_decay}};
    if (g.momentum) jg["momentum"] = *g.momentum;
    jg["params"] = nlohmann::json::array();
    for (const auto& p : g.params)
      jg["params"].push_back({{"name", p.name}, {"lr_mult", p.lr_mult}, {"decay_mult", p.decay_mult}});
    j["groups"].push_back(jg);
  }
  j["param_steps"] = nlohmann::json::object();
  for (const auto& [name, s] : state_) j["param_steps"][name] = s.step;
  return j;
}

void Optimizer::load_state_dict(const TensorMap& tensors, const nlohmann::json& meta) {
  try {
    FCNLAB_CHECK(meta.at("type").get<std::string>() == type_, type_,
                 ".load_state_dict: checkpoint is for optimizer '", meta.at("type").get<std::string>(),
                 "'");
    const auto& jgroups = meta.at("groups");
    FCNLAB_CHECK(jgroups.size() == groups_.size(), type_, ".load_state_dict: checkpoint has ",
                 jgroups.size(), " parameter groups, this optimizer ", groups_.size());
    // Every difference in parameter names, so a user sees the whole picture at once.
    std::vector<std::string> problems;
    std::map<std::string, std::pair<size_t, size_t>> where;  // name -> (group, index)
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const auto& jp = jgroups[gi].at("params");
      const auto& ps = groups_[gi].params;
      std::set<std::string> mine, theirs;
      for (size_t i = 0; i < ps.size(); ++i) {
        mine.insert(ps[i].name);
        where[ps[i].name] = {gi, i};
      }
      for (const auto& p : jp) theirs.insert(p.at("name").get<std::string>());
      for (const auto& n : mine)
        if (!theirs.count(n)) problems.push_back("group " + groups_[gi].name + ": missing " + n);
      for (const auto& n : theirs)
        if (!mine.count(n)) problems.push_back("group " + groups_[gi].name + ": unexpected " + n);
    }
    // State tensors: "<param>.<buffer>", the buffer name has no dot.
    std::map<std::string, TensorMap> buffers;
    for (const auto& [key, t] : tensors) {
      size_t dot = key.rfind('.');
      std::string pname = dot == std::string::npos ? "" : key.substr(0, dot);
      auto w = where.find(pname);
      if (w == where.end()) { problems.push_back("unexpected state tensor " + key); continue; }
      const Tensor& p = groups_[w->second.first].params[w->second.second].tensor;
      if (t.shape() != p.shape()) {
        problems.push_back("state tensor " + key + " expected " + p.shape().str() + ", got " +
                           t.shape().str());
        continue;
      }
      buffers[pname][key.substr(dot + 1)] = t;
    }
    std::map<std::string, int64_t> steps;
    for (const auto& [name, n] : meta.at("param_steps").items()) {
      auto w = where.find(name);
      if (w == where.end()) { problems.push_back("unexpected parameter step " + name); continue; }
      steps[name] = n.get<int64_t>();
      for (const auto& b : buffer_names(groups_[w->second.first]))
        if (!buffers[name].count(b)) problems.push_back("missing state tensor " + name + "." + b);
    }
    for (const auto& [name, bufs] : buffers)
      if (!steps.count(name)) problems.push_back("state tensors for " + name + " but no step count");
    FCNLAB_CHECK(problems.empty(), type_, ".load_state_dict: ", join(problems));

    // All checked: now restore.
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const auto& jg = jgroups[gi];
      ParamGroup& g = groups_[gi];
      g.lr = jg.at("lr").get<double>();
      g.weight_decay = jg.at("weight_decay").get<double>();
      if (g.momentum) g.momentum = jg.at("momentum").get<double>();
      for (const auto& jp : jg.at("params")) {
        ParamInfo& p = g.params[where.at(jp.at("name").get<std::string>()).second];
        p.lr_mult = jp.at("lr_mult").get<double>();
        p.decay_mult = jp.at("decay_mult").get<double>();
      }
    }
    load_hyper_json(meta.at("hyper"));
    step_count_ = meta.at("step").get<int64_t>();
    lr_factor_ = meta.at("lr_factor").get<double>();
    state_.clear();
    for (const auto& [name, n] : steps) {
      const auto [gi, pi] = where.at(name);
      const Tensor& p = groups_[gi].params[pi].tensor;
      ParamState& s = state_[name];
      s.step = n;
      for (const auto& [b, t] : buffers[name]) s.buffers[b] = zeros_like(p).copy_(t);
    }
  } catch (const nlohmann::json::exception& e) {
    FCNLAB_FAIL(type_, ".load_state_dict: malformed optimizer JSON: ", e.what());
  }
}

}  // namespace fcnlab
