// ops/softmax.cpp — channel softmax / log_softmax, select_channel, argmax_channels, sigmoid:
// checks, dispatch, backward rules. (The losses are in ops/loss.cpp.)
#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/loss.h"
#include "kernels/cpu/softmax.h"

namespace fcnlab {

namespace {

Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

// x must be floating, (N, C, ...) with at least one channel.
void check_channel_input(const Tensor& x, const char* op) {
  FCNLAB_CHECK(x.defined(), op, ": input tensor is undefined");
  FCNLAB_CHECK(x.dim() >= 2, op, ": x must be (N, C) or (N, C, H, W), got shape ", x.shape().str());
  FCNLAB_CHECK(x.size(1) >= 1, op, ": x must have at least one channel, got shape ", x.shape().str());
  FCNLAB_CHECK(is_floating(x.dtype()), op, ": x must be f32 or f64, got ", dtype_name(x.dtype()));
}

// (N, C, rest...) -> (N, rest...)
Shape without_channels(const Shape& s) {
  std::vector<int64_t> d = s.vec();
  d.erase(d.begin() + 1);
  return Shape(d);
}

struct SoftmaxNode final : Node {
  Tensor y;  // the output (detached): the Jacobian is written in terms of it
  bool log_space;
  explicit SoftmaxNode(bool log) : log_space(log) {}
  const char* name() const override { return log_space ? "log_softmax" : "softmax"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = empty_like(y);
    if (log_space) {
      FCNLAB_DISPATCH(g.device(), log_softmax_backward, y, g, dx);
    } else {
      FCNLAB_DISPATCH(g.device(), softmax_backward, y, g, dx);
    }
    return {dx};
  }
  void release_saved() override { y = Tensor(); }
};

struct SelectChannelNode final : Node {
  Shape in_shape;
  int64_t c;
  SelectChannelNode(Shape s, int64_t ch) : in_shape(s), c(ch) {}
  const char* name() const override { return "select_channel"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::empty(in_shape, g.dtype(), g.device());
    FCNLAB_DISPATCH(g.device(), select_channel_backward, g, c, dx);
    return {dx};
  }
};

struct SigmoidNode final : Node {
  Tensor y;  // the output (detached): dy/dx = y (1 - y)
  const char* name() const override { return "sigmoid"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = empty_like(g);
    FCNLAB_DISPATCH(g.device(), sigmoid_backward, y, g, dx);
    return {dx};
  }
  void release_saved() override { y = Tensor(); }
};

Tensor softmax_common(const Tensor& x, bool log_space) {
  const char* op = log_space ? "log_softmax" : "softmax";
  check_channel_input(x, op);
  Tensor y = empty_like(x);
  if (log_space) {
    FCNLAB_DISPATCH(x.device(), log_softmax_forward, x, y);
  } else {
    FCNLAB_DISPATCH(x.device(), softmax_forward, x, y);
  }
  if (!any_requires_grad({&x})) return y;
  auto node = std::make_shared<SoftmaxNode>(log_space);
  node->y = y.detach();
  return record(y, node, {x});
}

}  // namespace

Tensor softmax(const Tensor& x) { return softmax_common(x, false); }

Tensor log_softmax(const Tensor& x) { return softmax_common(x, true); }

Tensor select_channel(const Tensor& x, int64_t c) {
  check_channel_input(x, "select_channel");
  FCNLAB_CHECK(c >= 0 && c < x.size(1), "select_channel: channel ", c, " out of range [0, ",
               x.size(1), ") for x of shape ", x.shape().str());
  Tensor y = Tensor::empty(without_channels(x.shape()), x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), select_channel_forward, x, c, y);
  return record(y, std::make_shared<SelectChannelNode>(x.shape(), c), {x});
}

Tensor argmax_channels(const Tensor& x) {
  check_channel_input(x, "argmax_channels");
  Tensor out = Tensor::empty(without_channels(x.shape()), DType::i32, x.device());
  FCNLAB_DISPATCH(x.device(), argmax_channels, x, out);
  return out;  // never recorded: an index has no gradient
}

Tensor sigmoid(const Tensor& x) {
  FCNLAB_CHECK(x.defined(), "sigmoid: input tensor is undefined");
  FCNLAB_CHECK(is_floating(x.dtype()), "sigmoid: x must be f32 or f64, got ", dtype_name(x.dtype()));
  Tensor y = empty_like(x);
  FCNLAB_DISPATCH(x.device(), sigmoid_forward, x, y);
  if (!any_requires_grad({&x})) return y;
  auto node = std::make_shared<SigmoidNode>();
  node->y = y.detach();
  return record(y, node, {x});
}

}  // namespace fcnlab
