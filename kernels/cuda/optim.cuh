// cuda/optim.cuh — device code for the fused optimizer updates: one thread per parameter
// element reads p, g and the state once and writes them back once (SGD with momentum:
// 3 reads + 2 writes; Adam: 4 reads + 3 writes), with the arithmetic of kernels/cpu/optim.cpp
// in the parameter's type and the same operation order.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

template <class T>
__device__ __forceinline__ T sqrt_in(T v) {
  if constexpr (sizeof(T) == 4) return sqrtf(v);
  else return sqrt(v);
}

// d = g + wd p; buf = first ? d : mu buf + damp d; d = nesterov ? d + mu buf : buf; p -= lr d.
// buf == nullptr: plain SGD (momentum 0).
template <class T>
__global__ void sgd_update_kernel(T* p, const T* g, T* buf, bool use_wd, T wd, T mu, T damp, T lr, bool nesterov,
                                  bool first_step, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T pi = p[i];
    T d = g[i];
    if (use_wd) d += wd * pi;
    if (buf) {
      const T b = first_step ? d : mu * buf[i] + damp * d;
      buf[i] = b;
      d = nesterov ? d + mu * b : b;
    }
    p[i] = pi - lr * d;
  }
}

// Adam / AdamW at one step; decay = 1 - lr wd (AdamW), step_size = lr / (1 - b1^t),
// bc2s = sqrt(1 - b2^t).
template <class T>
__global__ void adam_update_kernel(T* p, const T* g, T* m, T* v, T b1, T b2, bool use_wd, bool decoupled, T wd,
                                   T decay, T step_size, T bc2s, T eps, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T pi = p[i], gi = g[i];
    if (use_wd) {
      if (decoupled) pi *= decay;
      else gi += wd * pi;
    }
    const T mi = b1 * m[i] + (T(1) - b1) * gi;
    const T vi = b2 * v[i] + (T(1) - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (sqrt_in(vi) / bc2s + eps);
  }
}

}  // namespace fcnlab::kernels::cuda
