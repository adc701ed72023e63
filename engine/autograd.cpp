// autograd.cpp — recording and the reverse pass.
#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace fcnlab {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = prev_; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, std::shared_ptr<Node> node, std::vector<Tensor> inputs) {
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  node->inputs = std::move(inputs);
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::move(node);
  return out;
}

void accumulate_into(Tensor& dst, const Tensor& src) {
  NoGrad guard;
  dst = add(dst, src);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  FCNLAB_CHECK(requires_grad(), "backward(): this tensor (shape ", shape().str(),
               ") does not require grad: no input of the computation had requires_grad set");
  Tensor g0;
  if (seed.defined()) {
    FCNLAB_CHECK(seed.shape() == shape(), "backward(): seed gradient has shape ", seed.shape().str(),
                 ", expected the output's shape ", shape().str());
    g0 = seed.to(device()).to(dtype());
  } else {
    FCNLAB_CHECK(numel() == 1, "backward(): output has shape ", shape().str(),
                 "; only a one-element output gets the implicit seed 1, pass a seed gradient");
    g0 = Tensor::ones(shape(), dtype(), device());
  }

  NoGrad guard;  // backward rules are not themselves recorded
  if (is_leaf()) {
    Tensor self = *this;
    Tensor g = grad();
    if (g.defined()) accumulate_into(g, g0); else g = g0.clone();
    self.set_grad(g);
    return;
  }

  // Topological order by iterative depth-first search over grad_fn edges.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{grad_fn().get(), 0}};
  seen.insert(grad_fn().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.grad_fn() && !seen.count(in.grad_fn().get())) {
        seen.insert(in.grad_fn().get());
        stack.push_back({in.grad_fn().get(), 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[grad_fn().get()] = g0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = grads.find(node);
    if (found == grads.end()) continue;  // no gradient flowed here
    FCNLAB_CHECK(!node->released, "backward(): the graph through '", node->name(),
                 "' was already freed by an earlier backward(); call backward(seed, "
                 "/*retain_graph=*/true) the first time to go through it twice");
    Tensor g = std::move(found->second);
    grads.erase(found);
    std::vector<Tensor> in_grads = node->backward(g);
    FCNLAB_CHECK(in_grads.size() == node->inputs.size(), "autograd: node '", node->name(),
                 "' returned ", in_grads.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      if (!node->needs_grad(i) || !in_grads[i].defined()) continue;
      Tensor in = node->inputs[i];
      FCNLAB_CHECK(in_grads[i].shape() == in.shape(), "autograd: node '", node->name(),
                   "' gave a gradient of shape ", in_grads[i].shape().str(), " for input ", i,
                   " of shape ", in.shape().str());
      if (in.grad_fn()) {
        auto [slot, inserted] = grads.try_emplace(in.grad_fn().get(), in_grads[i]);
        if (!inserted) accumulate_into(slot->second, in_grads[i]);
      } else {
        Tensor acc = in.grad();
        if (acc.defined()) accumulate_into(acc, in_grads[i]); else acc = in_grads[i].clone();
        in.set_grad(acc);
      }
    }
    if (!retain_graph) {
      node->release_saved();
      node->released = true;
    }
  }
}

}  // namespace fcnlab
