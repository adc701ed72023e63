// cuda/conv2d.cuh — device code of the convolutions: loaders and stores that turn conv2d and its
// two gradients into implicit GEMMs for the tiled engine of gemm.cuh (no im2col / col2im
// buffer is ever written), and the channel-bias kernels.
// Shapes: x (N, C, H, W), w (K, C/G, R, S), y / dy (N, K, P, Q); group g = blockIdx.z.
//   forward:         y[g]  (Kg x N*P*Q) = w[g] (Kg x Cg*R*S) * im2col(x)[g] (Cg*R*S x N*P*Q)
//   backward data:   dx[g] (Cg x N*H*W) = w[g]^T (Cg x Kg*R*S) * gather(dy)[g] (Kg*R*S x N*H*W),
//                    the gather reading dy[p, q] with h = p*sh - ph + r*dh (zero where no p fits),
//                    so every dx element is written once: no col2im scatter, no atomics.
//                    With a stride (and dilation 1) most (r, s) taps of a dx pixel find no p: the
//                    phase-decomposed form below skips them (it is also conv_transpose2d's forward:
//                    FCN-32s's 64x64 stride-32 upscore does 4 taps per channel instead of 4096).
//   backward weight: dw[g] (Kg x Cg*R*S) = dy[g] (Kg x N*P*Q) * im2col(x)[g]^T (N*P*Q x Cg*R*S)
// The forward also has a direct kernel for small reductions (conv1_1, few-class score layers),
// below the forward's GEMM loaders; conv2d.cu chooses between the two.
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
  bool vec4 = false;  // rows_vec4(w, crs): one 16-byte load per thread and slice (gemm.cuh)
  __device__ const T* row(int g, int m) const { return w + (int64_t(g) * Kg + m) * crs; }
  __device__ T load(const T* r, int k) const { return r[k]; }
  __device__ float4 load4(const T* r, int k) const { return load_float4(r + k); }
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

// ---- forward, direct (small reductions). When Cg*R*S is small the GEMM's 8-deep K slices are
// mostly padding and its 128-row tile mostly idle (conv1_1: K = 27, 64 filters; a 1x1 score layer:
// 2 filters). Here a block of 16 x 16 threads owns a 32 x 16 patch of output pixels of one image
// and group (each thread two pixels, 16 rows apart), and KB filters of that group. Per step it
// stages cb input planes of the patch's receptive field (th x tw, halo included) and those planes'
// weights in shared memory, filter index fastest: the KB weights of one tap are contiguous (read
// as wide broadcast loads) and each is used for both of the thread's pixels, so shared-memory
// loads stay well below the FMAs. Summation order per output: channel, r, s, as the CPU
// reference. The launcher (conv2d.cu) sizes cb so that the stage fits in kDirectStageBytes.
constexpr int kDirectThreadsX = 16, kDirectThreadsY = 16;
constexpr int kDirectRows = 2;                                   // output rows per thread
constexpr int kDirectPatchH = kDirectThreadsY * kDirectRows;     // 32 output rows per block
constexpr int kDirectPatchW = kDirectThreadsX;                   // 16 output columns per block

struct DirectGeom {
  ConvGeom c;
  int tiles_q;   // patches across Q
  int k_chunks;  // ceil(Kg / KB)
  int cb;        // input channels staged per step
  int th, tw;    // staged plane: (32 - 1) * sh + (R - 1) * dh + 1 rows, (16 - 1) * sw + (S - 1) * dw + 1 columns
};

template <class T, int KB>
__global__ void __launch_bounds__(kDirectThreadsX * kDirectThreadsY)
    conv2d_direct_kernel(const T* x, const T* w, const T* bias, T* y, DirectGeom d) {
  FCNLAB_DYNAMIC_SHARED(T, smem);
  const ConvGeom& c = d.c;
  const int rs = c.R * c.S, plane = d.th * d.tw;
  T* wt = smem;                     // cb x (R*S) x KB, 16-byte aligned: first in the stage
  T* tile = smem + d.cb * rs * KB;  // cb planes of th x tw
  constexpr int kThreads = kDirectThreadsX * kDirectThreadsY;
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kDirectThreadsX + tx;
  const int tp = blockIdx.x / d.tiles_q, tq = blockIdx.x - tp * d.tiles_q;
  const int n = blockIdx.y / d.k_chunks, chunk = blockIdx.y - n * d.k_chunks;
  const int g = blockIdx.z;
  const int p0 = tp * kDirectPatchH + ty, q = tq * kDirectPatchW + tx;  // rows p0, p0 + 16
  const int h0 = tp * kDirectPatchH * c.sh - c.ph, w0 = tq * kDirectPatchW * c.sw - c.pw;
  const int m0 = chunk * KB, kn = min(KB, c.Kg - m0);
  const int64_t xbase = (int64_t(n) * c.C + int64_t(g) * c.Cg) * c.H * c.W;
  const T* wg = w + (int64_t(g) * c.Kg + m0) * c.Cg * rs;

  T acc[kDirectRows][KB];
FCNLAB_UNROLL
  for (int i = 0; i < kDirectRows; ++i)
FCNLAB_UNROLL
    for (int kk = 0; kk < KB; ++kk) acc[i][kk] = T(0);

  for (int c0 = 0; c0 < c.Cg; c0 += d.cb) {
    const int cn = min(d.cb, c.Cg - c0);
    for (int i = tid; i < cn * plane; i += kThreads) {
      const int ch = i / plane, rem = i - ch * plane, hh = rem / d.tw, ww = rem - hh * d.tw;
      const int h = h0 + hh, wc = w0 + ww;
      tile[i] = (h >= 0 && h < c.H && wc >= 0 && wc < c.W)
                    ? x[xbase + (int64_t(c0 + ch) * c.H + h) * c.W + wc]
                    : T(0);
    }
    for (int i = tid; i < cn * rs * KB; i += kThreads) {
      const int ch = i / (rs * KB), rem = i - ch * rs * KB, t = rem / KB, kk = rem - t * KB;
      wt[i] = kk < kn ? wg[(int64_t(kk) * c.Cg + c0 + ch) * rs + t] : T(0);
    }
    __syncthreads();
    // Rows past P read staged zeros or halo (never outside the stage) and are not stored.
    for (int ch = 0; ch < cn; ++ch) {
      const T* in = tile + ch * plane + ty * c.sh * d.tw + tx * c.sw;
      const T* wp = wt + ch * rs * KB;
      for (int r = 0; r < c.R; ++r)
        for (int s = 0; s < c.S; ++s) {
          T v[kDirectRows];
FCNLAB_UNROLL
          for (int i = 0; i < kDirectRows; ++i)
            v[i] = in[(i * kDirectThreadsY * c.sh + r * c.dh) * d.tw + s * c.dw];
          const T* wk = wp + (r * c.S + s) * KB;
FCNLAB_UNROLL
          for (int kk = 0; kk < KB; ++kk) {
            const T wv = wk[kk];
FCNLAB_UNROLL
            for (int i = 0; i < kDirectRows; ++i) acc[i][kk] += v[i] * wv;
          }
        }
    }
    __syncthreads();  // the next step overwrites the stage
  }
  if (q >= c.Q) return;
FCNLAB_UNROLL
  for (int i = 0; i < kDirectRows; ++i) {
    const int p = p0 + i * kDirectThreadsY;
    if (p >= c.P) continue;
FCNLAB_UNROLL
    for (int kk = 0; kk < KB; ++kk) {
      if (kk < kn) {
        const int k = g * c.Kg + m0 + kk;
        y[((int64_t(n) * c.K + k) * c.P + p) * c.Q + q] = bias ? acc[i][kk] + bias[k] : acc[i][kk];
      }
    }
  }
}

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

// ---- backward data, phase-decomposed (stride > 1, dilation 1). The dx pixels split into
// sh x sw phases by (h + ph) mod sh and (w + pw) mod sw; every pixel of phase (a, b) is reached by
// the same taps r = a, a + sh, ... and s = b, b + sw, ..., so each phase is a dense GEMM with
// K = Kg * Tr * Ts (Tr = ceil(R / sh)), run with the phase as an extra group:
//   dx[g, phase] (Cg x N*Hp*Wp) = w_phase[g]^T (Cg x Kg*Tr*Ts) * dy_phase[g] (Kg*Tr*Ts x N*Hp*Wp)
// with Hp = ceil(H / sh). Phases with fewer rows than Hp leave their last columns idle; taps past
// R load zero weights (a phase with no tap at all writes zeros: no dy reaches those pixels).
struct PhaseGeom {
  ConvGeom c;
  int Hp, Wp;  // rows / columns of the largest phase
  int Tr, Ts;  // taps per phase
  // Group gz -> conv group g and phase (a, b); the phase's first dx row is h0, and its dy row
  // for tap t = 0 is p0 (p = p0 + i - t for the phase's i-th row and tap t).
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

inline PhaseGeom phase_geometry(const ConvGeom& c) {
  return {c, (c.H + c.sh - 1) / c.sh, (c.W + c.sw - 1) / c.sw, (c.R + c.sh - 1) / c.sh,
          (c.S + c.sw - 1) / c.sw};
}

// A(m = dx channel within the group, k = (kk, t, u)) = w[g*Kg + kk, m, a + t*sh, b + u*sw].
template <class T>
struct PhaseWeightRows {
  const T* w;
  PhaseGeom pg;
  struct Ctx { const T* row; int a, b; };
  __device__ Ctx row(int gz, int m) const {
    const auto f = pg.phase(gz);
    const ConvGeom& c = pg.c;
    return {w + (int64_t(f.g) * c.Kg * c.Cg + m) * c.R * c.S, f.a, f.b};
  }
  __device__ T load(const Ctx& x, int k) const {
    const ConvGeom& c = pg.c;
    const int tu = pg.Tr * pg.Ts;
    const int kk = k / tu, rem = k - kk * tu, t = rem / pg.Ts, u = rem - t * pg.Ts;
    const int r = x.a + t * c.sh, s = x.b + u * c.sw;
    return (r < c.R && s < c.S) ? x.row[int64_t(kk) * c.Cg * c.R * c.S + r * c.S + s] : T(0);
  }
};

// B(k = (kk, t, u), column (n, i, j)) = dy[n, g*Kg + kk, p0 + i - t, q0 + j - u] (0 outside).
template <class T>
struct PhaseGradCols {
  const T* dy;
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
  __device__ T load(const Ctx& x, int k) const {
    const ConvGeom& c = pg.c;
    const int tu = pg.Tr * pg.Ts;
    const int kk = k / tu, rem = k - kk * tu, t = rem / pg.Ts, u = rem - t * pg.Ts;
    const int p = x.p - t, q = x.q - u;
    return (x.ok && p >= 0 && p < c.P && q >= 0 && q < c.Q)
               ? dy[x.base + (int64_t(kk) * c.P + p) * c.Q + q]
               : T(0);
  }
};

// dx[n, g*Cg + m, h0 + i*sh, w0 + j*sw] = acc, for the columns that exist in this phase.
template <class T>
struct PhaseStore {
  T* dx;
  PhaseGeom pg;
  __device__ void operator()(int gz, int m, int j, T v) const {
    const auto f = pg.phase(gz);
    const ConvGeom& c = pg.c;
    const int per_n = pg.Hp * pg.Wp;
    const int n = j / per_n, rem = j - n * per_n, i = rem / pg.Wp, jj = rem - i * pg.Wp;
    const int h = f.h0 + i * c.sh, w = f.w0 + jj * c.sw;
    if (h < c.H && w < c.W) dx[((int64_t(n) * c.C + int64_t(f.g) * c.Cg + m) * c.H + h) * c.W + w] = v;
  }
};

// ---- backward weight: A(k, (n, p, q)) = dy[n, g*Kg + k, p, q]; B((n, p, q), (c, r, s)) = x gather.
template <class T>
struct BwdWeightGradRows {
  const T* dy;
  ConvGeom c;
  // rows_vec4(dy, P * Q): four k from a multiple of 4 then lie in one image's plane, so one
  // division and one 16-byte load serve them (gemm.cuh).
  bool vec4 = false;
  __device__ const T* row(int g, int m) const {
    return dy + (int64_t(g) * c.Kg + m) * c.P * c.Q;
  }
  __device__ T load(const T* r, int k) const {
    const int pq = c.P * c.Q;
    const int n = k / pq, t = k - n * pq;
    return r[int64_t(n) * c.K * pq + t];
  }
  __device__ float4 load4(const T* r, int k) const {
    const int pq = c.P * c.Q;
    const int n = k / pq, t = k - n * pq;
    return load_float4(r + int64_t(n) * c.K * pq + t);
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
  // Gathered as A is (gemm.cuh): each thread takes four consecutive k (pixels) of its column.
  // vec4 (N * P * Q a multiple of 4): load4 then splits k into (n, p, q) once and steps q for the
  // other three, where four load() calls divide eight times.
  static constexpr bool k_contiguous = true;
  bool vec4 = false;
  __device__ FilterCol col(int g, int j) const {
    const int rs = c.R * c.S;
    const int ch = j / rs, t = j - ch * rs, r = t / c.S, s = t - r * c.S;
    return {(int64_t(g) * c.Cg + ch) * c.H * c.W, r * c.dh - c.ph, s * c.dw - c.pw};
  }
  __device__ T load(const FilterCol& ctx, int k) const {
    const int pq = c.P * c.Q;
    const int n = k / pq, t = k - n * pq, p = t / c.Q, q = t - p * c.Q;
    return at(ctx, n, p, q);
  }
  __device__ float4 load4(const FilterCol& ctx, int k) const {
    const int pq = c.P * c.Q;
    int n = k / pq, t = k - n * pq, p = t / c.Q, q = t - p * c.Q;
    float v[4];
FCNLAB_UNROLL
    for (int i = 0; i < 4; ++i) {
      v[i] = static_cast<float>(at(ctx, n, p, q));
      if (++q == c.Q) {
        q = 0;
        if (++p == c.P) p = 0, ++n;
      }
    }
    return make_float4(v[0], v[1], v[2], v[3]);
  }
  __device__ T at(const FilterCol& ctx, int n, int p, int q) const {
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
