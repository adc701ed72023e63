// cpu/im2col.cpp — im2col / col2im over a range of output columns, and the implicit im2col
// packer. A run of consecutive columns n = p*Q + q inside one output row p reads one input row
// ih = p*sh - ph + r*dh at iw = q*sw - pw + s*dw; with sw == 1 that is a contiguous copy,
// which is what makes the packer cheap next to the GEMM.
#include "kernels/cpu/im2col.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace fcnlab::kernels::cpu {

ConvGeom make_conv_geom(const Shape& x, const Shape& w, const Shape& y, const Conv2dOptions& o) {
  ConvGeom g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.K = w[0], g.R = w[2], g.S = w[3];
  g.P = y[2], g.Q = y[3];
  g.sh = o.stride_h, g.sw = o.stride_w, g.ph = o.pad_h, g.pw = o.pad_w;
  g.dh = o.dilation_h, g.dw = o.dilation_w;
  g.groups = o.groups, g.Cg = g.C / o.groups, g.Kg = g.K / o.groups;
  return g;
}

namespace {

// One row of col (fixed c, r, s) over columns n0 .. n0+ncol-1, handed to fn(j, len, src, iw0)
// one output-row run at a time: columns j .. j+len-1 of the range read input row `src`
// (nullptr when that row is in the padding) at iw0, iw0 + sw, ...
template <class Fn>
void for_each_run(const ConvGeom& g, int64_t r, int64_t s, int64_t n0, int64_t ncol, Fn&& fn) {
  int64_t p = n0 / g.Q, q = n0 % g.Q;
  for (int64_t j = 0; j < ncol; ++p, q = 0) {
    const int64_t len = std::min(g.Q - q, ncol - j);
    const int64_t ih = p * g.sh - g.ph + r * g.dh;
    fn(j, len, ih >= 0 && ih < g.H ? ih : -1, q * g.sw - g.pw + s * g.dw);
    j += len;
  }
}

// dst[0..len) = row[iw0 + i*sw] inside the image, 0 outside; row == nullptr: all zero.
template <class T>
inline void gather_run(T* dst, int64_t len, const T* row, int64_t iw0, int64_t sw, int64_t W) {
  if (!row) {
    for (int64_t i = 0; i < len; ++i) dst[i] = T(0);
    return;
  }
  if (sw == 1) {
    const int64_t lo = std::clamp<int64_t>(-iw0, 0, len), hi = std::clamp<int64_t>(W - iw0, lo, len);
    for (int64_t i = 0; i < lo; ++i) dst[i] = T(0);
    std::memcpy(dst + lo, row + iw0 + lo, static_cast<size_t>(hi - lo) * sizeof(T));
    for (int64_t i = hi; i < len; ++i) dst[i] = T(0);
    return;
  }
  for (int64_t i = 0; i < len; ++i) {
    const int64_t iw = iw0 + i * sw;
    dst[i] = iw >= 0 && iw < W ? row[iw] : T(0);
  }
}

}  // namespace

template <class T>
void im2col(const ConvGeom& g, const T* x_g, int64_t n0, int64_t ncol, T* col) {
  const int64_t rows = g.CRS(), RS = g.R * g.S;
#pragma omp parallel for schedule(static) if (rows * ncol > (1 << 16))
  for (int64_t k = 0; k < rows; ++k) {
    const int64_t c = k / RS, r = (k % RS) / g.S, s = k % g.S;
    T* dst = col + k * ncol;
    const T* xc = x_g + c * g.HW();
    for_each_run(g, r, s, n0, ncol, [&](int64_t j, int64_t len, int64_t ih, int64_t iw0) {
      gather_run(dst + j, len, ih >= 0 ? xc + ih * g.W : nullptr, iw0, g.sw, g.W);
    });
  }
}

template <class T>
void col2im_add(const ConvGeom& g, const T* col, int64_t n0, int64_t ncol, T* dx_g) {
  const int64_t RS = g.R * g.S;
  // Rows of one channel c all write into dx channel c: parallel over c is race-free.
#pragma omp parallel for schedule(static) if (g.CRS() * ncol > (1 << 16))
  for (int64_t c = 0; c < g.Cg; ++c) {
    T* xc = dx_g + c * g.HW();
    for (int64_t rs = 0; rs < RS; ++rs) {
      const int64_t r = rs / g.S, s = rs % g.S;
      const T* src = col + (c * RS + rs) * ncol;
      for_each_run(g, r, s, n0, ncol, [&](int64_t j, int64_t len, int64_t ih, int64_t iw0) {
        if (ih < 0) return;
        T* row = xc + ih * g.W;
        for (int64_t i = 0; i < len; ++i) {
          const int64_t iw = iw0 + i * g.sw;
          if (iw >= 0 && iw < g.W) row[iw] += src[j + i];
        }
      });
    }
  }
}

template void im2col<float>(const ConvGeom&, const float*, int64_t, int64_t, float*);
template void im2col<double>(const ConvGeom&, const double*, int64_t, int64_t, double*);
template void col2im_add<float>(const ConvGeom&, const float*, int64_t, int64_t, float*);
template void col2im_add<double>(const ConvGeom&, const double*, int64_t, int64_t, double*);

// Row by row: row k of the block is gathered contiguously (runs of input rows, memcpy when
// sw == 1), then cut into the NR-wide strips. Reading along input rows keeps the loads
// sequential; walking strip by strip instead would touch kc different rows per 64 bytes.
void Im2colPackB::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const {
  constexpr int NR = kGemmNR;
  const ConvGeom& g = g_;
  const int64_t RS = g.R * g.S, strips = (nc + NR - 1) / NR;
  thread_local std::vector<float> row_buf;
  if (static_cast<int64_t>(row_buf.size()) < strips * NR) row_buf.resize(static_cast<size_t>(strips * NR));
  float* row = row_buf.data();
  for (int64_t j = nc; j < strips * NR; ++j) row[j] = 0.0f;
  // Walk k = (c, r, s) incrementally: no division per row.
  int64_t c = k0 / RS, r = (k0 % RS) / g.S, s = k0 % g.S;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float* xc = x_ + c * g.HW();
    for_each_run(g, r, s, n0, nc, [&](int64_t j, int64_t len, int64_t ih, int64_t iw0) {
      gather_run(row + j, len, ih >= 0 ? xc + ih * g.W : nullptr, iw0, g.sw, g.W);
    });
    float* d = dst + kk * NR;
    for (int64_t t = 0; t < strips; ++t, d += NR * kc) {
#if defined(__AVX2__)
#pragma GCC unroll 4
      for (int v = 0; v < NR; v += 8) _mm256_store_ps(d + v, _mm256_loadu_ps(row + t * NR + v));
#else
      std::memcpy(d, row + t * NR, NR * sizeof(float));
#endif
    }
    if (++s == g.S) {
      s = 0;
      if (++r == g.R) r = 0, ++c;
    }
  }
}

// Column j of the block is row (c, r, s) of col over output positions k0 .. k0+kc-1: gather it
// contiguously (the same runs as im2col), then write it down lane j % NR of its strip.
void Im2colTransposedPackB::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const {
  constexpr int NR = kGemmNR;
  const ConvGeom& g = g_;
  const int64_t RS = g.R * g.S, strips = (nc + NR - 1) / NR;
  thread_local std::vector<float> row_buf;
  if (static_cast<int64_t>(row_buf.size()) < kc) row_buf.resize(static_cast<size_t>(kc));
  float* row = row_buf.data();
  for (int64_t j = 0; j < strips * NR; ++j) {
    float* d = dst + (j / NR) * NR * kc + j % NR;
    if (j >= nc) {  // zero lanes past the last column
      for (int64_t k = 0; k < kc; ++k) d[k * NR] = 0.0f;
      continue;
    }
    const int64_t crs = n0 + j, c = crs / RS, r = (crs % RS) / g.S, s = crs % g.S;
    const float* xc = x_ + c * g.HW();
    for_each_run(g, r, s, k0, kc, [&](int64_t i, int64_t len, int64_t ih, int64_t iw0) {
      gather_run(row + i, len, ih >= 0 ? xc + ih * g.W : nullptr, iw0, g.sw, g.W);
    });
    for (int64_t k = 0; k < kc; ++k) d[k * NR] = row[k];
  }
}

}  // namespace fcnlab::kernels::cpu
