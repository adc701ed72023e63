// ladder/softmax_v1_naive.cuh — channel softmax, version 1: the textbook three passes per
// pixel column (max, sum of exp, write with exp again): 3 reads of x per channel and 2 exp.
// One thread per pixel (n, i) of x (N, C, inner); threads of a warp read consecutive pixels.
// Kept as the first rung of the ladder; the production kernel is kernels/cuda/softmax.cuh.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::ladder {

template <class T>
__global__ void softmax_v1_naive(const T* x, int64_t outer, int64_t C, int64_t inner, T* y) {
  for (int64_t pix = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; pix < outer * inner;
       pix += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = (pix / inner) * C * inner + pix % inner;
    double m = static_cast<double>(x[o]);
    for (int64_t c = 1; c < C; ++c) m = fmax(m, static_cast<double>(x[o + c * inner]));
    double z = 0.0;
    for (int64_t c = 0; c < C; ++c) z += exp(static_cast<double>(x[o + c * inner]) - m);
    for (int64_t c = 0; c < C; ++c) y[o + c * inner] = static_cast<T>(exp(static_cast<double>(x[o + c * inner]) - m) / z);
  }
}

}  // namespace fcnlab::ladder
