// ops/lrn.cpp — local response normalization across channels (CaffeNet's norm1/norm2 in
// FCN-AlexNet, GoogLeNet's pool1/norm1 and conv2/norm2): checks, dispatch, backward.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/pool.h"
#include "kernels/cpu/lrn.h"

namespace fcnlab {

namespace {

struct LrnNode final : Node {
  LrnOptions o;
  Tensor x, scale;  // saved (detached): the input and k + alpha/n * window sum of squares
  const char* name() const override { return "lrn"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::empty(x.shape(), g.dtype(), g.device());
    FCNLAB_DISPATCH(g.device(), lrn_backward, x, scale, g, o.local_size, o.alpha, o.beta, dx);
    return {dx};
  }
  void release_saved() override { x = scale = Tensor(); }
};

}  // namespace

Tensor lrn(const Tensor& x, const LrnOptions& o) {
  check_dims(x, 4, "lrn", "x (N, C, H, W)");
  FCNLAB_CHECK(is_floating(x.dtype()), "lrn: x must be f32 or f64, got ", dtype_name(x.dtype()));
  FCNLAB_CHECK(o.local_size >= 1, "lrn: local_size must be >= 1, got ", o.local_size);
  FCNLAB_CHECK(o.k > 0.0, "lrn: k must be > 0 (the scale is raised to -beta), got ", o.k);
  FCNLAB_CHECK(o.alpha >= 0.0, "lrn: alpha must be >= 0, got ", o.alpha);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor scale = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() > 0)
    FCNLAB_DISPATCH(x.device(), lrn_forward, x, o.local_size, o.alpha, o.beta, o.k, y, scale);
  if (!any_requires_grad({&x})) return y;
  auto node = std::make_shared<LrnNode>();
  node->o = o;
  node->x = x.detach();
  node->scale = scale;
  return record(y, node, {x});
}

}  // namespace fcnlab
