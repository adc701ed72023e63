// cuda/reduce.cuh — warp and block reductions by shuffles, shared by every reducing kernel.
#pragma once
#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

// Sum over the 32 lanes of a warp; every lane gets the total.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); thread 0 gets the total.
// `scratch` holds 32 values of T in shared memory. Every thread of the block must call it.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x / 32;
  v = threadIdx.x < warps ? scratch[lane] : T(0);
  if (warp == 0) v = warp_sum(v);
  __syncthreads();  // scratch may be reused by the caller
  return v;
}

}  // namespace fcnlab::kernels::cuda
