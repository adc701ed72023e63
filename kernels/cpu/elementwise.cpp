// cpu/elementwise.cpp — loops the compiler vectorizes; reductions accumulate in double.
#include "kernels/cpu/elementwise.h"

namespace fcnlab::kernels::cpu {

void add(const Tensor& a, const Tensor& b, Tensor& out) { axpby(1.0, a, 1.0, b, out); }

void axpby(double alpha, const Tensor& a, double beta, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "axpby", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
    const int64_t n = out.numel();
    if (alpha == 1.0 && beta == 1.0) {
      for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
    } else {
      for (int64_t i = 0; i < n; ++i) po[i] = al * pa[i] + be * pb[i];
    }
  });
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "mul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) po[i] = pa[i] * pb[i];
  });
}

void scale_shift(const Tensor& x, double alpha, double beta, Tensor& out) {
  dispatch_floating(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
    for (int64_t i = 0, n = out.numel(); i < n; ++i) po[i] = al * px[i] + be;
  });
}

void relu_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) py[i] = px[i] > T(0) ? px[i] : T(0);
  });
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  dispatch_floating(y.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* py = y.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    for (int64_t i = 0, n = y.numel(); i < n; ++i) pd[i] = py[i] > T(0) ? pg[i] : T(0);
  });
}

void sum_all(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    double s = 0.0;
    for (int64_t i = 0, n = x.numel(); i < n; ++i) s += static_cast<double>(px[i]);
    out.data<T>()[0] = static_cast<T>(s);
  });
}

void sum_of_squares_into(const Tensor& x, double& result) {
  result = dispatch_floating(x.dtype(), "sum_of_squares", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    double s = 0.0;
    for (int64_t i = 0, n = x.numel(); i < n; ++i) s += static_cast<double>(px[i]) * px[i];
    return s;
  });
}

}  // namespace fcnlab::kernels::cpu
