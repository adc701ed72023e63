// cuda/elementwise.cu — launchers for pointwise ops and reductions.
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/elementwise.cuh"

namespace fcnlab::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;
}

void add(const Tensor& a, const Tensor& b, Tensor& out) { axpby(1.0, a, 1.0, b, out); }

void axpby(double alpha, const Tensor& a, double beta, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "axpby", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = out.numel();
    FCNLAB_LAUNCH_CHECKED(axpby_kernel<T>, blocks_for(n, kThreads), kThreads, 0, static_cast<T>(alpha),
                          a.data<T>(), static_cast<T>(beta), b.data<T>(), out.data<T>(), n);
  });
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "mul", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = out.numel();
    FCNLAB_LAUNCH_CHECKED(mul_kernel<T>, blocks_for(n, kThreads), kThreads, 0, a.data<T>(), b.data<T>(),
                          out.data<T>(), n);
  });
}

void scale_shift(const Tensor& x, double alpha, double beta, Tensor& out) {
  dispatch_floating(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = out.numel();
    FCNLAB_LAUNCH_CHECKED(scale_shift_kernel<T>, blocks_for(n, kThreads), kThreads, 0, x.data<T>(),
                          static_cast<T>(alpha), static_cast<T>(beta), out.data<T>(), n);
  });
}

void relu_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.numel();
    FCNLAB_LAUNCH_CHECKED(relu_forward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, x.data<T>(),
                          y.data<T>(), n);
  });
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  dispatch_floating(y.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = y.numel();
    FCNLAB_LAUNCH_CHECKED(relu_backward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, y.data<T>(),
                          dy.data<T>(), dx.data<T>(), n);
  });
}

namespace {
// Two launches: per-block partial sums (double), then one block sums the partials.
template <class T, bool SQUARE>
void reduce_sum(const Tensor& x, T* out, double* total) {
  const int64_t n = x.numel();
  const unsigned blocks = blocks_for(n, kThreads, 1024);
  Tensor partial = Tensor::empty({blocks}, DType::f64, x.device());
  FCNLAB_LAUNCH_CHECKED((partial_sum_kernel<T, SQUARE>), blocks, kThreads, 0, x.data<T>(), n,
                        partial.data<double>());
  FCNLAB_LAUNCH_CHECKED(finish_sum_kernel<T>, 1, 1024, 0, partial.data<double>(),
                        static_cast<int>(blocks), out, total);
}
}  // namespace

void sum_all(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    reduce_sum<T, false>(x, out.data<T>(), nullptr);
  });
}

void sum_of_squares_into(const Tensor& x, double& result) {
  Tensor total = Tensor::empty({1}, DType::f64, x.device());
  dispatch_floating(x.dtype(), "sum_of_squares", [&](auto tag) {
    using T = decltype(tag);
    reduce_sum<T, true>(x, static_cast<T*>(nullptr), total.data<double>());
  });
  result = total.item();
}

}  // namespace fcnlab::kernels::cuda
