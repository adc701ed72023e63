// cuda/dropout.cu — launcher for the Philox dropout mask (rule in kernels/cpu/dropout.h).
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dropout.cuh"

namespace fcnlab::kernels::cuda {

void dropout_apply(const Tensor& x, double p, uint64_t seed, uint64_t base, Tensor& out) {
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    // p == 1 drops everything (u < 1 always), so the survivor scale is never used.
    const T keep_scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
    const int64_t n = x.numel();
    FCNLAB_LAUNCH_CHECKED(dropout_kernel<T>, blocks_for(n, 256), 256, 0, x.data<T>(), p, seed, base, keep_scale,
                          out.data<T>(), n);
  });
}

}  // namespace fcnlab::kernels::cuda
