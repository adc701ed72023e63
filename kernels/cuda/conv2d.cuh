// cuda/conv2d.cuh — device code of the convolutions: loaders and stores that turn conv2d and its
// two gradients into implicit GEMMs for the tiled engine of gemm.cuh (no im2col / col2im
// buffer is ever written), and the channel-bias kernels.
// Shapes: x (N, C, H, W), w (K, C/G, R, S), y / dy (N, K, P, Q); group g = blockIdx.z.
//   forward:         y[g]  (Kg x N*P*Q) = w[g] (Kg x Cg*R*S) * im2col(x)[g] (Cg*R*S x N*P*Q)
//   backward data:   dx[g] (Cg x N*H*W) = w[g]^T (Cg x Kg*R*S) * gather(dy)[g] (Kg*R*S x N*H*W),
//                    the gather reading dy[p, q] with h = p*sh - ph + r*dh (zero where no p fits),
//                    so every dx element is written once: no col2im scatter, no atomics.
//   backward weight: dw[g] (Kg x Cg*R*S) = dy[g] (Kg x N*P*Q) * im2col(x)[g]^T (N*P*Q x Cg*R*S)
#pragma once
#include <cstdint>

#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/reduce.cuh"

namespace fcnlab::kernels::cuda {

// Sizes of one convolution, copied by value into the kernels.
struct ConvGeom {
  int N, C, H, W;    // input
  int K, R, S;       // filters
  int P, Q;          // output
  int G, Cg, Kg;     // groups, channels per group
  int sh, sw, ph, pw, dh, dw;
};

// ---- forward: A = w (row-major Kg x Cg*R*S per group), B = im2col(x) gathered per column.
template <class T>
struct FwdWeightRows {
  const T* w;
  int crs, Kg;
  __device__ const T* row(int g, int m) const { return w + (int64_t(g) * Kg + m) * crs; }
  __device__ T load(const T* r, int k) const { return r[k]; }
};

struct ImageCol {  // where column (n, p, q) starts reading: the image plane and the window origin
  int64_t base;
  int h0, w0;
};

template <class T>
struct FwdImageCols {
  const T* x;
  ConvGeom c;
  __device__ ImageCol col(int g, int j) const {
    const int pq = c.P * c.Q;
    const int n = j / pq, rem = j - n * pq, p = rem / c.Q, q = rem - p * c.Q;
    return {(int64_t(n) * c.C + int64_t(g) * c.Cg) * c.H * c.W, p * c.sh - c.ph, q * c.sw - c.pw};
  }
  __device__ T load(const ImageCol& ctx, int k) const {
    const int rs = c.R * c.S;
    const int ch = k / rs, t = k - ch * rs, r = t / c.S, s = t - r * c.S;
    const int h = ctx.h0 + r * c.dh, w = ctx.w0 + s * c.dw;
    return (h >= 0 && h < c.H && w >= 0 && w < c.W) ? x[ctx.base + (int64_t(ch) * c.H + h) * c.W + w]
                                                    : T(0);
  }
};

// y[n, g*Kg + m, p, q] = acc (+ bias).
template <class T>
struct FwdStore {
  T* y;
  const T* bias;  // may be null
  ConvGeom c;
  __device__ void operator()(int g, int m, int j, T v) const {
    const int pq = c.P * c.Q;
    const int n = j / pq, rem = j - n * pq;
    const int k = g * c.Kg + m;
    y[(int64_t(n) * c.K + k) * pq + rem] = bias ? v + bias[k] : v;
  }
};

// ---- backward data: A(c, (k, r, s)) = w[g*Kg + k, c, r, s]; B((k, r, s), (n, h, w)) = dy gather.
template <class T>
struct BwdDataWeightRows {
  const T* w;
  ConvGeom c;
  __device__ const T* row(int g, int m) const {
    return w + (int64_t(g) * c.Kg * c.Cg + m) * c.R * c.S;
  }
  __device__ T load(const T* r, int k) const {
    const int rs = c.R * c.S;
    const int kk = k / rs, t = k - kk * rs;
    return r[int64_t(kk) * c.Cg * rs + t];
  }
};

struct GradCol {  // column (n, h, w) of dx: its dy planes and the padded position
  int64_t base;
  int hp, wp;
};

template <class T>
struct BwdDataGradCols {
  const T* dy;
  ConvGeom c;
  __device__ GradCol col(int g, int j) const {
    const int hw = c.H * c.W;
    const int n = j / hw, rem = j - n * hw, h = rem / c.W, w = rem - h * c.W;
    return {(int64_t(n) * c.K + int64_t(g) * c.Kg) * c.P * c.Q, h + c.ph, w + c.pw};
  }
  __device__ T load(const GradCol& ctx, int k) const {
    const int rs = c.R * c.S;
    const int kk = k / rs, t = k - kk * rs, r = t / c.S, s = t - r * c.S;
    const int th = ctx.hp - r * c.dh, tw = ctx.wp - s * c.dw;
    if (th < 0 || tw < 0 || th % c.sh != 0 || tw % c.sw != 0) return T(0);
    const int p = th / c.sh, q = tw / c.sw;
    if (p >= c.P || q >= c.Q) return T(0);
    return dy[ctx.base + (int64_t(kk) * c.P + p) * c.Q + q];
  }
};

// dx[n, g*Cg + m, h, w] = acc.
template <class T>
struct BwdDataStore {
  T* dx;
  ConvGeom c;
  __device__ void operator()(int g, int m, int j, T v) const {
    const int hw = c.H * c.W;
    const int n = j / hw, rem = j - n * hw;
    dx[(int64_t(n) * c.C + int64_t(g) * c.Cg + m) * hw + rem] = v;
  }
};

// ---- backward weight: A(k, (n, p, q)) = dy[n, g*Kg + k, p, q]; B((n, p, q), (c, r, s)) = x gather.
template <class T>
struct BwdWeightGradRows {
  const T* dy;
  ConvGeom c;
  __device__ const T* row(int g, int m) const {
    return dy + (int64_t(g) * c.Kg + m) * c.P * c.Q;
  }
  __device__ T load(const T* r, int k) const {
    const int pq = c.P * c.Q;
    const int n = k / pq, t = k - n * pq;
    return r[int64_t(n) * c.K * pq + t];
  }
};

struct FilterCol {  // column (c, r, s) of dw: its input plane and the tap's offset
  int64_t base;
  int roff, soff;
};

template <class T>
struct BwdWeightImageCols {
  const T* x;
  ConvGeom c;
  __device__ FilterCol col(int g, int j) const {
    const int rs = c.R * c.S;
    const int ch = j / rs, t = j - ch * rs, r = t / c.S, s = t - r * c.S;
    return {(int64_t(g) * c.Cg + ch) * c.H * c.W, r * c.dh - c.ph, s * c.dw - c.pw};
  }
  __device__ T load(const FilterCol& ctx, int k) const {
    const int pq = c.P * c.Q;
    const int n = k / pq, t = k - n * pq, p = t / c.Q, q = t - p * c.Q;
    const int h = p * c.sh + ctx.roff, w = q * c.sw + ctx.soff;
    return (h >= 0 && h < c.H && w >= 0 && w < c.W)
               ? x[int64_t(n) * c.C * c.H * c.W + ctx.base + int64_t(h) * c.W + w]
               : T(0);
  }
};

// dw[g*Kg + m, (c, r, s) = j] = acc.
template <class T>
struct BwdWeightStore {
  T* dw;
  int crs, Kg;
  __device__ void operator()(int g, int m, int j, T v) const {
    dw[(int64_t(g) * Kg + m) * crs + j] = v;
  }
};

// ---- bias

// db[k] = sum over n and the inner positions of dy[n, k, inner]: one block per channel, double
// accumulation, reduced by warp shuffles (reduce.cuh). blockDim.x a multiple of 32.
template <class T>
__global__ void channel_sum_kernel(const T* dy, int64_t N, int64_t K, int64_t inner, T* db) {
  __shared__ double scratch[32];
  const int64_t k = blockIdx.x;
  double s = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const T* p = dy + (n * K + k) * inner;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) s += static_cast<double>(p[i]);
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) db[k] = static_cast<T>(s);
}

// y[n, k, inner] += b[k] over the flat index.
template <class T>
__global__ void add_channel_bias_kernel(T* y, const T* b, int64_t K, int64_t inner, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] += b[(i / inner) % K];
}

}  // namespace fcnlab::kernels::cuda
