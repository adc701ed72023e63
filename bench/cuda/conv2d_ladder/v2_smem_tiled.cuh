// conv2d ladder v2 — shared-memory tiled implicit GEMM: the convolution as
// y[g] (Kg x N*P*Q) = w[g] (Kg x Cg*R*S) * im2col(x)[g], with im2col never materialized.
// A 16 x 16 block computes a 16 x 16 output tile, one output per thread; per step it stages a
// 16 x 16 slice of the weights and of the gathered image columns in shared memory, so each
// global load now feeds 16 FMAs instead of 1. Still one FMA per two shared loads: the next rung
// moves the reuse into registers.
#pragma once
#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

constexpr int kV2Tile = 16;

__global__ void conv2d_v2_smem_kernel(const float* x, const float* w, const float* b, float* y,
                                      ConvGeom c) {
  constexpr int T = kV2Tile;
  __shared__ float As[T][T + 1];  // [m][k] weights
  __shared__ float Bs[T][T + 1];  // [k][n] image columns
  const int g = blockIdx.z;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m = blockIdx.y * T + ty;   // output channel within the group
  const int j = blockIdx.x * T + tx;   // column (n, p, q)
  const int Kdim = c.Cg * c.R * c.S, Ncols = c.N * c.P * c.Q;
  const kernels::cuda::FwdWeightRows<float> A{w, Kdim, c.Kg};
  const kernels::cuda::FwdImageCols<float> B{x, c};
  // The thread loading Bs[ty][tx] reads column j (its own), row k0 + ty.
  const auto bctx = B.col(g, j < Ncols ? j : 0);
  // The thread loading As[ty][tx] reads row m (its own), column k0 + tx.
  const float* arow = A.row(g, m < c.Kg ? m : 0);
  float acc = 0.f;
  for (int k0 = 0; k0 < Kdim; k0 += T) {
    As[ty][tx] = (m < c.Kg && k0 + tx < Kdim) ? A.load(arow, k0 + tx) : 0.f;
    Bs[ty][tx] = (j < Ncols && k0 + ty < Kdim) ? B.load(bctx, k0 + ty) : 0.f;
    __syncthreads();
    for (int k = 0; k < T; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (m < c.Kg && j < Ncols) kernels::cuda::FwdStore<float>{y, b, c}(g, m, j, acc);
}

inline void conv2d_v2_smem_tiled(const float* x, const float* w, const float* b, float* y,
                                 const ConvGeom& c, cudaStream_t stream) {
  const int64_t cols = int64_t(c.N) * c.P * c.Q;
  const dim3 grid(static_cast<unsigned>((cols + kV2Tile - 1) / kV2Tile),
                  static_cast<unsigned>((c.Kg + kV2Tile - 1) / kV2Tile), static_cast<unsigned>(c.G));
  FCNLAB_LAUNCH(conv2d_v2_smem_kernel, grid, dim3(kV2Tile, kV2Tile), 0, stream, x, w, b, y, c);
}

}  // namespace fcnlab::ladder
