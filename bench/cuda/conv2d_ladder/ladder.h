// conv2d forward ladder — every rung, naive to best, behind one table (tests and the timing
// harness walk it). Each entry computes y = conv(x, w) + b for f32 device pointers.
#pragma once
#include "bench/cuda/conv2d_ladder/v1_naive.cuh"
#include "bench/cuda/conv2d_ladder/v2_smem_tiled.cuh"
#include "bench/cuda/conv2d_ladder/v3_register_tiled.cuh"
#include "bench/cuda/conv2d_ladder/v4_split_fragments.cuh"
#include "bench/cuda/conv2d_ladder/v5_tap_table.cuh"
#include "bench/cuda/conv2d_ladder/v6_winograd.cuh"
#include "bench/cuda/conv2d_ladder/v7_vector_weights.cuh"

namespace fcnlab::ladder {

struct Rung {
  const char* name;
  void (*run)(const float* x, const float* w, const float* b, float* y, const ConvGeom& c,
              cudaStream_t stream);
  bool (*applies)(const ConvGeom& c) = nullptr;  // null: every shape
};

inline constexpr Rung kConvLadder[] = {
    {"v1_naive", conv2d_v1_naive},
    {"v2_smem_tiled", conv2d_v2_smem_tiled},
    {"v3_register_tiled", conv2d_v3_register_tiled},  // shipped until v7
    {"v4_split_fragments", conv2d_v4_split_fragments},
    {"v5_tap_table", conv2d_v5_tap_table},
    {"v6_winograd", conv2d_v6_winograd, conv2d_v6_applies},  // shipped for wide 3x3 stride-1 layers
    {"v7_vector_weights", conv2d_v7_vector_weights},  // shipped (the implicit GEMM)
};

}  // namespace fcnlab::ladder
