// cpu/optim.cpp — the update loops of SGD and Adam/AdamW.
#include "kernels/cpu/optim.h"

#include <cmath>

namespace fcnlab::kernels::cpu {

void sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, double lr, double weight_decay,
                double momentum, double dampening, bool nesterov, bool first_step) {
  dispatch_floating(param.dtype(), "sgd_update", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* b = momentum != 0.0 ? buf.data<T>() : nullptr;
    const T wd = static_cast<T>(weight_decay), mu = static_cast<T>(momentum);
    const T damp = static_cast<T>(1.0 - dampening), step = static_cast<T>(lr);
    for (int64_t i = 0, n = param.numel(); i < n; ++i) {
      T d = g[i];
      if (weight_decay != 0.0) d += wd * p[i];
      if (b) {
        b[i] = first_step ? d : mu * b[i] + damp * d;
        d = nesterov ? d + mu * b[i] : b[i];
      }
      p[i] -= step * d;
    }
  });
}

void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step) {
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step)));
  dispatch_floating(param.dtype(), "adam_update", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T wd = static_cast<T>(weight_decay), decay = static_cast<T>(1.0 - lr * weight_decay);
    const T step_size = static_cast<T>(lr / bc1), bc2s = static_cast<T>(bc2_sqrt);
    const T e = static_cast<T>(eps);
    for (int64_t i = 0, n = param.numel(); i < n; ++i) {
      T gi = g[i];
      if (weight_decay != 0.0) {
        if (decoupled) p[i] *= decay; else gi += wd * p[i];
      }
      m[i] = b1 * m[i] + (T(1) - b1) * gi;
      v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2s + e);
    }
  });
}

}  // namespace fcnlab::kernels::cpu
