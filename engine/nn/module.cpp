// nn/module.cpp — registration, dotted-name traversal, moves in place, state_dict loading.
#include "engine/nn/module.h"

#include <set>

namespace fcnlab {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

std::string dotted(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Points the existing TensorImpl at `src`'s storage (same shape), keeping its identity and
// autograd flags. Used by to(Device) and to(DType).
void rebind_storage(Tensor& t, const Tensor& src) {
  if (src.same(t)) return;
  TensorImpl& im = t.impl();
  im.storage = src.impl().storage;
  im.offset_bytes = src.impl().offset_bytes;
  im.dtype = src.dtype();
}

}  // namespace

std::string LoadReport::str() const {
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back("missing keys: " + join(missing));
  if (!unexpected.empty()) parts.push_back("unexpected keys: " + join(unexpected));
  if (!mismatched.empty()) parts.push_back("shape mismatch: " + join(mismatched));
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "; " : "") + parts[i];
  return s;
}

Tensor Module::forward(const Tensor&) {
  FCNLAB_FAIL(type_name(), ": this module has no single-input forward(); call its own methods");
}

// ---------------------------------------------------------------- registration

void Module::check_new_name(const std::string& name, const char* what) const {
  FCNLAB_CHECK(!name.empty(), type_name(), ": ", what, " name must not be empty");
  FCNLAB_CHECK(name.find('.') == std::string::npos, type_name(), ": ", what, " name '", name,
               "' must not contain '.' (dots separate module levels)");
  for (const auto& p : params_)
    FCNLAB_CHECK(p.name != name, type_name(), ": name '", name, "' is already a parameter");
  for (const auto& [n, b] : buffers_)
    FCNLAB_CHECK(n != name, type_name(), ": name '", name, "' is already a buffer");
  for (const auto& [n, c] : children_)
    FCNLAB_CHECK(n != name, type_name(), ": name '", name, "' is already a child module");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, double lr_mult,
                                  double decay_mult) {
  check_new_name(name, "parameter");
  FCNLAB_CHECK(t.defined(), type_name(), ": parameter '", name, "' is an undefined tensor");
  FCNLAB_CHECK(t.is_leaf(), type_name(), ": parameter '", name,
               "' must be a leaf tensor (detach() it first)");
  t.set_requires_grad(true);
  params_.push_back({name, t, lr_mult, decay_mult});
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  FCNLAB_CHECK(t.defined(), type_name(), ": buffer '", name, "' is an undefined tensor");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "child module");
  FCNLAB_CHECK(m != nullptr, type_name(), ": child module '", name, "' is null");
  FCNLAB_CHECK(m.get() != this, type_name(), ": a module cannot be its own child");
  children_.emplace_back(name, std::move(m));
}

// ---------------------------------------------------------------- lookup

std::shared_ptr<Module> Module::child(const std::string& path) const {
  const Module* cur = this;
  std::shared_ptr<Module> found;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    found = nullptr;
    for (const auto& [n, c] : cur->children_)
      if (n == part) found = c;
    if (!found) return nullptr;
    cur = found.get();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return found;
}

const ParamInfo* Module::find_param(const std::string& path) const {
  size_t dot = path.rfind('.');
  const Module* owner = this;
  std::shared_ptr<Module> keep;
  if (dot != std::string::npos) {
    keep = child(path.substr(0, dot));
    if (!keep) return nullptr;
    owner = keep.get();
  }
  std::string local = dot == std::string::npos ? path : path.substr(dot + 1);
  for (const auto& p : owner->params_)
    if (p.name == local) return &p;
  return nullptr;
}

ParamInfo* Module::find_param(const std::string& path) {
  return const_cast<ParamInfo*>(static_cast<const Module*>(this)->find_param(path));
}

bool Module::has_parameter(const std::string& path) const { return find_param(path) != nullptr; }

ParamInfo& Module::param_info(const std::string& path) {
  ParamInfo* p = find_param(path);
  FCNLAB_CHECK(p, type_name(), ": no parameter named '", path, "'");
  return *p;
}

Tensor Module::buffer(const std::string& path) {
  for (auto& [n, b] : named_buffers())
    if (n == path) return b;
  FCNLAB_FAIL(type_name(), ": no buffer named '", path, "'");
}

void Module::set_param_mults(const std::string& path, double lr_mult, double decay_mult) {
  ParamInfo& p = param_info(path);
  p.lr_mult = lr_mult;
  p.decay_mult = decay_mult;
}

void Module::set_mults_by_local_name(const std::string& local_name, double lr_mult,
                                     double decay_mult) {
  for (auto& p : params_)
    if (p.name == local_name) {
      p.lr_mult = lr_mult;
      p.decay_mult = decay_mult;
    }
  for (auto& [n, c] : children_) c->set_mults_by_local_name(local_name, lr_mult, decay_mult);
}

// ---------------------------------------------------------------- enumeration

void Module::collect_params(const std::string& prefix, std::vector<ParamInfo>& out) const {
  for (const auto& p : params_) {
    ParamInfo q = p;
    q.name = dotted(prefix, p.name);
    out.push_back(std::move(q));
  }
  for (const auto& [n, c] : children_) c->collect_params(dotted(prefix, n), out);
}

void Module::collect_buffers(const std::string& prefix,
                             std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, b] : buffers_) out.emplace_back(dotted(prefix, n), b);
  for (const auto& [n, c] : children_) c->collect_buffers(dotted(prefix, n), out);
}

std::vector<ParamInfo> Module::named_parameters() const {
  std::vector<ParamInfo> out;
  collect_params("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& p : named_parameters()) out.push_back(p.tensor);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_buffers("", out);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [n, c] : children_)
    for (auto& [sub, m] : c->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& p : named_parameters())
    if (!trainable_only || p.tensor.requires_grad()) n += p.tensor.numel();
  return n;
}

// ---------------------------------------------------------------- mode and placement

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [n, c] : children_) c->train(on);
}

template <class F>
void Module::for_each_tensor(F&& f) {
  for (auto& p : params_) {
    f(p.tensor);
    Tensor g = p.tensor.grad();
    if (g.defined()) {
      f(g);
      p.tensor.set_grad(g);
    }
  }
  for (auto& [n, b] : buffers_) f(b);
}

void Module::to(Device device) {
  for_each_tensor([&](Tensor& t) { rebind_storage(t, t.to(device)); });
  for (auto& [n, c] : children_) c->to(device);
}

void Module::to(DType dtype) {
  FCNLAB_CHECK(is_floating(dtype), type_name(), ".to(): parameters need a floating dtype, got ",
               dtype_name(dtype));
  for_each_tensor([&](Tensor& t) {
    if (is_floating(t.dtype())) rebind_storage(t, t.to(dtype));
  });
  for (auto& [n, c] : children_) c->to(dtype);
}

void Module::zero_grad() {
  for (auto& p : params_) p.tensor.zero_grad();
  for (auto& [n, c] : children_) c->zero_grad();
}

void Module::set_requires_grad(bool on) {
  for (auto& p : params_) p.tensor.set_requires_grad(on);
  for (auto& [n, c] : children_) c->set_requires_grad(on);
}

// ---------------------------------------------------------------- checkpoints

TensorMap Module::state_dict() const {
  TensorMap m;
  for (const auto& p : named_parameters()) m[p.name] = p.tensor;
  for (const auto& [n, b] : named_buffers()) m[n] = b;
  return m;
}

LoadReport Module::load_state_dict(const TensorMap& state, bool strict) {
  LoadReport r;
  // Module order for missing/mismatched (as a user reads the model), map order for unexpected.
  std::vector<std::pair<std::string, Tensor>> mine;
  for (const auto& p : named_parameters()) mine.emplace_back(p.name, p.tensor);
  for (const auto& nb : named_buffers()) mine.push_back(nb);
  std::set<std::string> known;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  for (auto& [name, dst] : mine) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      r.missing.push_back(name);
    } else if (!it->second.defined() || it->second.shape() != dst.shape()) {
      r.mismatched.push_back(name + " expected " + dst.shape().str() + ", got " +
                             (it->second.defined() ? it->second.shape().str() : "undefined"));
    } else {
      copies.emplace_back(dst, it->second);
      r.loaded.push_back(name);
    }
  }
  for (const auto& [name, t] : state)
    if (!known.count(name)) r.unexpected.push_back(name);
  FCNLAB_CHECK(!strict || r.ok(), "load_state_dict: ", r.str());
  for (auto& [dst, src] : copies) dst.copy_(src);
  return r;
}

// ---------------------------------------------------------------- summary

void Module::summary_into(const std::string& name, int depth, std::string& out) const {
  std::string indent(static_cast<size_t>(2 * depth), ' ');
  out += indent + (name.empty() ? std::string("(root)") : name) + " (" + type_name() + ")";
  for (const auto& p : params_) {
    out += "  " + p.name + " " + p.tensor.shape().str();
    if (!p.tensor.requires_grad()) out += " fixed";
  }
  out += "\n";
  for (const auto& [n, c] : children_) c->summary_into(n, depth + 1, out);
}

std::string Module::summary() const {
  std::string out;
  summary_into("", 0, out);
  out += "parameters: " + std::to_string(num_parameters()) + " (" +
         std::to_string(num_parameters(true)) + " trainable)\n";
  return out;
}

// ---------------------------------------------------------------- Sequential

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) add(std::move(m));
}

Module& Sequential::operator[](size_t i) const {
  FCNLAB_CHECK(i < children().size(), "Sequential: index ", i, " out of range (size ",
               children().size(), ")");
  return *children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [n, c] : children()) y = c->forward(y);
  return y;
}

}  // namespace fcnlab
