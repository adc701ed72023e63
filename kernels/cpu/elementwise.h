// cpu/elementwise.h — reference kernels for pointwise ops and reductions.
// All outputs are preallocated by the caller with the right shape/dtype/device.
#pragma once
#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

void add(const Tensor& a, const Tensor& b, Tensor& out);             // out = a + b
void axpby(double alpha, const Tensor& a, double beta, const Tensor& b, Tensor& out);  // out = alpha*a + beta*b
void mul(const Tensor& a, const Tensor& b, Tensor& out);             // out = a * b
void scale_shift(const Tensor& x, double alpha, double beta, Tensor& out);  // out = alpha*x + beta
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);   // dx = dy * (y > 0)
void sum_all(const Tensor& x, Tensor& out);                          // out: one element; double accumulation
void sum_of_squares_into(const Tensor& x, double& result);  // result = sum x^2

}  // namespace fcnlab::kernels::cpu
