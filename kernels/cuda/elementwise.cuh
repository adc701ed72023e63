// cuda/elementwise.cuh — device code for pointwise ops (grid-stride loops) and reductions
// (per-block partial sums in double, reduced by warp shuffles; a second launch sums blocks).
#pragma once
#include <cstdint>

#include "kernels/cuda/reduce.cuh"

namespace fcnlab::kernels::cuda {

template <class T>
__global__ void axpby_kernel(T alpha, const T* a, T beta, const T* b, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = alpha * a[i] + beta * b[i];
}

template <class T>
__global__ void mul_kernel(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = a[i] * b[i];
}

template <class T>
__global__ void scale_shift_kernel(const T* x, T alpha, T beta, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = alpha * x[i] + beta;
}

template <class T>
__global__ void relu_forward_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
__global__ void relu_backward_kernel(const T* y, const T* dy, T* dx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = y[i] > T(0) ? dy[i] : T(0);
}

// partial[blockIdx.x] = sum over this block's grid-stride share of x (squared when SQUARE).
template <class T, bool SQUARE>
__global__ void partial_sum_kernel(const T* x, int64_t n, double* partial) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    double v = static_cast<double>(x[i]);
    s += SQUARE ? v * v : v;
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// One block: out[0] = (T) sum(partial[0..m)), and total[0] = the double sum.
template <class T>
__global__ void finish_sum_kernel(const double* partial, int m, T* out, double* total) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < m; i += blockDim.x) s += partial[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    if (out) out[0] = static_cast<T>(s);
    if (total) total[0] = s;
  }
}

}  // namespace fcnlab::kernels::cuda
