// ladder/softmax_v2_online.cuh — channel softmax, version 2: the max and the sum in ONE read
// of the column (online softmax: when a larger value arrives, the running sum is rescaled by
// exp(m_old - m_new)), then one read to write y: 2 reads of x instead of 3, and the division
// replaced by a multiplication with 1/z. kernels/cuda/softmax.cuh keeps it for columns of more
// than 32 channels; v3 there (the shipped kernel) reads a column of up to 32 once, into registers.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::ladder {

template <class T>
__global__ void softmax_v2_online(const T* x, int64_t outer, int64_t C, int64_t inner, T* y) {
  for (int64_t pix = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; pix < outer * inner;
       pix += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = (pix / inner) * C * inner + pix % inner;
    double m = static_cast<double>(x[o]), z = 1.0;
    for (int64_t c = 1; c < C; ++c) {
      const double v = static_cast<double>(x[o + c * inner]);
      if (v > m) {
        z = z * exp(m - v) + 1.0;
        m = v;
      } else {
        z += exp(v - m);
      }
    }
    const double inv_z = 1.0 / z;
    for (int64_t c = 0; c < C; ++c) y[o + c * inner] = static_cast<T>(exp(static_cast<double>(x[o + c * inner]) - m) * inv_z);
  }
}

}  // namespace fcnlab::ladder
