// autograd.h — a dynamic tape. Every differentiable op that sees an input requiring grad
// records a Node on its output: the inputs, what it saved, and its backward rule.
// Tensor::backward() orders the nodes reachable from the output topologically and runs
// their rules in reverse, summing gradients that meet at a tensor used several times.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace fcnlab {

struct Node {
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // grad_output: dLoss/dOutput (same shape as the output). Returns one gradient per input,
  // in the order of `inputs`; an undefined Tensor means "no gradient for this input".
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Frees saved tensors after a backward pass without retain_graph.
  virtual void release_saved() {}

  bool needs_grad(size_t i) const { return inputs[i].defined() && inputs[i].requires_grad(); }

  std::vector<Tensor> inputs;
  bool released = false;
};

// Is recording on in this thread? (Off inside a NoGrad scope and during backward.)
bool grad_enabled();

// RAII: no op records a node while one of these lives (inference, optimizer steps).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool prev_;
};

// True when an op with these inputs should record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Attaches node (with its inputs) to out: out.requires_grad = true, out.grad_fn = node.
// Does nothing when recording is off or no input requires grad. Returns out.
Tensor record(Tensor out, std::shared_ptr<Node> node, std::vector<Tensor> inputs);

// Adds src into dst elementwise (same shape and device). Used to accumulate gradients.
void accumulate_into(Tensor& dst, const Tensor& src);

}  // namespace fcnlab
