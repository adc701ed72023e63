// conv2d ladder v7 — v3 with each thread's four weights of a K slice fetched as one 16-byte load
// (gemm.cuh's `vec4` loaders) instead of four 4-byte ones, wherever the weight rows allow it
// (Cg * R * S a multiple of 4, 16-byte aligned: every VGG layer but conv1_1). A warp's weight
// loads were 16 rows x 8 floats, each 128-byte line requested four times by four instructions;
// now one instruction requests each line once. A quarter of the A-side load instructions, the
// same values in the same order: bit-identical to v3. This is what the engine ships for the
// implicit GEMM (and for the A side of the Winograd, weight-gradient and matrix GEMMs); a GPU run
// of this ladder shows whether it beats v3 (nvcc's register count, 127-138, sits at the
// 128-register line where 2 blocks per SM become 1, so occupancy can move either way).
#pragma once
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

inline void conv2d_v7_vector_weights(const float* x, const float* w, const float* b, float* y,
                                     const kernels::cuda::ConvGeom& c, cudaStream_t) {
  using namespace kernels::cuda;
  const int crs = c.Cg * c.R * c.S;
  run_tiled_gemm<float>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs,
                        FwdWeightRows<float>{w, crs, c.Kg, rows_vec4(w, crs)}, FwdImageCols<float>{x, c},
                        FwdStore<float>{y, b, c});
}

}  // namespace fcnlab::ladder
