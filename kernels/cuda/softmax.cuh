// cuda/softmax.cuh — device code for the channel-axis ops on (N, C, inner) tensors. One thread
// per pixel (n, i) walks its channel column with stride `inner`: at every step the threads of
// a warp read 32 consecutive pixels of the same channel, so every access is coalesced.
// softmax/log_softmax read a column of up to 32 channels once, into registers (all its loads in
// flight together), and write y from there; wider columns make one pass for the statistics
// (online max and rescaled sum, in double) and a second to write y. Ladder of earlier
// versions: bench/ladder/softmax_v*.cuh (v1 naive, v2 online; this is v3).
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

#define FCNLAB_FOR_EACH_PIXEL(pix, outer, inner)                                                 \
  for (int64_t pix = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; pix < (outer) * (inner); \
       pix += int64_t(gridDim.x) * blockDim.x)

// Online statistics of one column: m = max_c x_c, z = sum_c exp(x_c - m), in one read of x.
// When the max grows, the sum so far is rescaled by exp(m_old - m_new) <= 1.
template <class T>
__device__ __forceinline__ void column_max_sum(const T* xc, int64_t C, int64_t s, double& m, double& z) {
  m = static_cast<double>(xc[0]);
  z = 1.0;
  for (int64_t c = 1; c < C; ++c) {
    const double v = static_cast<double>(xc[c * s]);
    if (v > m) {
      z = z * exp(m - v) + 1.0;
      m = v;
    } else {
      z += exp(v - m);
    }
  }
}

// exp in T's own precision, as std::exp(T) in the CPU reference.
template <class T>
__device__ __forceinline__ T exp_in(T v) {
  if constexpr (sizeof(T) == 4) return expf(v);
  else return exp(v);
}

// Columns of at most this many channels (FCN's 21 or 2 classes) are read ONCE, into registers:
// the thread issues all C loads back to back (C loads in flight instead of one), then computes
// as the CPU reference does: m = max in T, z = sum of exp(x - m) (exp in T) in double, y = T(e / z)
// or (x - m) - T(log z). Wider columns take the online two-read loop (ladder v2).
constexpr int kSoftmaxCachedChannels = 32;

// Launched with 256 threads (softmax.cu); the bound lets nvcc give the register columns up to 255
// registers and still guarantees the launch fits an SM's register file.
constexpr int kSoftmaxThreads = 256;

template <class T, bool LOG>
__global__ void __launch_bounds__(kSoftmaxThreads) softmax_forward_kernel(const T* x, int64_t outer, int64_t C, int64_t inner, T* y) {
  FCNLAB_FOR_EACH_PIXEL(pix, outer, inner) {
    const int64_t o = (pix / inner) * C * inner + pix % inner;
    const T* xc = x + o;
    T* yc = y + o;
    if (C <= kSoftmaxCachedChannels) {
      T v[kSoftmaxCachedChannels];
FCNLAB_UNROLL
      for (int c = 0; c < kSoftmaxCachedChannels; ++c)
        if (c < C) v[c] = xc[c * inner];
      T m = v[0];
FCNLAB_UNROLL
      for (int c = 1; c < kSoftmaxCachedChannels; ++c)
        if (c < C) m = v[c] > m ? v[c] : m;
      double z = 0.0;
FCNLAB_UNROLL
      for (int c = 0; c < kSoftmaxCachedChannels; ++c)
        if (c < C) z += static_cast<double>(exp_in(static_cast<T>(v[c] - m)));
      if (LOG) {
        const T log_z = static_cast<T>(log(z));
FCNLAB_UNROLL
        for (int c = 0; c < kSoftmaxCachedChannels; ++c)
          if (c < C) yc[c * inner] = (v[c] - m) - log_z;
      } else {
        const double inv_z = 1.0 / z;
FCNLAB_UNROLL
        for (int c = 0; c < kSoftmaxCachedChannels; ++c)
          if (c < C) yc[c * inner] = static_cast<T>(static_cast<double>(exp_in(static_cast<T>(v[c] - m))) * inv_z);
      }
      continue;
    }
    double m, z;
    column_max_sum(xc, C, inner, m, z);
    if (LOG) {
      const double shift = m + log(z);
      for (int64_t c = 0; c < C; ++c) yc[c * inner] = static_cast<T>(static_cast<double>(xc[c * inner]) - shift);
    } else {
      const double inv_z = 1.0 / z;
      for (int64_t c = 0; c < C; ++c)
        yc[c * inner] = static_cast<T>(exp(static_cast<double>(xc[c * inner]) - m) * inv_z);
    }
  }
}

// softmax: dx = y (g - <g, y>);  log_softmax: dx = g - exp(y) sum g. As the forward, a column of
// up to 32 channels is read once (y and g into registers, all loads in flight together).
template <class T, bool LOG>
__global__ void __launch_bounds__(kSoftmaxThreads) softmax_backward_kernel(const T* y, const T* g, int64_t outer, int64_t C, int64_t inner, T* dx) {
  FCNLAB_FOR_EACH_PIXEL(pix, outer, inner) {
    const int64_t o = (pix / inner) * C * inner + pix % inner;
    if (C <= kSoftmaxCachedChannels) {
      T yv[kSoftmaxCachedChannels], gv[kSoftmaxCachedChannels];
FCNLAB_UNROLL
      for (int c = 0; c < kSoftmaxCachedChannels; ++c)
        if (c < C) yv[c] = y[o + c * inner], gv[c] = g[o + c * inner];
      double acc = 0.0;
FCNLAB_UNROLL
      for (int c = 0; c < kSoftmaxCachedChannels; ++c)
        if (c < C) acc += LOG ? static_cast<double>(gv[c]) : static_cast<double>(gv[c]) * yv[c];
FCNLAB_UNROLL
      for (int c = 0; c < kSoftmaxCachedChannels; ++c)
        if (c < C)
          dx[o + c * inner] = LOG ? static_cast<T>(gv[c] - exp(static_cast<double>(yv[c])) * acc)
                                  : static_cast<T>(yv[c] * (gv[c] - acc));
      continue;
    }
    double acc = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = o + c * inner;
      acc += LOG ? static_cast<double>(g[k]) : static_cast<double>(g[k]) * y[k];
    }
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = o + c * inner;
      dx[k] = LOG ? static_cast<T>(g[k] - exp(static_cast<double>(y[k])) * acc)
                  : static_cast<T>(y[k] * (g[k] - acc));
    }
  }
}

// y (N, inner) = x[:, c].
template <class T>
__global__ void select_channel_forward_kernel(const T* x, int64_t outer, int64_t C, int64_t inner, int64_t c, T* y) {
  FCNLAB_FOR_EACH_PIXEL(pix, outer, inner) y[pix] = x[((pix / inner) * C + c) * inner + pix % inner];
}

// dx (N, C, inner) = dy at channel c, 0 elsewhere: one thread per element of dx.
template <class T>
__global__ void select_channel_backward_kernel(const T* dy, int64_t outer, int64_t C, int64_t inner, int64_t c,
                                               T* dx) {
  const int64_t total = outer * C * inner;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner, cc = (e / inner) % C, n = e / (C * inner);
    dx[e] = cc == c ? dy[n * inner + i] : T(0);
  }
}

// out (N, inner) i32: the lowest channel index among equal maxima (strict '>').
template <class T>
__global__ void argmax_channels_kernel(const T* x, int64_t outer, int64_t C, int64_t inner, int32_t* out) {
  FCNLAB_FOR_EACH_PIXEL(pix, outer, inner) {
    const T* xc = x + (pix / inner) * C * inner + pix % inner;
    int32_t best = 0;
    T m = xc[0];
    for (int64_t c = 1; c < C; ++c) {
      const T v = xc[c * inner];
      if (v > m) {
        m = v;
        best = static_cast<int32_t>(c);
      }
    }
    out[pix] = best;
  }
}

#undef FCNLAB_FOR_EACH_PIXEL

// y = 1 / (1 + exp(-x)) with exp only of non-positive numbers (no overflow at +-1000).
template <class T>
__global__ void sigmoid_forward_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T v = x[i];
    if (v >= T(0)) {
      y[i] = T(1) / (T(1) + exp_in(-v));
    } else {
      const T e = exp_in(v);
      y[i] = e / (T(1) + e);
    }
  }
}

template <class T>
__global__ void sigmoid_backward_kernel(const T* y, const T* g, T* dx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = g[i] * y[i] * (T(1) - y[i]);
}

}  // namespace fcnlab::kernels::cuda
