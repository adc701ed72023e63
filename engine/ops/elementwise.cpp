// ops/elementwise.cpp — pointwise ops and reductions: shape checks, dispatch, backward rules.
#include "engine/ops/elementwise.h"

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "kernels/cpu/elementwise.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif

namespace fcnlab {

namespace {

Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

Tensor axpby(double alpha, const Tensor& a, double beta, const Tensor& b, const char* op) {
  check_same_shape(a, b, op);
  check_same_device(a, b, op);
  Tensor out = empty_like(a);
  FCNLAB_DISPATCH(a.device(), axpby, alpha, a, beta, b, out);
  return out;
}

struct AxpbyNode final : Node {
  double alpha, beta;
  AxpbyNode(double a, double b) : alpha(a), beta(b) {}
  const char* name() const override { return "add"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_grad(0) ? scale(g, alpha) : Tensor(), needs_grad(1) ? scale(g, beta) : Tensor()};
  }
};

struct MulNode final : Node {
  Tensor a, b;  // saved inputs (detached)
  const char* name() const override { return "mul"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_grad(0) ? mul(g, b) : Tensor(), needs_grad(1) ? mul(g, a) : Tensor()};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct ScaleNode final : Node {
  double alpha;
  explicit ScaleNode(double a) : alpha(a) {}
  const char* name() const override { return "scale"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {scale(g, alpha)}; }
};

struct ReluNode final : Node {
  Tensor y;  // the output (detached), whose sign gives the mask
  const char* name() const override { return "relu"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = empty_like(g);
    FCNLAB_DISPATCH(g.device(), relu_backward, y, g, dx);
    return {dx};
  }
  void release_saved() override { y = Tensor(); }
};

struct SumNode final : Node {
  Shape in_shape;
  double factor;  // 1 for sum, 1/n for mean
  SumNode(Shape s, double f) : in_shape(s), factor(f) {}
  const char* name() const override { return factor == 1.0 ? "sum" : "mean"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // d/dx_i sum = 1: broadcast the scalar gradient back to the input's shape.
    double gv = g.item() * factor;
    return {Tensor::full(in_shape, gv, g.dtype(), g.device())};
  }
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record(axpby(1.0, a, 1.0, b, "add"), std::make_shared<AxpbyNode>(1.0, 1.0), {a, b});
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record(axpby(1.0, a, -1.0, b, "sub"), std::make_shared<AxpbyNode>(1.0, -1.0), {a, b});
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_same_shape(a, b, "mul");
  check_same_device(a, b, "mul");
  Tensor out = empty_like(a);
  FCNLAB_DISPATCH(a.device(), mul, a, b, out);
  if (!any_requires_grad({&a, &b})) return out;
  auto node = std::make_shared<MulNode>();
  node->a = a.detach();
  node->b = b.detach();
  return record(out, node, {a, b});
}

Tensor scale(const Tensor& x, double alpha) {
  Tensor out = empty_like(x);
  FCNLAB_DISPATCH(x.device(), scale_shift, x, alpha, 0.0, out);
  return record(out, std::make_shared<ScaleNode>(alpha), {x});
}

Tensor add_scalar(const Tensor& x, double c) {
  Tensor out = empty_like(x);
  FCNLAB_DISPATCH(x.device(), scale_shift, x, 1.0, c, out);
  return record(out, std::make_shared<ScaleNode>(1.0), {x});
}

Tensor relu(const Tensor& x) {
  Tensor y = empty_like(x);
  FCNLAB_DISPATCH(x.device(), relu_forward, x, y);
  if (!any_requires_grad({&x})) return y;
  auto node = std::make_shared<ReluNode>();
  node->y = y.detach();
  return record(y, node, {x});
}

Tensor sum(const Tensor& x) {
  Tensor out = Tensor::empty({1}, x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), sum_all, x, out);
  return record(out, std::make_shared<SumNode>(x.shape(), 1.0), {x});
}

Tensor mean(const Tensor& x) {
  FCNLAB_CHECK(x.numel() > 0, "mean of an empty tensor");
  Tensor s = Tensor::empty({1}, x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), sum_all, x, s);
  Tensor out = empty_like(s);
  FCNLAB_DISPATCH(x.device(), scale_shift, s, 1.0 / static_cast<double>(x.numel()), 0.0, out);
  return record(out, std::make_shared<SumNode>(x.shape(), 1.0 / static_cast<double>(x.numel())), {x});
}

double sum_of_squares(const Tensor& x) {
  double r = 0.0;
  FCNLAB_DISPATCH(x.device(), sum_of_squares_into, x, r);
  return r;
}

}  // namespace fcnlab
