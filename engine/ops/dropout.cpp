// ops/dropout.cpp — inverted dropout: checks, the Philox stream reservation, backward.
// The mask is not stored: forward and backward both apply kernels::*::dropout_apply with the
// same (seed, base), which regenerates it (see kernels/cpu/dropout.h for the rule).
#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/pool.h"
#include "kernels/cpu/dropout.h"

namespace fcnlab {

namespace {

struct DropoutNode final : Node {
  double p;
  uint64_t seed, base;  // where this call's mask lives in the Philox stream
  DropoutNode(double p_, uint64_t s, uint64_t b) : p(p_), seed(s), base(b) {}
  const char* name() const override { return "dropout"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // y = x * m / (1 - p) is linear in x with a diagonal Jacobian: dx = dy * m / (1 - p).
    Tensor dx = Tensor::empty(g.shape(), g.dtype(), g.device());
    FCNLAB_DISPATCH(g.device(), dropout_apply, g, p, seed, base, dx);
    return {dx};
  }
};

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  FCNLAB_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
  FCNLAB_CHECK(is_floating(x.dtype()), "dropout: x must be f32 or f64, got ", dtype_name(x.dtype()));
  if (!training || p == 0.0) return x;  // identity; draws nothing from gen
  const uint64_t seed = gen.seed();
  const uint64_t base = gen.reserve(static_cast<uint64_t>(x.numel()));
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), dropout_apply, x, p, seed, base, y);
  return record(y, std::make_shared<DropoutNode>(p, seed, base), {x});
}

}  // namespace fcnlab
