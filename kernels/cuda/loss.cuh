// cuda/loss.cuh — device code for the losses. Forward kernels reduce in two launches: each
// block sums its grid-stride share in double (warp shuffles, then one value per warp through
// shared memory: reduce.cuh's block_sum) into `partial`, then one block per group adds the
// partials into the f64 `stats` the CPU reference fills (kernels/cpu/loss.h). Backward
// kernels are elementwise (one thread per pixel or element).
#pragma once
#include <cstdint>

#include "kernels/cuda/reduce.cuh"

namespace fcnlab::kernels::cuda {

__device__ __forceinline__ double softplus_d(double z) {
  return (z > 0.0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

__device__ __forceinline__ double sigmoid_d(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}

// log(sum_c exp(x_c)) over one pixel's channel column (stride s), one pass: online max and
// rescaled sum, in double.
template <class T>
__device__ __forceinline__ double column_log_sum_exp(const T* xc, int64_t C, int64_t s) {
  double m = static_cast<double>(xc[0]), z = 1.0;
  for (int64_t c = 1; c < C; ++c) {
    const double v = static_cast<double>(xc[c * s]);
    if (v > m) {
      z = z * exp(m - v) + 1.0;
      m = v;
    } else {
      z += exp(v - m);
    }
  }
  return m + log(z);
}

// partial[2b] = sum of w[t] * nll, partial[2b+1] = sum of w[t] over this block's pixels.
// A target outside [0, C) that is not ignore_index: atomicMin(bad, pixel) (the launcher
// reports the lowest such pixel, as the CPU reports the first) and the pixel is skipped.
template <class T>
__global__ void cross_entropy_partial_kernel(const T* x, const int32_t* target, const T* weight, int64_t outer,
                                             int64_t C, int64_t inner, int ignore_index, double* partial,
                                             int* bad) {
  __shared__ double scratch[32];
  double total = 0.0, wsum = 0.0;
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < outer * inner;
       p += int64_t(gridDim.x) * blockDim.x) {
    const int32_t t = target[p];
    if (t == ignore_index) continue;
    if (t < 0 || t >= C) {
      atomicMin(bad, static_cast<int>(p));
      continue;
    }
    const T* xc = x + (p / inner) * C * inner + p % inner;
    const double w = static_cast<double>(weight[t]);
    total += w * (column_log_sum_exp(xc, C, inner) - static_cast<double>(xc[t * inner]));
    wsum += w;
  }
  total = block_sum(total, scratch);
  wsum = block_sum(wsum, scratch);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = total;
    partial[2 * blockIdx.x + 1] = wsum;
  }
}

// dlogits = scale * w[t] * (softmax - onehot(t)) on counted pixels, 0 on ignored ones.
template <class T>
__global__ void cross_entropy_backward_kernel(const T* x, const int32_t* target, const T* weight, int64_t outer,
                                              int64_t C, int64_t inner, int ignore_index, double scale, T* dx) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < outer * inner;
       p += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = (p / inner) * C * inner + p % inner;
    const int32_t t = target[p];
    if (t == ignore_index || t < 0 || t >= C) {  // out of range was reported by the forward
      for (int64_t c = 0; c < C; ++c) dx[o + c * inner] = T(0);
      continue;
    }
    const double lse = column_log_sum_exp(x + o, C, inner);
    const double k = scale * static_cast<double>(weight[t]);
    for (int64_t c = 0; c < C; ++c) {
      const double prob = exp(static_cast<double>(x[o + c * inner]) - lse);
      dx[o + c * inner] = static_cast<T>(k * (prob - (c == t ? 1.0 : 0.0)));
    }
  }
}

// Soft Dice forward in ONE launch, grid (B, G): block (b, g) sums {p t, p, t} over its share of
// group g's M elements (4 elements per thread per step, their 8 loads issued together) into
// partial[(g * B + b) * 3 + k]; the last block to finish (a device-wide counter, reset by that
// block for the next launch) sums the partials into stats (G, 3) and writes the loss
// 1 - mean_g dice_g, dice_g = (2 inter + smooth) / (sum p + sum t + smooth) (1 when both are 0),
// so no host round trip is needed. The counter lives in loss.cu (g_dice_blocks_done).
constexpr int kDiceUnroll = 4;

template <class T>
__global__ void dice_forward_kernel(const T* prob, const T* target, int64_t M, double smooth, double* partial,
                                    unsigned* blocks_done, double* stats, T* loss) {
  __shared__ double scratch[32];
  __shared__ bool last;
  const int64_t g = blockIdx.y;
  const int G = gridDim.y, B = gridDim.x;
  const T* pg = prob + g * M;
  const T* tg = target + g * M;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  double inter = 0.0, sp = 0.0, st = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < M; i += kDiceUnroll * stride) {
    T p[kDiceUnroll], t[kDiceUnroll];
FCNLAB_UNROLL
    for (int u = 0; u < kDiceUnroll; ++u) {
      const int64_t j = i + u * stride;
      p[u] = j < M ? pg[j] : T(0);
      t[u] = j < M ? tg[j] : T(0);
    }
FCNLAB_UNROLL
    for (int u = 0; u < kDiceUnroll; ++u) {
      const double pd = p[u], td = t[u];
      inter += pd * td;
      sp += pd;
      st += td;
    }
  }
  inter = block_sum(inter, scratch);
  sp = block_sum(sp, scratch);
  st = block_sum(st, scratch);
  if (threadIdx.x == 0) {
    double* out = partial + (g * B + blockIdx.x) * 3;
    out[0] = inter;
    out[1] = sp;
    out[2] = st;
    __threadfence();  // the partials are visible device-wide before the count says so
    last = atomicAdd(blocks_done, 1u) == unsigned(G) * unsigned(B) - 1u;
  }
  __syncthreads();
  if (!last) return;  // uniform across the block
  __threadfence();
  // The last block: warp w sums partial column (g, k) for every (g, k) = w, w + warps, ...
  const volatile double* vp = partial;  // written by other blocks: read past this SM's L1
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int gk = warp; gk < G * 3; gk += warps) {
    const int gg = gk / 3, k = gk - gg * 3;
    double s = 0.0;
    for (int b = lane; b < B; b += 32) s += vp[(int64_t(gg) * B + b) * 3 + k];
    s = warp_sum(s);
    if (lane == 0) stats[gk] = s;
  }
  __syncthreads();  // stats written by this block's warps (global memory, same block: visible)
  if (threadIdx.x == 0) {
    double dice_sum = 0.0;
    for (int gg = 0; gg < G; ++gg) {
      const double num = 2.0 * stats[gg * 3] + smooth, den = stats[gg * 3 + 1] + stats[gg * 3 + 2] + smooth;
      dice_sum += den > 0 ? num / den : 1.0;  // both empty with smooth 0: perfect agreement
    }
    *loss = static_cast<T>(1.0 - dice_sum / G);
    *blocks_done = 0u;  // ready for the next launch (one stream: launches never overlap)
  }
}

// Second stage of every forward: block g sums partial[(g * B + b) * K + k] over b into
// out[g * K + k], for k < K (K <= 4).
__global__ void finish_partials_kernel(const double* partial, int B, int K, double* out) {
  __shared__ double scratch[32];
  const int g = blockIdx.x;
  for (int k = 0; k < K; ++k) {
    double s = 0.0;
    for (int b = threadIdx.x; b < B; b += blockDim.x) s += partial[(int64_t(g) * B + b) * K + k];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) out[g * K + k] = s;
  }
}

// d{prob,target}_i = scale * (2 {t,p}_i / den - num / den^2) of i's group; 0 when den == 0.
template <class T>
__global__ void dice_backward_kernel(const T* prob, const T* target, const double* stats, int64_t M, int64_t n,
                                     double smooth, double scale, T* dp, T* dt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double* s = stats + (i / M) * 3;
    const double num = 2.0 * s[0] + smooth, den = s[1] + s[2] + smooth;
    const double a = den > 0 ? scale * 2.0 / den : 0.0;
    const double b = den > 0 ? scale * num / (den * den) : 0.0;
    if (dp) dp[i] = static_cast<T>(a * static_cast<double>(target[i]) - b);
    if (dt) dt[i] = static_cast<T>(a * static_cast<double>(prob[i]) - b);
  }
}

// partial[b] = sum of (1 - t) x + (1 + (pw - 1) t) softplus(-x) over this block's elements.
template <class T>
__global__ void bce_partial_kernel(const T* x, const T* target, double pos_weight, int64_t n, double* partial) {
  __shared__ double scratch[32];
  double total = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = x[i], t = target[i];
    total += (1.0 - t) * v + (1.0 + (pos_weight - 1.0) * t) * softplus_d(-v);
  }
  total = block_sum(total, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

template <class T>
__global__ void bce_backward_kernel(const T* x, const T* target, double pos_weight, double scale, int64_t n, T* dx,
                                    T* dt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = x[i], t = target[i];
    if (dx) {
      const double sg = sigmoid_d(v);
      dx[i] = static_cast<T>(scale * ((1.0 - t) * sg - pos_weight * t * (1.0 - sg)));
    }
    if (dt) dt[i] = static_cast<T>(scale * ((pos_weight - 1.0) * softplus_d(-v) - v));
  }
}

}  // namespace fcnlab::kernels::cuda
