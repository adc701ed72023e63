// conv_transpose2d ladder v5 — phase-decomposed implicit GEMM: the output pixels split into
// sh x sw phases by (h + ph) mod sh and (w + pw) mod sw; within one phase every pixel is reached
// by the same taps r = a, a + sh, ... and s = b, b + sw, ... (dilation 1), so each phase is an
// ordinary dense GEMM with K = Kg * ceil(R/sh) * ceil(S/sw) — v3's tap skipping — run on v4's
// tiled engine with the phase as an extra group (blockIdx.z = group * sh * sw + phase):
//   y[g, phase] (Cg x N*Hp*Wp) = w_phase[g]^T (Cg x Kg*Tr*Ts) * x_phase[g] (Kg*Tr*Ts x N*Hp*Wp)
// with Hp = ceil(H/sh), Tr = ceil(R/sh). No zero is multiplied on the stride's account any more:
// FCN-32s's 64x64 stride-32 upsampling does 4 taps per input channel instead of 4096.
// This rung is what fcnlab ships: its loaders and store are kernels/cuda/conv2d.cuh's
// PhaseWeightRows / PhaseGradCols / PhaseStore, which conv2d_backward_data (conv_transpose2d's
// forward) runs whenever a stride > 1 meets dilation 1; the ladder calls them directly so that
// it times exactly the shipped code. Shapes as v1.
#pragma once
#include "engine/error.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

inline void convt_v5_phase_gemm(const float* x, const float* w, float* y, const ConvGeom& c, cudaStream_t) {
  FCNLAB_CHECK(c.dh == 1 && c.dw == 1, "conv_transpose2d ladder v5: dilation 1 only, got ", c.dh, "x", c.dw);
  namespace kc = kernels::cuda;
  const kc::PhaseGeom pg = kc::phase_geometry(c);
  kc::run_tiled_gemm<float>(int64_t(c.G) * c.sh * c.sw, c.Cg, int64_t(c.N) * pg.Hp * pg.Wp,
                            int64_t(c.Kg) * pg.Tr * pg.Ts, kc::PhaseWeightRows<float>{w, pg},
                            kc::PhaseGradCols<float>{x, pg}, kc::PhaseStore<float>{y, pg});
}

}  // namespace fcnlab::ladder
