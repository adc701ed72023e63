// ladder/dice_v2_block_reduce.cuh — Dice statistics, version 2: one BLOCK per group; each
// thread sums a strided share (coalesced), then a shared-memory tree halves the block's
// partial sums with a __syncthreads() per level (log2(blockDim) barriers). Still one block per
// image, so a batch of 1 uses one SM. Version 3 (dice_v3_multiblock.cuh) splits each group
// over many blocks and reduces within a block by warp shuffles (two barriers, not log2 n).
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::ladder {

// grid G blocks; blockDim.x a power of two <= 256. stats (G, 3).
template <class T>
__global__ void dice_v2_block_reduce(const T* prob, const T* target, int64_t M, double* stats) {
  __shared__ double sh[3][256];
  const int64_t g = blockIdx.x;
  double inter = 0.0, sp = 0.0, st = 0.0;
  for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
    const double p = prob[g * M + i], t = target[g * M + i];
    inter += p * t;
    sp += p;
    st += t;
  }
  sh[0][threadIdx.x] = inter;
  sh[1][threadIdx.x] = sp;
  sh[2][threadIdx.x] = st;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half)
      for (int k = 0; k < 3; ++k) sh[k][threadIdx.x] += sh[k][threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    for (int k = 0; k < 3; ++k) stats[g * 3 + k] = sh[k][0];
}

}  // namespace fcnlab::ladder
