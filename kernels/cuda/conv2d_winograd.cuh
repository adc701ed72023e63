// cuda/conv2d_winograd.cuh — device code of conv2d's Winograd forward, F(2x2, 3x3) (Lavin & Gray,
// arXiv 1509.09308), for 3x3 filters at stride 1 and dilation 1.
//
// Each 2x2 block of outputs ("tile") of one image and filter is computed from a 4x4 input patch
// (origin 2*ty - ph, 2*tx - pw) with 16 multiplies per input channel instead of 36:
//     Y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A
//     G = | 1    0    0  |   B^T = | 1  0 -1  0 |   A^T = | 1  1  1  0 |
//         | 1/2  1/2  1/2|         | 0  1  1  0 |         | 0  1 -1 -1 |
//         | 1/2 -1/2  1/2|         | 0 -1  1  0 |
//         | 0    0    1  |         | 0  1  0 -1 |
// The sum over channels of the 16 elementwise products is 16 independent GEMMs, one per
// position xi of the 4x4 transformed tile; they run on the tiled engine of gemm.cuh with the
// groups axis = xi * G + group:
//     M[xi, g] (Kg x T) = U[xi, g] (Kg x Cg) * V[xi, g] (Cg x T),     T = N * tiles per image
// so a forward does 2.25x fewer multiply-adds than the implicit GEMM, plus three memory-bound
// passes: filter transform (U), input transform (V), output transform (M -> y, + bias).
// Workspace layouts (T fastest where the passes stream, so every pass is coalesced):
//     U [16][K][Cg]   (= [16 * G][Kg][Cg], the GEMM's A rows: FwdWeightRows with crs = Cg)
//     V [16][C][T]    (= [16 * G][Cg][T], the GEMM's B columns: WinogradCols)
//     M [16][K][T]    (= [16 * G][Kg][T], the GEMM's store: WinogradStore)
// On small-integer data every transformed value is a multiple of 1/4 and every sum exact, so
// the result equals the direct sum bit for bit (the tests rely on it).
// The data gradient of such a conv is one too: dx is dy correlated with the filters flipped in
// both axes and transposed (filter c, channel k), at pad 2 - pad, so the same passes run it with
// the adjoint filter transform (conv2d.cu, for pads <= 2).
#pragma once
#include <cstdint>

#include "kernels/cuda/conv2d.cuh"

namespace fcnlab::kernels::cuda {

constexpr int kWinogradTile = 2;  // outputs per tile side, F(2x2, 3x3)

struct WinogradGeom {
  ConvGeom c;      // 3x3, stride 1, dilation 1; c.N is the images of this pass
  int tiles_h, tiles_w;
  int64_t T;       // c.N * tiles_h * tiles_w
};

// Image and tile row / column of tile index t (images outermost, then rows, then columns).
struct TilePos {
  int n, ty, tx;
};
__device__ __forceinline__ TilePos tile_position(int64_t t, const WinogradGeom& wg) {
  const int per_image = wg.tiles_h * wg.tiles_w;
  const int n = static_cast<int>(t / per_image), rem = static_cast<int>(t - int64_t(n) * per_image);
  const int ty = rem / wg.tiles_w;
  return {n, ty, rem - ty * wg.tiles_w};
}

// U[xi][k][cg] = (G g G^T)[xi] for filter k, channel cg: one thread per (k, cg).
// Adjoint (backward data, dx = the correlation of dy with the flipped, transposed filters): filter
// k of the transform is input channel k of w, its channel cg is w's filter cg of the same group,
// and g is w[cg][k][2 - r][2 - s]; w_cg is w's channels per group.
template <class T, bool kAdjoint>
__global__ void winograd_filter_kernel(const T* w, T* u, int K, int Cg, int w_cg) {
  const int64_t total = int64_t(K) * Cg;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    T g[9];
    if constexpr (kAdjoint) {
      const int k = static_cast<int>(i / Cg), cg = static_cast<int>(i - int64_t(k) * Cg);
      const int grp = k / w_cg, ch = k - grp * w_cg;
      const T* src = w + ((int64_t(grp) * Cg + cg) * w_cg + ch) * 9;
      for (int t = 0; t < 9; ++t) g[t] = src[8 - t];
    } else {
      const T* src = w + i * 9;
      for (int t = 0; t < 9; ++t) g[t] = src[t];
    }
    T t[4][3];  // G g
    for (int s = 0; s < 3; ++s) {
      const T a = g[s], b = g[3 + s], c = g[6 + s];
      t[0][s] = a;
      t[1][s] = T(0.5) * (a + b + c);
      t[2][s] = T(0.5) * (a - b + c);
      t[3][s] = c;
    }
    for (int r = 0; r < 4; ++r) {  // (G g) G^T
      const T a = t[r][0], b = t[r][1], c = t[r][2];
      u[(r * 4 + 0) * total + i] = a;
      u[(r * 4 + 1) * total + i] = T(0.5) * (a + b + c);
      u[(r * 4 + 2) * total + i] = T(0.5) * (a - b + c);
      u[(r * 4 + 3) * total + i] = c;
    }
  }
}

// V[xi][c][t] = (B^T d B)[xi] for the 4x4 patch d of channel c under tile t (zero outside the
// image): one thread per (c, t), t fastest, so a warp reads neighbouring patches of one plane.
template <class T>
__global__ void winograd_input_kernel(const T* x, T* v, WinogradGeom wg) {
  const ConvGeom& c = wg.c;
  const int64_t total = int64_t(c.C) * wg.T;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int ch = static_cast<int>(i / wg.T);
    const TilePos tp = tile_position(i - int64_t(ch) * wg.T, wg);
    const int h0 = tp.ty * kWinogradTile - c.ph, w0 = tp.tx * kWinogradTile - c.pw;
    const T* plane = x + (int64_t(tp.n) * c.C + ch) * c.H * c.W;
    T d[4][4];
FCNLAB_UNROLL
    for (int r = 0; r < 4; ++r) {
      const int h = h0 + r;
      const bool row_ok = h >= 0 && h < c.H;
FCNLAB_UNROLL
      for (int s = 0; s < 4; ++s) {
        const int wc = w0 + s;
        d[r][s] = row_ok && wc >= 0 && wc < c.W ? plane[int64_t(h) * c.W + wc] : T(0);
      }
    }
    T b[4][4];  // B^T d
FCNLAB_UNROLL
    for (int s = 0; s < 4; ++s) {
      b[0][s] = d[0][s] - d[2][s];
      b[1][s] = d[1][s] + d[2][s];
      b[2][s] = d[2][s] - d[1][s];
      b[3][s] = d[1][s] - d[3][s];
    }
    const int64_t stride = int64_t(c.C) * wg.T;  // between consecutive xi
    T* out = v + i;
FCNLAB_UNROLL
    for (int r = 0; r < 4; ++r) {  // (B^T d) B
      out[(r * 4 + 0) * stride] = b[r][0] - b[r][2];
      out[(r * 4 + 1) * stride] = b[r][1] + b[r][2];
      out[(r * 4 + 2) * stride] = b[r][2] - b[r][1];
      out[(r * 4 + 3) * stride] = b[r][1] - b[r][3];
    }
  }
}

// The GEMM's B loader: column t of V[gz] (gz = xi * G + g), element cg at V + (gz * Cg + cg) * T + t.
template <class T>
struct WinogradCols {
  const T* v;
  int Cg;
  int64_t T_;
  __device__ const T* col(int gz, int t) const { return v + int64_t(gz) * Cg * T_ + t; }
  __device__ T load(const T* p, int k) const { return p[int64_t(k) * T_]; }
};

// The GEMM's store: M[gz][m][t] (m = filter within the group).
template <class T>
struct WinogradStore {
  T* m;
  int Kg;
  int64_t T_;
  __device__ void operator()(int gz, int k, int t, T val) const {
    m[(int64_t(gz) * Kg + k) * T_ + t] = val;
  }
};

// y[n][k][2ty + i][2tx + j] = (A^T M A)[i][j] (+ bias[k]) for the outputs inside P x Q: one
// thread per (k, t), t fastest.
template <class T>
__global__ void winograd_output_kernel(const T* m, const T* bias, T* y, WinogradGeom wg) {
  const ConvGeom& c = wg.c;
  const int64_t total = int64_t(c.K) * wg.T;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int k = static_cast<int>(i / wg.T);
    const TilePos tp = tile_position(i - int64_t(k) * wg.T, wg);
    const int64_t stride = int64_t(c.K) * wg.T;  // between consecutive xi
    T a[2][4];  // A^T M
FCNLAB_UNROLL
    for (int s = 0; s < 4; ++s) {
      const T m0 = m[(0 * 4 + s) * stride + i], m1 = m[(1 * 4 + s) * stride + i];
      const T m2 = m[(2 * 4 + s) * stride + i], m3 = m[(3 * 4 + s) * stride + i];
      a[0][s] = m0 + m1 + m2;
      a[1][s] = m1 - m2 - m3;
    }
    const T b = bias ? bias[k] : T(0);
    T* out = y + (int64_t(tp.n) * c.K + k) * c.P * c.Q;
FCNLAB_UNROLL
    for (int r = 0; r < 2; ++r) {  // (A^T M) A
      const int p = tp.ty * kWinogradTile + r;
      if (p >= c.P) continue;
      const T o0 = a[r][0] + a[r][1] + a[r][2];
      const T o1 = a[r][1] - a[r][2] - a[r][3];
      const int q = tp.tx * kWinogradTile;
      out[int64_t(p) * c.Q + q] = bias ? o0 + b : o0;
      if (q + 1 < c.Q) out[int64_t(p) * c.Q + q + 1] = bias ? o1 + b : o1;
    }
  }
}

// ---- weight gradient, F(3x3, 2x2): the same trilinear identity read the other way round.
// F(2x2, 3x3) says sum_{i,j} u_i g_j d_{i+j} = sum_xi (A u)_xi (G g)_xi (B^T d)_xi for 2-vectors u,
// 3-vectors g, 4-vectors d; so the 3 outputs z_j = sum_i u_i d_{i+j} (a filter gradient's taps,
// u = 2 dy values, d = 4 inputs) are z = G^T [(A u) .* (B^T d)]. In 2D, per 2x2 tile of dy and
// its 4x4 input patch (the forward's V, same origin):
//     dw = G^T [ sum over tiles and images of (A dy A^T) .* (B^T d B) ] G
// with A = (A^T)^T = [1 0; 1 1; 1 -1; 0 -1]. The sum is 16 x groups GEMMs reducing over tiles:
//     M[xi, g] (Kg x Cg) = Y[xi, g] (Kg x T) * V[xi, g]^T (T x Cg)
// Layouts: Y [16][K][T] (the dy transform, T fastest), V as the forward, M [16][K][Cg].

// Y[xi][k][t] = (A dy A^T)[xi] for the 2x2 tile t of dy channel k (zero past P x Q).
template <class T>
__global__ void winograd_grad_kernel(const T* dy, T* yt, WinogradGeom wg) {
  const ConvGeom& c = wg.c;
  const int64_t total = int64_t(c.K) * wg.T;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int k = static_cast<int>(i / wg.T);
    const TilePos tp = tile_position(i - int64_t(k) * wg.T, wg);
    const int p0 = tp.ty * kWinogradTile, q0 = tp.tx * kWinogradTile;
    const T* plane = dy + (int64_t(tp.n) * c.K + k) * c.P * c.Q;
    T u[2][2];
FCNLAB_UNROLL
    for (int r = 0; r < 2; ++r)
FCNLAB_UNROLL
      for (int s = 0; s < 2; ++s)
        u[r][s] = p0 + r < c.P && q0 + s < c.Q ? plane[int64_t(p0 + r) * c.Q + q0 + s] : T(0);
    T a[4][2];  // A u
FCNLAB_UNROLL
    for (int s = 0; s < 2; ++s) {
      a[0][s] = u[0][s];
      a[1][s] = u[0][s] + u[1][s];
      a[2][s] = u[0][s] - u[1][s];
      a[3][s] = -u[1][s];
    }
    const int64_t stride = int64_t(c.K) * wg.T;  // between consecutive xi
    T* out = yt + i;
FCNLAB_UNROLL
    for (int r = 0; r < 4; ++r) {  // (A u) A^T
      out[(r * 4 + 0) * stride] = a[r][0];
      out[(r * 4 + 1) * stride] = a[r][0] + a[r][1];
      out[(r * 4 + 2) * stride] = a[r][0] - a[r][1];
      out[(r * 4 + 3) * stride] = -a[r][1];
    }
  }
}

// The weight-gradient GEMM's loaders: A row k of Y[gz] and B column cg of V[gz]^T, both
// contiguous along the reduction (tiles).
template <class T>
struct WinogradTileRows {
  const T* p;
  int rows;  // rows per group (Kg for Y, Cg for V)
  int64_t T_;
  bool vec4 = false;  // rows_vec4(p, T_): one 16-byte load per thread and slice (gemm.cuh)
  static constexpr bool k_contiguous = true;  // as B, gathered as A is (gemm.cuh)
  __device__ const T* row(int gz, int m) const { return p + (int64_t(gz) * rows + m) * T_; }
  __device__ const T* col(int gz, int n) const { return row(gz, n); }
  __device__ T load(const T* r, int k) const { return r[k]; }
  __device__ float4 load4(const T* r, int k) const { return load_float4(r + k); }
};

// M[gz][k][cg], added to what is there when accumulating over passes of images.
template <class T>
struct WinogradWeightStore {
  T* m;
  int Kg, Cg;
  bool accumulate;
  __device__ void operator()(int gz, int k, int cg, T val) const {
    T* p = m + (int64_t(gz) * Kg + k) * Cg + cg;
    *p = accumulate ? *p + val : val;
  }
};

// dw[k][cg] (3x3) = G^T M G: one thread per (k, cg).
template <class T>
__global__ void winograd_weight_output_kernel(const T* m, T* dw, int K, int Cg) {
  const int64_t total = int64_t(K) * Cg;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    T b[3][4];  // G^T M
FCNLAB_UNROLL
    for (int s = 0; s < 4; ++s) {
      const T m0 = m[(0 * 4 + s) * total + i], m1 = m[(1 * 4 + s) * total + i];
      const T m2 = m[(2 * 4 + s) * total + i], m3 = m[(3 * 4 + s) * total + i];
      b[0][s] = m0 + T(0.5) * (m1 + m2);
      b[1][s] = T(0.5) * (m1 - m2);
      b[2][s] = T(0.5) * (m1 + m2) + m3;
    }
    T* out = dw + i * 9;
FCNLAB_UNROLL
    for (int r = 0; r < 3; ++r) {  // (G^T M) G
      out[r * 3 + 0] = b[r][0] + T(0.5) * (b[r][1] + b[r][2]);
      out[r * 3 + 1] = T(0.5) * (b[r][1] - b[r][2]);
      out[r * 3 + 2] = T(0.5) * (b[r][1] + b[r][2]) + b[r][3];
    }
  }
}

}  // namespace fcnlab::kernels::cuda
