// cpu/optim.h — reference kernels of the optimizer updates (one parameter tensor at a time).
// The CUDA backend provides the same signatures in kernels::cuda. Arithmetic is done in the
// parameter's type with the hyper-parameters in double, in the order PyTorch uses.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// SGD (torch.optim.SGD): d = g + wd*p; with momentum: buf = d on the first step, else
// buf = momentum*buf + (1-dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d.
// buf is undefined when momentum == 0.
void sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, double lr, double weight_decay,
                double momentum, double dampening, bool nesterov, bool first_step);

// Adam / AdamW (torch.optim.Adam, AdamW) at step t >= 1:
//   decoupled (AdamW): p *= 1 - lr*wd;  else (Adam): g += wd*p
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step);

}  // namespace fcnlab::kernels::cpu
