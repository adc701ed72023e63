// conv2d ladder v4 — v3 with each thread's 8 x 8 register tile split into two 4-wide halves, one
// in each half of the 128 x 128 block tile (gemm.cuh FragmentLayout::split). In v3 thread tx reads
// the 8 B values at tx*8 as two 128-bit shared loads, so neighbouring threads are 32 bytes apart
// and the 8 threads of a load phase hit every bank pair twice: a 2-way conflict on every B read.
// Split, they read at tx*4 and 64 + tx*4: 16 bytes apart, conflict-free. Same arithmetic and
// summation order as v3 (bit-identical results); only where a thread's outputs lie changes. If a
// GPU run shows it faster, it is the next promotion (FragmentLayout's default in gemm.cuh).
#pragma once
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

inline void conv2d_v4_split_fragments(const float* x, const float* w, const float* b, float* y,
                                      const kernels::cuda::ConvGeom& c, cudaStream_t) {
  using namespace kernels::cuda;
  const int crs = c.Cg * c.R * c.S;
  using A = FwdWeightRows<float>;
  using B = FwdImageCols<float>;
  using S = FwdStore<float>;
  run_tiled_gemm<float, A, B, S, FragmentLayout::split>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs,
                                                        A{w, crs, c.Kg}, B{x, c}, S{y, b, c});
}

}  // namespace fcnlab::ladder
