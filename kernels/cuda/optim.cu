// cuda/optim.cu — launchers for the fused SGD(-momentum, Nesterov) and Adam/AdamW updates;
// hyper-parameters are converted to the parameter's type exactly as kernels/cpu/optim.cpp does.
#include "kernels/cuda/kernels.h"

#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/optim.cuh"

namespace fcnlab::kernels::cuda {

void sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, double lr, double weight_decay,
                double momentum, double dampening, bool nesterov, bool first_step) {
  const int64_t n = param.numel();
  if (n == 0) return;
  dispatch_floating(param.dtype(), "sgd_update", [&](auto tag) {
    using T = decltype(tag);
    T* b = momentum != 0.0 ? buf.data<T>() : nullptr;
    FCNLAB_LAUNCH_CHECKED(sgd_update_kernel<T>, blocks_for(n, 256), 256, 0, param.data<T>(), grad.data<T>(), b,
                          weight_decay != 0.0, static_cast<T>(weight_decay), static_cast<T>(momentum),
                          static_cast<T>(1.0 - dampening), static_cast<T>(lr), nesterov, first_step, n);
  });
}

void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step) {
  const int64_t n = param.numel();
  if (n == 0) return;
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step)));
  dispatch_floating(param.dtype(), "adam_update", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(adam_update_kernel<T>, blocks_for(n, 256), 256, 0, param.data<T>(), grad.data<T>(),
                          exp_avg.data<T>(), exp_avg_sq.data<T>(), static_cast<T>(beta1), static_cast<T>(beta2),
                          weight_decay != 0.0, decoupled, static_cast<T>(weight_decay),
                          static_cast<T>(1.0 - lr * weight_decay), static_cast<T>(lr / bc1),
                          static_cast<T>(bc2_sqrt), static_cast<T>(eps), n);
  });
}

}  // namespace fcnlab::kernels::cuda
