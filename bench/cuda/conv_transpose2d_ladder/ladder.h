// conv_transpose2d ladder — every rung, naive to best, behind one table (the simt test and
// fcnlab-convt-ladder walk it). Each entry computes the transposed convolution
// y (N, C, H, W) = conv_transpose2d(x (N, K, P, Q), w (K, C/G, R, S)), no bias, for f32 device
// pointers; ConvGeom is in conv2d's naming (the transposed conv is conv2d's data gradient).
#pragma once
#include "bench/cuda/conv_transpose2d_ladder/v1_scatter_atomic.cuh"
#include "bench/cuda/conv_transpose2d_ladder/v2_gather.cuh"
#include "bench/cuda/conv_transpose2d_ladder/v3_gather_strided.cuh"
#include "bench/cuda/conv_transpose2d_ladder/v4_dense_gemm.cuh"
#include "bench/cuda/conv_transpose2d_ladder/v5_phase_gemm.cuh"

namespace fcnlab::ladder {

struct ConvTRung {
  const char* name;
  void (*run)(const float* x, const float* w, float* y, const ConvGeom& c, cudaStream_t stream);
};

inline constexpr ConvTRung kConvTransposeLadder[] = {
    {"v1_scatter_atomic", convt_v1_scatter_atomic},
    {"v2_gather", convt_v2_gather},
    {"v3_gather_strided", convt_v3_gather_strided},
    {"v4_dense_gemm", convt_v4_dense_gemm},
    {"v5_phase_gemm (shipped)", convt_v5_phase_gemm},
};

}  // namespace fcnlab::ladder
