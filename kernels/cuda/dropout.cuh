// cuda/dropout.cuh — device code for inverted dropout. The mask is the rule of
// kernels/cpu/dropout.h, evaluated with the very same host+device Philox of engine/rng.h, so
// the CPU and the GPU drop exactly the same elements. One
// element per thread (grid-stride); the 4-word Philox block is recomputed per element.
#pragma once
#include <cstdint>

#include "engine/rng.h"
#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

// out[i] = (philox_uniform(seed, base + i) < p) ? 0 : x[i] * keep_scale, i in [0, n).
template <class T>
__global__ void dropout_kernel(const T* x, double p, uint64_t seed, uint64_t base, T keep_scale, T* out,
                               int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const bool dropped = static_cast<double>(philox_uniform(seed, base + static_cast<uint64_t>(i))) < p;
    out[i] = dropped ? T(0) : x[i] * keep_scale;
  }
}

}  // namespace fcnlab::kernels::cuda
