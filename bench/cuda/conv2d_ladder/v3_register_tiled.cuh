// conv2d ladder v3 — register-tiled, double-buffered implicit GEMM: the rung promoted into
// kernels/cuda (gemm.cuh's tiled_gemm_kernel with conv2d.cuh's gathers; this file only launches
// it, with the weights read 4 bytes at a time as before v7). f32: 128 x 128 x 8 block tiles, 256 threads, each holding an 8 x 8 accumulator in
// registers, so per k a thread does 64 FMAs for 16 shared loads (v2: 1 FMA per 2); the global
// gathers of slice t+1 are in flight while slice t is multiplied (two shared buffers, one
// barrier per slice); split-K when the output tiles alone cannot fill the SMs.
#pragma once
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

inline void conv2d_v3_register_tiled(const float* x, const float* w, const float* b, float* y,
                                     const ConvGeom& c, cudaStream_t) {
  using namespace kernels::cuda;
  const int crs = c.Cg * c.R * c.S;
  run_tiled_gemm<float>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs, FwdWeightRows<float>{w, crs, c.Kg},
                        FwdImageCols<float>{x, c}, FwdStore<float>{y, b, c});
}

}  // namespace fcnlab::ladder
