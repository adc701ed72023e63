// cuda/lrn.cuh — device code for LRN across channels. One thread per element (n, c, i); the
// window of local_size channels (5 in AlexNet/CaffeNet) is summed directly, in double and in
// the same channel order as kernels/cpu/lrn.cpp, so the results agree to the last bit of
// the double sums. Adjacent threads are adjacent pixels: every channel read is coalesced.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

// scale = k + alpha/n * sum_{window} x^2; y = x * scale^-beta. x, y, scale: (N, C, HW).
template <class T>
__global__ void lrn_forward_kernel(const T* x, int64_t N, int64_t C, int64_t HW, int local_size, double a_over_n,
                                   double beta, double k, T* y, T* scale) {
  const int64_t total = N * C * HW, pre = (local_size - 1) / 2;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % HW, c = (e / HW) % C, n = e / (C * HW);
    const int64_t c0 = c - pre > 0 ? c - pre : 0;
    const int64_t c1 = c - pre + local_size < C ? c - pre + local_size : C;  // exclusive
    double acc = 0.0;
    for (int64_t cc = c0; cc < c1; ++cc) {
      const double v = static_cast<double>(x[(n * C + cc) * HW + i]);
      acc += v * v;
    }
    const double s = k + a_over_n * acc;
    scale[e] = static_cast<T>(s);
    y[e] = static_cast<T>(x[e] * pow(s, -beta));
  }
}

// dx = dy * scale^-beta - coeff * x * sum over the channels cc whose window holds c of
// dy[cc] * x[cc] * scale[cc]^(-beta-1);  coeff = 2 alpha beta / n.
template <class T>
__global__ void lrn_backward_kernel(const T* x, const T* scale, const T* dy, int64_t N, int64_t C, int64_t HW,
                                    int local_size, double beta, double coeff, T* dx) {
  const int64_t total = N * C * HW, pre = (local_size - 1) / 2;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % HW, c = (e / HW) % C, n = e / (C * HW);
    const int64_t c0 = c + pre - local_size + 1 > 0 ? c + pre - local_size + 1 : 0;
    const int64_t c1 = c + pre + 1 < C ? c + pre + 1 : C;  // exclusive
    double acc = 0.0;
    for (int64_t cc = c0; cc < c1; ++cc) {
      const int64_t o = (n * C + cc) * HW + i;
      acc += static_cast<double>(dy[o]) * x[o] * pow(static_cast<double>(scale[o]), -beta - 1.0);
    }
    dx[e] = static_cast<T>(dy[e] * pow(static_cast<double>(scale[e]), -beta) - coeff * x[e] * acc);
  }
}

}  // namespace fcnlab::kernels::cuda
