// ops/pool.cpp — max pooling: option checks, Caffe's output-size rule, dispatch, backward.
#include <limits>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/pool.h"
#include "kernels/cpu/pool.h"

namespace fcnlab {

namespace {

void check_axis(const char* axis, int kernel, int stride, int pad) {
  FCNLAB_CHECK(kernel >= 1, "max_pool2d: kernel_", axis, " must be >= 1, got ", kernel);
  FCNLAB_CHECK(stride >= 1, "max_pool2d: stride_", axis, " must be >= 1, got ", stride);
  // pad <= kernel/2 keeps every window partly inside the input, so padding is never the max.
  FCNLAB_CHECK(pad >= 0 && pad <= kernel / 2, "max_pool2d: pad_", axis,
               " must be in [0, kernel_", axis, "/2] = [0, ", kernel / 2, "], got ", pad);
}

struct MaxPool2dNode final : Node {
  Tensor argmax;  // (N, C, P, Q) i32: h*W + w of each window's maximum
  Shape in_shape;
  MaxPool2dOptions opts;  // the CUDA backward gathers over the windows, so it needs them
  const char* name() const override { return "max_pool2d"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::empty(in_shape, g.dtype(), g.device());
    FCNLAB_DISPATCH(g.device(), max_pool2d_backward, g, argmax, opts, dx);
    return {dx};
  }
  void release_saved() override { argmax = Tensor(); }
};

}  // namespace

int64_t pool_output_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode) {
  FCNLAB_CHECK(kernel >= 1 && stride >= 1 && pad >= 0 && pad <= kernel / 2,
               "pool_output_size: need kernel >= 1, stride >= 1, 0 <= pad <= kernel/2; got kernel ",
               kernel, ", stride ", stride, ", pad ", pad);
  const int64_t span = in + 2 * pad - kernel;  // room for the window to move
  FCNLAB_CHECK(in >= 1 && span >= 0, "pool_output_size: input size ", in, " with pad ", pad,
               " is smaller than the kernel ", kernel, " (output would be empty)");
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // Rounding up may add a window that starts in the right padding; drop it (Caffe, PyTorch).
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& o) {
  check_dims(x, 4, "max_pool2d", "x (N, C, H, W)");
  FCNLAB_CHECK(is_floating(x.dtype()), "max_pool2d: x must be f32 or f64, got ", dtype_name(x.dtype()));
  check_axis("h", o.kernel_h, o.stride_h, o.pad_h);
  check_axis("w", o.kernel_w, o.stride_w, o.pad_w);
  const int64_t H = x.size(2), W = x.size(3);
  FCNLAB_CHECK(H * W <= std::numeric_limits<int32_t>::max(), "max_pool2d: plane of ", H, "x", W,
               " is too large for the i32 argmax");
  FCNLAB_CHECK(H + 2 * o.pad_h >= o.kernel_h && W + 2 * o.pad_w >= o.kernel_w,
               "max_pool2d: input ", x.shape().str(), " with pad (", o.pad_h, ", ", o.pad_w,
               ") is smaller than the kernel (", o.kernel_h, ", ", o.kernel_w,
               "): output size would be <= 0");
  const int64_t P = pool_output_size(H, o.kernel_h, o.stride_h, o.pad_h, o.ceil_mode);
  const int64_t Q = pool_output_size(W, o.kernel_w, o.stride_w, o.pad_w, o.ceil_mode);
  const Shape out_shape{x.size(0), x.size(1), P, Q};
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor argmax = Tensor::empty(out_shape, DType::i32, x.device());
  FCNLAB_DISPATCH(x.device(), max_pool2d_forward, x, o, y, argmax);
  if (!any_requires_grad({&x})) return y;
  auto node = std::make_shared<MaxPool2dNode>();
  node->argmax = argmax;
  node->in_shape = x.shape();
  node->opts = o;
  return record(y, node, {x});
}

}  // namespace fcnlab
