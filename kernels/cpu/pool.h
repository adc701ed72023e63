// cpu/pool.h — reference kernels for 2-D max pooling (forward with argmax, backward scatter).
// Shapes are fixed by the preallocated tensors: x (N, C, H, W), y (N, C, P, Q),
// argmax (N, C, P, Q) i32. The engine op has already checked the options and sizes.
#pragma once
#include "engine/ops/pool.h"
#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// y[n,c,p,q] = max over the window rows p*stride_h - pad_h + [0, kernel_h) (and the same for
// columns), clipped to the input: padding is -inf, never the max. argmax[n,c,p,q] = h*W + w,
// the input position of the first maximum in row-major window order (Caffe's mask). A NaN in
// the window wins (it propagates, as in PyTorch).
void max_pool2d_forward(const Tensor& x, const MaxPool2dOptions& o, Tensor& y, Tensor& argmax);

// dx (N, C, H, W) = 0, then dx[n,c,argmax[n,c,p,q]] += dy[n,c,p,q] (overlapping windows add,
// in increasing p*Q + q order). `o` is unused here; the CUDA kernel gathers over the windows.
void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, const MaxPool2dOptions& o,
                         Tensor& dx);

}  // namespace fcnlab::kernels::cpu
