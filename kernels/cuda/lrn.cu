// cuda/lrn.cu — launchers for local response normalization across channels.
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/lrn.cuh"

namespace fcnlab::kernels::cuda {

void lrn_forward(const Tensor& x, int local_size, double alpha, double beta, double k, Tensor& y,
                 Tensor& scale) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  dispatch_floating(x.dtype(), "lrn", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(lrn_forward_kernel<T>, blocks_for(x.numel(), 256), 256, 0, x.data<T>(), N, C, HW,
                          local_size, alpha / local_size, beta, k, y.data<T>(), scale.data<T>());
  });
}

void lrn_backward(const Tensor& x, const Tensor& scale, const Tensor& dy, int local_size,
                  double alpha, double beta, Tensor& dx) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  dispatch_floating(x.dtype(), "lrn_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(lrn_backward_kernel<T>, blocks_for(x.numel(), 256), 256, 0, x.data<T>(),
                          scale.data<T>(), dy.data<T>(), N, C, HW, local_size, beta,
                          2.0 * alpha * beta / local_size, dx.data<T>());
  });
}

}  // namespace fcnlab::kernels::cuda
