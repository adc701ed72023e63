// conv2d ladder v1 — naive: one thread per output element, the seven-loop direct convolution.
// Every thread re-reads its whole C/G x R x S window from global memory: no reuse at all, so it
// is bound by memory traffic (about 2 loads per FMA). The baseline the other rungs improve on.
// x (N, C, H, W), w (K, C/G, R, S), b (K) or null, y (N, K, P, Q).
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

__global__ void conv2d_v1_naive_kernel(const float* x, const float* w, const float* b, float* y,
                                       ConvGeom c) {
  const int64_t total = int64_t(c.N) * c.K * c.P * c.Q;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int q = static_cast<int>(i % c.Q), p = static_cast<int>((i / c.Q) % c.P);
    const int k = static_cast<int>((i / (int64_t(c.Q) * c.P)) % c.K);
    const int n = static_cast<int>(i / (int64_t(c.Q) * c.P * c.K));
    const int g = k / c.Kg;
    float acc = 0.f;
    for (int ch = 0; ch < c.Cg; ++ch)
      for (int r = 0; r < c.R; ++r) {
        const int h = p * c.sh - c.ph + r * c.dh;
        if (h < 0 || h >= c.H) continue;
        for (int s = 0; s < c.S; ++s) {
          const int ww = q * c.sw - c.pw + s * c.dw;
          if (ww < 0 || ww >= c.W) continue;
          acc += x[((int64_t(n) * c.C + g * c.Cg + ch) * c.H + h) * c.W + ww] *
                 w[((int64_t(k) * c.Cg + ch) * c.R + r) * c.S + s];
        }
      }
    y[i] = b ? acc + b[k] : acc;
  }
}

inline void conv2d_v1_naive(const float* x, const float* w, const float* b, float* y,
                            const ConvGeom& c, cudaStream_t stream) {
  const int64_t total = int64_t(c.N) * c.K * c.P * c.Q;
  const unsigned blocks = kernels::cuda::blocks_for(total, 256);
  FCNLAB_LAUNCH(conv2d_v1_naive_kernel, blocks, 256, 0, stream, x, w, b, y, c);
}

}  // namespace fcnlab::ladder
