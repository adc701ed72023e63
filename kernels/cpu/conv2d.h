// cpu/conv2d.h — 2-d convolution kernels for the CPU: forward, data gradient, weight gradient,
// bias gradient, and the plain 7-loop direct convolution they are all checked against.
// Shapes: x (N, C, H, W), w (K, C/groups, R, S), b (K) or undefined, y (N, K, P, Q).
// Outputs are preallocated by the caller (engine/ops/conv.cpp), which has checked the shapes.
// conv_transpose2d needs no kernel of its own: its forward is conv2d_backward_data, its data
// gradient conv2d_forward and its weight gradient conv2d_backward_weight with x and dy swapped.
#pragma once
#include "engine/ops/conv.h"
#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// y = conv(x, w) + b. float: implicit im2col + packed SGEMM (1x1 stride-1 convs read x as the
// matrix directly); double: im2col in column chunks + the plain GEMM.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o);

// dx = conv2d's data gradient of dy: col2im(w^T * dy). dx's shape fixes H, W (so a transposed
// convolution's output_padding is just a larger dx). Overwrites dx.
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o);

// dw = sum over images of dy * im2col(x)^T. Overwrites dw.
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o);

// db[k] = sum over n, p, q of dy[n, k, p, q] (double accumulation). dy: (N, K, ...) any rank >= 2.
void conv_bias_backward(const Tensor& dy, Tensor& db);

// y[n, k, ...] += b[k]. y: (N, K, ...) any rank >= 2.
void add_channel_bias(Tensor& y, const Tensor& b);

// Materialized column matrices (double forward, backward passes) are built in chunks of
// output columns no larger than this many bytes (default 64 MiB). Returns the previous value;
// tests lower it to exercise the chunking on small shapes.
int64_t conv2d_set_col_budget_bytes(int64_t bytes);

// The reference: seven nested loops, double accumulation, no lowering. Overwrites y.
void conv2d_forward_direct(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                           const Conv2dOptions& o);

}  // namespace fcnlab::kernels::cpu
