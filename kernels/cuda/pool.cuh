// cuda/pool.cuh — device code for max pooling: one thread per output (forward, argmax saved
// as the flat index into the input plane) and, backward, one thread per INPUT pixel that
// gathers over the windows covering it (no atomics: deterministic, and it adds in the same
// order as the CPU reference's scatter, so the results are bit-identical).
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

struct PoolGeometry {
  int64_t planes;  // N * C
  int H, W, P, Q;
  int kh, kw, sh, sw, ph, pw;
};

// x: (planes, H, W) -> y, argmax: (planes, P, Q). First maximum in row-major window order;
// a NaN wins over numbers (same rule as kernels/cpu/pool.cpp).
template <class T>
__global__ void max_pool2d_forward_kernel(const T* x, PoolGeometry g, T* y, int32_t* argmax) {
  const int64_t total = g.planes * g.P * g.Q;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total;
       o += int64_t(gridDim.x) * blockDim.x) {
    const int q = static_cast<int>(o % g.Q), p = static_cast<int>((o / g.Q) % g.P);
    const int64_t plane = o / (int64_t(g.P) * g.Q);
    const T* xp = x + plane * g.H * g.W;
    const int hs = p * g.sh - g.ph, ws = q * g.sw - g.pw;
    const int h0 = hs > 0 ? hs : 0, h1 = hs + g.kh < g.H ? hs + g.kh : g.H;
    const int w0 = ws > 0 ? ws : 0, w1 = ws + g.kw < g.W ? ws + g.kw : g.W;
    int best = h0 * g.W + w0;
    T m = xp[best];
    for (int h = h0; h < h1; ++h)
      for (int w = w0; w < w1; ++w) {
        const T v = xp[h * g.W + w];
        if (v > m || (v != v && m == m)) {
          m = v;
          best = h * g.W + w;
        }
      }
    y[o] = m;
    argmax[o] = best;
  }
}

// dx: (planes, H, W). Input pixel (h, w) lies in the windows p with
// p*sh - ph <= h < p*sh - ph + kh, i.e. p in [ceil((h + ph - kh + 1) / sh), (h + ph) / sh].
template <class T>
__global__ void max_pool2d_backward_kernel(const T* dy, const int32_t* argmax, PoolGeometry g, T* dx) {
  const int64_t total = g.planes * g.H * g.W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int w = static_cast<int>(i % g.W), h = static_cast<int>((i / g.W) % g.H);
    const int64_t plane = i / (int64_t(g.H) * g.W);
    const int32_t self = h * g.W + w;
    const int ah = h + g.ph - g.kh + 1, aw = w + g.pw - g.kw + 1;
    const int p0 = ah > 0 ? (ah + g.sh - 1) / g.sh : 0, q0 = aw > 0 ? (aw + g.sw - 1) / g.sw : 0;
    int p1 = (h + g.ph) / g.sh, q1 = (w + g.pw) / g.sw;  // inclusive
    if (p1 > g.P - 1) p1 = g.P - 1;
    if (q1 > g.Q - 1) q1 = g.Q - 1;
    const T* gp = dy + plane * g.P * g.Q;
    const int32_t* ap = argmax + plane * g.P * g.Q;
    T acc = T(0);
    for (int p = p0; p <= p1; ++p)
      for (int q = q0; q <= q1; ++q)
        if (ap[p * g.Q + q] == self) acc += gp[p * g.Q + q];
    dx[i] = acc;
  }
}

}  // namespace fcnlab::kernels::cuda
