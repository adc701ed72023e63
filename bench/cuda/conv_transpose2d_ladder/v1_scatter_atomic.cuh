// conv_transpose2d ladder v1 — naive scatter: one thread per INPUT element, which adds its
// contribution x[n, k, p, q] * w[k, c, r, s] to every output pixel its window covers, with
// atomicAdd (windows of neighbouring inputs overlap whenever R > stride). This is the textbook
// definition of the transposed convolution ("col2im"), and the slowest way to run it: R*S*Cg
// atomics per input element, contended, and an order of additions that changes from run to run
// (so results are only reproducible bit for bit on data whose sums are exact, e.g. small integers).
// Shapes in conv naming (the transposed conv is conv2d's data gradient): input x = "dy"
// (N, K, P, Q), weight w (K, Cg, R, S), output y = "dx" (N, C, H, W).
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

__global__ void convt_v1_scatter_kernel(const float* x, const float* w, float* y, ConvGeom c) {
  const int64_t total = int64_t(c.N) * c.K * c.P * c.Q;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int q = static_cast<int>(i % c.Q), p = static_cast<int>((i / c.Q) % c.P);
    const int k = static_cast<int>((i / (int64_t(c.Q) * c.P)) % c.K);
    const int n = static_cast<int>(i / (int64_t(c.Q) * c.P * c.K));
    const int g = k / c.Kg;
    const float v = x[i];
    for (int ch = 0; ch < c.Cg; ++ch)
      for (int r = 0; r < c.R; ++r) {
        const int h = p * c.sh - c.ph + r * c.dh;
        if (h < 0 || h >= c.H) continue;
        for (int s = 0; s < c.S; ++s) {
          const int ww = q * c.sw - c.pw + s * c.dw;
          if (ww < 0 || ww >= c.W) continue;
          atomicAdd(&y[((int64_t(n) * c.C + g * c.Cg + ch) * c.H + h) * c.W + ww],
                    v * w[((int64_t(k) * c.Cg + ch) * c.R + r) * c.S + s]);
        }
      }
  }
}

inline void convt_v1_scatter_atomic(const float* x, const float* w, float* y, const ConvGeom& c,
                                    cudaStream_t stream) {
  FCNLAB_CUDA_CHECK(cudaMemsetAsync(y, 0, sizeof(float) * size_t(c.N) * c.C * c.H * c.W, stream));
  const int64_t total = int64_t(c.N) * c.K * c.P * c.Q;
  FCNLAB_LAUNCH(convt_v1_scatter_kernel, kernels::cuda::blocks_for(total, 256), 256, 0, stream, x, w, y, c);
}

}  // namespace fcnlab::ladder
