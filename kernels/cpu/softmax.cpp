// cpu/softmax.cpp — channel softmax family and sigmoid: plain loops, one pixel's channel
// column at a time (stride `inner`); channel sums accumulate in double.
#include "kernels/cpu/softmax.h"

#include <cmath>

namespace fcnlab::kernels::cpu {

ChannelLayout channel_layout(const Tensor& x) {
  FCNLAB_CHECK(x.dim() >= 2, "channel_layout: expected (N, C, ...), got shape ", x.shape().str());
  ChannelLayout l;
  l.outer = x.size(0);
  l.channels = x.size(1);
  l.inner = 1;
  for (int d = 2; d < x.dim(); ++d) l.inner *= x.size(d);
  return l;
}

namespace {

// Calls f(column pointer offset) for every (n, i): the offset of channel 0 of that pixel.
template <class F>
void for_each_pixel(const ChannelLayout& l, F&& f) {
  for (int64_t n = 0; n < l.outer; ++n)
    for (int64_t i = 0; i < l.inner; ++i) f(n * l.channels * l.inner + i);
}

template <class T>
T column_max(const T* x, int64_t C, int64_t stride) {
  T m = x[0];
  for (int64_t c = 1; c < C; ++c) m = x[c * stride] > m ? x[c * stride] : m;
  return m;
}

template <class T>
void softmax_impl(const Tensor& x, Tensor& y, bool log_space) {
  const ChannelLayout l = channel_layout(x);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const int64_t C = l.channels, s = l.inner;
  if (C == 0) return;
  for_each_pixel(l, [&](int64_t o) {
    const T* xc = px + o;
    T* yc = py + o;
    const T m = column_max(xc, C, s);  // subtracting the max keeps exp() <= 1: no overflow
    double z = 0.0;
    for (int64_t c = 0; c < C; ++c) z += static_cast<double>(std::exp(xc[c * s] - m));
    if (log_space) {
      const T log_z = static_cast<T>(std::log(z));
      for (int64_t c = 0; c < C; ++c) yc[c * s] = (xc[c * s] - m) - log_z;
    } else {
      const double inv_z = 1.0 / z;
      for (int64_t c = 0; c < C; ++c)
        yc[c * s] = static_cast<T>(static_cast<double>(std::exp(xc[c * s] - m)) * inv_z);
    }
  });
}

}  // namespace

void softmax_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "softmax", [&](auto tag) { softmax_impl<decltype(tag)>(x, y, false); });
}

void log_softmax_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "log_softmax", [&](auto tag) { softmax_impl<decltype(tag)>(x, y, true); });
}

void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  dispatch_floating(y.dtype(), "softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(y);
    const T* py = y.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    const int64_t C = l.channels, s = l.inner;
    for_each_pixel(l, [&](int64_t o) {
      // Jacobian of softmax: dy_c/dx_k = y_c (delta_ck - y_k), so dx_k = y_k (g_k - <g, y>).
      double dot = 0.0;
      for (int64_t c = 0; c < C; ++c) dot += static_cast<double>(pg[o + c * s]) * py[o + c * s];
      for (int64_t c = 0; c < C; ++c)
        pd[o + c * s] = static_cast<T>(py[o + c * s] * (pg[o + c * s] - dot));
    });
  });
}

void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  dispatch_floating(y.dtype(), "log_softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(y);
    const T* py = y.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    const int64_t C = l.channels, s = l.inner;
    for_each_pixel(l, [&](int64_t o) {
      // d log_softmax_c / dx_k = delta_ck - softmax_k, so dx_k = g_k - softmax_k * sum_c g_c.
      double gsum = 0.0;
      for (int64_t c = 0; c < C; ++c) gsum += static_cast<double>(pg[o + c * s]);
      for (int64_t c = 0; c < C; ++c)
        pd[o + c * s] = static_cast<T>(pg[o + c * s] - std::exp(static_cast<double>(py[o + c * s])) * gsum);
    });
  });
}

void select_channel_forward(const Tensor& x, int64_t c, Tensor& y) {
  dispatch_floating(x.dtype(), "select_channel", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(x);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t n = 0; n < l.outer; ++n)
      for (int64_t i = 0; i < l.inner; ++i) py[n * l.inner + i] = px[(n * l.channels + c) * l.inner + i];
  });
}

void select_channel_backward(const Tensor& dy, int64_t c, Tensor& dx) {
  dispatch_floating(dx.dtype(), "select_channel_backward", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(dx);
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    for (int64_t k = 0, n = dx.numel(); k < n; ++k) pd[k] = T(0);
    for (int64_t n = 0; n < l.outer; ++n)
      for (int64_t i = 0; i < l.inner; ++i) pd[(n * l.channels + c) * l.inner + i] = pg[n * l.inner + i];
  });
}

void argmax_channels(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "argmax_channels", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(x);
    const T* px = x.data<T>();
    int32_t* po = out.data<int32_t>();
    for (int64_t n = 0; n < l.outer; ++n)
      for (int64_t i = 0; i < l.inner; ++i) {
        const T* xc = px + n * l.channels * l.inner + i;
        int32_t best = 0;
        // Strict '>' keeps the first (lowest) index among equal maxima.
        for (int64_t c = 1; c < l.channels; ++c)
          if (xc[c * l.inner] > xc[best * l.inner]) best = static_cast<int32_t>(c);
        po[n * l.inner + i] = best;
      }
  });
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "sigmoid", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
      // Only ever exp() of a non-positive number: no overflow for x = +-1000.
      const T v = px[i];
      if (v >= T(0)) {
        py[i] = T(1) / (T(1) + std::exp(-v));
      } else {
        const T e = std::exp(v);
        py[i] = e / (T(1) + e);
      }
    }
  });
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  dispatch_floating(y.dtype(), "sigmoid_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* py = y.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    for (int64_t i = 0, n = y.numel(); i < n; ++i) pd[i] = pg[i] * py[i] * (T(1) - py[i]);
  });
}

}  // namespace fcnlab::kernels::cpu
