// conv_transpose2d ladder v5 — phase-decomposed implicit GEMM: the output pixels split into
// sh x sw phases by (h + ph) mod sh and (w + pw) mod sw; within one phase every pixel is reached
// by the same taps r = a, a + sh, ... and s = b, b + sw, ... (dilation 1), so each phase is an
// ordinary dense GEMM with K = Kg * ceil(R/sh) * ceil(S/sw) — v3's tap skipping — run on v4's
// tiled engine with the phase as an extra group (blockIdx.z = group * sh * sw + phase):
//   y[g, phase] (Cg x N*Hp*Wp) = w_phase[g]^T (Cg x Kg*Tr*Ts) * x_phase[g] (Kg*Tr*Ts x N*Hp*Wp)
// with Hp = ceil(H/sh), Tr = ceil(R/sh). Phases with fewer than Hp rows (H not a multiple of sh)
// leave the last column block partly idle; taps past R (R not a multiple of sh) load zero
// weights. No zero is multiplied on the stride's account any more: FCN-32s's 64x64 stride-32
// upsampling does 4 taps per input channel instead of 4096. Shapes as v1.
#pragma once
#include "engine/error.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

struct PhaseGeom {
  ConvGeom c;
  int Hp, Wp;  // rows / columns of the largest phase: ceil(H / sh), ceil(W / sw)
  int Tr, Ts;  // taps per phase: ceil(R / sh), ceil(S / sw)
  // Phase gz -> group g and phase (a, b); the first output row of phase a is h0, and its
  // input row for tap t = 0 is p0 (p = p0 + i - t for the phase's i-th row and tap t).
  struct Phase { int g, a, b, h0, w0, p0, q0; };
  __device__ Phase phase(int gz) const {
    const int per = c.sh * c.sw, ph = gz % per;
    Phase f;
    f.g = gz / per, f.a = ph / c.sw, f.b = ph % c.sw;
    f.h0 = ((f.a - c.ph) % c.sh + c.sh) % c.sh;
    f.w0 = ((f.b - c.pw) % c.sw + c.sw) % c.sw;
    f.p0 = (f.h0 + c.ph - f.a) / c.sh;
    f.q0 = (f.w0 + c.pw - f.b) / c.sw;
    return f;
  }
};

// A(m = output channel within the group, k = (kk, t, u)) = w[g*Kg + kk, m, a + t*sh, b + u*sw].
struct PhaseWeightRows {
  const float* w;
  PhaseGeom pg;
  struct Ctx { const float* row; int a, b; };
  __device__ Ctx row(int gz, int m) const {
    const auto f = pg.phase(gz);
    const ConvGeom& c = pg.c;
    return {w + (int64_t(f.g) * c.Kg * c.Cg + m) * c.R * c.S, f.a, f.b};
  }
  __device__ float load(const Ctx& x, int k) const {
    const ConvGeom& c = pg.c;
    const int tu = pg.Tr * pg.Ts;
    const int kk = k / tu, rem = k - kk * tu, t = rem / pg.Ts, u = rem - t * pg.Ts;
    const int r = x.a + t * c.sh, s = x.b + u * c.sw;
    return (r < c.R && s < c.S) ? x.row[int64_t(kk) * c.Cg * c.R * c.S + r * c.S + s] : 0.f;
  }
};

// B(k = (kk, t, u), column (n, i, j)) = x[n, g*Kg + kk, p0 + i - t, q0 + j - u] (0 outside).
struct PhaseInputCols {
  const float* x;
  PhaseGeom pg;
  struct Ctx { int64_t base; int p, q; bool ok; };
  __device__ Ctx col(int gz, int j) const {
    const auto f = pg.phase(gz);
    const ConvGeom& c = pg.c;
    const int per_n = pg.Hp * pg.Wp;
    const int n = j / per_n, rem = j - n * per_n, i = rem / pg.Wp, jj = rem - i * pg.Wp;
    const bool ok = f.h0 + i * c.sh < c.H && f.w0 + jj * c.sw < c.W;
    return {(int64_t(n) * c.K + int64_t(f.g) * c.Kg) * c.P * c.Q, f.p0 + i, f.q0 + jj, ok};
  }
  __device__ float load(const Ctx& x_, int k) const {
    const ConvGeom& c = pg.c;
    const int tu = pg.Tr * pg.Ts;
    const int kk = k / tu, rem = k - kk * tu, t = rem / pg.Ts, u = rem - t * pg.Ts;
    const int p = x_.p - t, q = x_.q - u;
    return (x_.ok && p >= 0 && p < c.P && q >= 0 && q < c.Q) ? x[x_.base + (int64_t(kk) * c.P + p) * c.Q + q]
                                                             : 0.f;
  }
};

// y[n, g*Cg + m, h0 + i*sh, w0 + j*sw] = acc, for the columns that exist in this phase.
struct PhaseStore {
  float* y;
  PhaseGeom pg;
  __device__ void operator()(int gz, int m, int j, float v) const {
    const auto f = pg.phase(gz);
    const ConvGeom& c = pg.c;
    const int per_n = pg.Hp * pg.Wp;
    const int n = j / per_n, rem = j - n * per_n, i = rem / pg.Wp, jj = rem - i * pg.Wp;
    const int h = f.h0 + i * c.sh, w = f.w0 + jj * c.sw;
    if (h < c.H && w < c.W) y[((int64_t(n) * c.C + int64_t(f.g) * c.Cg + m) * c.H + h) * c.W + w] = v;
  }
};

inline void convt_v5_phase_gemm(const float* x, const float* w, float* y, const ConvGeom& c, cudaStream_t) {
  FCNLAB_CHECK(c.dh == 1 && c.dw == 1, "conv_transpose2d ladder v5: dilation 1 only, got ", c.dh, "x", c.dw);
  const PhaseGeom pg{c, (c.H + c.sh - 1) / c.sh, (c.W + c.sw - 1) / c.sw, (c.R + c.sh - 1) / c.sh,
                     (c.S + c.sw - 1) / c.sw};
  kernels::cuda::run_tiled_gemm<float>(int64_t(c.G) * c.sh * c.sw, c.Cg, int64_t(c.N) * pg.Hp * pg.Wp,
                                       int64_t(c.Kg) * pg.Tr * pg.Ts, PhaseWeightRows{w, pg},
                                       PhaseInputCols{x, pg}, PhaseStore{y, pg});
}

}  // namespace fcnlab::ladder
