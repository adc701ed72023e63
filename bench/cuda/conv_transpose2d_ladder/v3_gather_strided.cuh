// conv_transpose2d ladder v3 — stride-aware gather: the taps that can reach output row h are
// exactly r = (h + ph) mod sh, + sh, + 2sh, ... (dilation 1), each reading input row
// p = (h + ph - r) / sh. So the loops step by the stride and never test a tap that cannot
// contribute: ceil(R/sh) * ceil(S/sw) taps per input channel instead of R * S (4 instead of
// 4096 for FCN-32s's 64x64 stride-32 upsampling). Still one thread per output and every operand
// from global memory (through the caches): the next rung turns this into tiled GEMMs.
// Needs dilation 1 (every FCN upsampling has it). Shapes as v1.
#pragma once
#include "engine/error.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

__global__ void convt_v3_gather_strided_kernel(const float* x, const float* w, float* y, ConvGeom c) {
  const int64_t total = int64_t(c.N) * c.C * c.H * c.W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int ww = static_cast<int>(i % c.W), h = static_cast<int>((i / c.W) % c.H);
    const int ch = static_cast<int>((i / (int64_t(c.W) * c.H)) % c.C);
    const int n = static_cast<int>(i / (int64_t(c.W) * c.H * c.C));
    const int g = ch / c.Cg, cl = ch - g * c.Cg;
    const int r0 = (h + c.ph) % c.sh, s0 = (ww + c.pw) % c.sw;
    float acc = 0.f;
    for (int kk = 0; kk < c.Kg; ++kk) {
      const int k = g * c.Kg + kk;
      const float* xp = x + (int64_t(n) * c.K + k) * c.P * c.Q;
      const float* wp = w + (int64_t(k) * c.Cg + cl) * c.R * c.S;
      for (int r = r0; r < c.R; r += c.sh) {
        const int p = (h + c.ph - r) / c.sh;  // exact: h + ph - r is a multiple of sh
        if (p < 0) break;                     // p only falls as r grows
        if (p >= c.P) continue;
        for (int s = s0; s < c.S; s += c.sw) {
          const int q = (ww + c.pw - s) / c.sw;
          if (q < 0) break;
          if (q >= c.Q) continue;
          acc += xp[int64_t(p) * c.Q + q] * wp[r * c.S + s];
        }
      }
    }
    y[i] = acc;
  }
}

inline void convt_v3_gather_strided(const float* x, const float* w, float* y, const ConvGeom& c,
                                    cudaStream_t stream) {
  FCNLAB_CHECK(c.dh == 1 && c.dw == 1, "conv_transpose2d ladder v3: dilation 1 only, got ", c.dh, "x", c.dw);
  const int64_t total = int64_t(c.N) * c.C * c.H * c.W;
  FCNLAB_LAUNCH(convt_v3_gather_strided_kernel, kernels::cuda::blocks_for(total, 256), 256, 0, stream,
                x, w, y, c);
}

}  // namespace fcnlab::ladder
