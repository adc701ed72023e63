// conv_transpose2d ladder v2 — gather: one thread per OUTPUT pixel, which sums over every input
// channel and every tap (r, s) of the window, keeping the taps whose input position
// (h + ph - r*dh) / sh is a whole number inside the input. Each output is written once: no
// atomics, no zero-fill, and a fixed summation order (deterministic). But with stride s only
// 1 tap in s (per axis) can land on a whole input position, so for FCN's 64x64 stride-32
// upsampling 1023 of every 1024 taps are tested and skipped.
// Shapes as v1: x (N, K, P, Q), w (K, Cg, R, S), y (N, C, H, W).
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

__global__ void convt_v2_gather_kernel(const float* x, const float* w, float* y, ConvGeom c) {
  const int64_t total = int64_t(c.N) * c.C * c.H * c.W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int ww = static_cast<int>(i % c.W), h = static_cast<int>((i / c.W) % c.H);
    const int ch = static_cast<int>((i / (int64_t(c.W) * c.H)) % c.C);
    const int n = static_cast<int>(i / (int64_t(c.W) * c.H * c.C));
    const int g = ch / c.Cg, cl = ch - g * c.Cg;
    float acc = 0.f;
    for (int kk = 0; kk < c.Kg; ++kk) {
      const int k = g * c.Kg + kk;
      for (int r = 0; r < c.R; ++r) {
        const int th = h + c.ph - r * c.dh;
        if (th < 0 || th % c.sh != 0 || th / c.sh >= c.P) continue;
        for (int s = 0; s < c.S; ++s) {
          const int tw = ww + c.pw - s * c.dw;
          if (tw < 0 || tw % c.sw != 0 || tw / c.sw >= c.Q) continue;
          acc += x[((int64_t(n) * c.K + k) * c.P + th / c.sh) * c.Q + tw / c.sw] *
                 w[((int64_t(k) * c.Cg + cl) * c.R + r) * c.S + s];
        }
      }
    }
    y[i] = acc;
  }
}

inline void convt_v2_gather(const float* x, const float* w, float* y, const ConvGeom& c, cudaStream_t stream) {
  const int64_t total = int64_t(c.N) * c.C * c.H * c.W;
  FCNLAB_LAUNCH(convt_v2_gather_kernel, kernels::cuda::blocks_for(total, 256), 256, 0, stream, x, w, y, c);
}

}  // namespace fcnlab::ladder
