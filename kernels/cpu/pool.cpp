// cpu/pool.cpp — max pooling over each (n, c) plane; planes are independent (OpenMP).
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>

namespace fcnlab::kernels::cpu {

void max_pool2d_forward(const Tensor& x, const MaxPool2dOptions& o, Tensor& y, Tensor& argmax) {
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t H = x.size(2), W = x.size(3), P = y.size(2), Q = y.size(3);
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    int32_t* pa = argmax.data<int32_t>();
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < planes; ++plane) {
      const T* xp = px + plane * H * W;
      T* yp = py + plane * P * Q;
      int32_t* ap = pa + plane * P * Q;
      for (int64_t p = 0; p < P; ++p) {
        // Window rows [h0, h1) after clipping the padding away.
        const int64_t hs = p * o.stride_h - o.pad_h;
        const int64_t h0 = std::max<int64_t>(hs, 0), h1 = std::min<int64_t>(hs + o.kernel_h, H);
        for (int64_t q = 0; q < Q; ++q) {
          const int64_t ws = q * o.stride_w - o.pad_w;
          const int64_t w0 = std::max<int64_t>(ws, 0), w1 = std::min<int64_t>(ws + o.kernel_w, W);
          // The op guarantees a non-empty window; start from its first element.
          int64_t best = h0 * W + w0;
          T m = xp[best];
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) {
              const T v = xp[h * W + w];
              if (v > m || (std::isnan(v) && !std::isnan(m))) {
                m = v;
                best = h * W + w;
              }
            }
          yp[p * Q + q] = m;
          ap[p * Q + q] = static_cast<int32_t>(best);
        }
      }
    }
  });
}

void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, const MaxPool2dOptions&,
                         Tensor& dx) {
  const int64_t planes = dx.size(0) * dx.size(1);
  const int64_t HW = dx.size(2) * dx.size(3), PQ = dy.size(2) * dy.size(3);
  dispatch_floating(dy.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = dy.data<T>();
    const int32_t* pa = argmax.data<int32_t>();
    T* pd = dx.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < planes; ++plane) {
      T* dp = pd + plane * HW;
      std::fill(dp, dp + HW, T(0));
      const T* gp = pg + plane * PQ;
      const int32_t* ap = pa + plane * PQ;
      for (int64_t i = 0; i < PQ; ++i) dp[ap[i]] += gp[i];
    }
  });
}

}  // namespace fcnlab::kernels::cpu
