// cuda/pool.cu — launchers for max pooling forward (with argmax) and its gather backward.
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/pool.cuh"

namespace fcnlab::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

PoolGeometry geometry(const Tensor& in, const Tensor& out, const MaxPool2dOptions& o) {
  return PoolGeometry{in.size(0) * in.size(1), static_cast<int>(in.size(2)), static_cast<int>(in.size(3)),
                      static_cast<int>(out.size(2)), static_cast<int>(out.size(3)), o.kernel_h, o.kernel_w,
                      o.stride_h, o.stride_w, o.pad_h, o.pad_w};
}
}  // namespace

void max_pool2d_forward(const Tensor& x, const MaxPool2dOptions& o, Tensor& y, Tensor& argmax) {
  const PoolGeometry g = geometry(x, y, o);
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = y.numel();
    FCNLAB_LAUNCH_CHECKED(max_pool2d_forward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, x.data<T>(), g,
                          y.data<T>(), argmax.data<int32_t>());
  });
}

void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, const MaxPool2dOptions& o,
                         Tensor& dx) {
  const PoolGeometry g = geometry(dx, dy, o);
  dispatch_floating(dy.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = dx.numel();
    FCNLAB_LAUNCH_CHECKED(max_pool2d_backward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, dy.data<T>(),
                          argmax.data<int32_t>(), g, dx.data<T>());
  });
}

}  // namespace fcnlab::kernels::cuda
