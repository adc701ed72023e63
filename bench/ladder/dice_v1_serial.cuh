// ladder/dice_v1_serial.cuh — Dice statistics, version 1: one thread per group walks its M
// elements ({sum p t, sum p, sum t} in double). Correct and trivially deterministic, but a
// batch of G images keeps only G threads busy: the baseline the next rungs improve on.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::ladder {

// stats (G, 3). Launch with G threads in total (any block shape).
template <class T>
__global__ void dice_v1_serial(const T* prob, const T* target, int64_t G, int64_t M, double* stats) {
  const int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (g >= G) return;  // no barrier in this kernel: an early exit is fine
  double inter = 0.0, sp = 0.0, st = 0.0;
  for (int64_t i = g * M; i < (g + 1) * M; ++i) {
    const double p = prob[i], t = target[i];
    inter += p * t;
    sp += p;
    st += t;
  }
  stats[g * 3 + 0] = inter;
  stats[g * 3 + 1] = sp;
  stats[g * 3 + 2] = st;
}

}  // namespace fcnlab::ladder
