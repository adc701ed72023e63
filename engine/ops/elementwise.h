// ops/elementwise.h — pointwise ops and reductions (all differentiable).
#pragma once
#include "engine/tensor.h"

namespace fcnlab {

Tensor add(const Tensor& a, const Tensor& b);         // a + b, same shape
Tensor sub(const Tensor& a, const Tensor& b);         // a - b, same shape
Tensor mul(const Tensor& a, const Tensor& b);         // a * b elementwise, same shape
Tensor scale(const Tensor& x, double alpha);          // alpha * x
Tensor add_scalar(const Tensor& x, double c);         // x + c
Tensor relu(const Tensor& x);                         // max(x, 0)
Tensor sum(const Tensor& x);                          // all elements -> shape [1]
Tensor mean(const Tensor& x);                         // all elements -> shape [1]

// Not recorded (optimizers, metrics): the value of sum(x*x) and of max |x|, as doubles.
double sum_of_squares(const Tensor& x);

}  // namespace fcnlab
