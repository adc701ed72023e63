// ladder/dice_v3_multiblock.cuh — Dice statistics, version 3: each group split over many blocks
// (grid (B, G)), each block reducing by warp shuffles (two barriers, not log2 n), its partials
// summed by a second launch (dice_v3_finish, one block per group). The shipped
// version 4 (loss.cuh dice_forward_kernel) issues 4 elements' loads per thread together and lets
// the last block finish in the same launch, writing the loss too: one launch, no host round trip.
#pragma once
#include <cstdint>

#include "kernels/cuda/reduce.cuh"

namespace fcnlab::ladder {

// partial (G, B, 3): block (b, g) sums {p t, p, t} over its grid-stride share of group g.
template <class T>
__global__ void dice_v3_partial(const T* prob, const T* target, int64_t M, double* partial) {
  __shared__ double scratch[32];
  const int64_t g = blockIdx.y;
  double inter = 0.0, sp = 0.0, st = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < M; i += int64_t(gridDim.x) * blockDim.x) {
    const double p = prob[g * M + i], t = target[g * M + i];
    inter += p * t;
    sp += p;
    st += t;
  }
  inter = kernels::cuda::block_sum(inter, scratch);
  sp = kernels::cuda::block_sum(sp, scratch);
  st = kernels::cuda::block_sum(st, scratch);
  if (threadIdx.x == 0) {
    double* out = partial + (g * gridDim.x + blockIdx.x) * 3;
    out[0] = inter;
    out[1] = sp;
    out[2] = st;
  }
}

// stats (G, 3): block g sums partial (G, B, 3) over B.
__global__ void dice_v3_finish(const double* partial, int B, double* stats) {
  __shared__ double scratch[32];
  const int g = blockIdx.x;
  for (int k = 0; k < 3; ++k) {
    double s = 0.0;
    for (int b = threadIdx.x; b < B; b += blockDim.x) s += partial[(int64_t(g) * B + b) * 3 + k];
    s = kernels::cuda::block_sum(s, scratch);
    if (threadIdx.x == 0) stats[g * 3 + k] = s;
  }
}

}  // namespace fcnlab::ladder
