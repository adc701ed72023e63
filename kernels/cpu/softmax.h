// cpu/softmax.h — reference kernels for the channel-axis ops: softmax, log_softmax, channel
// selection, argmax over channels, and the elementwise sigmoid.
// A tensor (N, C, ...) is seen as (outer = N, channels = C, inner = product of the rest):
// element (n, c, i) sits at (n * C + c) * inner + i. Outputs are preallocated by the caller.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

struct ChannelLayout {
  int64_t outer = 0;     // N
  int64_t channels = 0;  // C
  int64_t inner = 0;     // H * W (1 for (N, C))
};
// The layout of x (at least 2-d; dim 1 is the channel axis).
ChannelLayout channel_layout(const Tensor& x);

// y = softmax over channels, stable: exp(x - max_c x) / sum_c exp(x - max_c x).
void softmax_forward(const Tensor& x, Tensor& y);
// y = x - max_c x - log(sum_c exp(x - max_c x)).
void log_softmax_forward(const Tensor& x, Tensor& y);
// y: softmax output. dx = y * (dy - sum_c dy * y).
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
// y: log_softmax output. dx = dy - exp(y) * sum_c dy.
void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);

// x: (N, C, ...) -> y: (N, ...) = x[:, c].
void select_channel_forward(const Tensor& x, int64_t c, Tensor& y);
// dx: (N, C, ...) = dy at channel c, 0 elsewhere.
void select_channel_backward(const Tensor& dy, int64_t c, Tensor& dx);

// x: (N, C, ...) floating -> out: i32 (N, ...), the lowest index among equal maxima.
void argmax_channels(const Tensor& x, Tensor& out);

// y = 1 / (1 + exp(-x)), evaluated without overflow for large |x|.
void sigmoid_forward(const Tensor& x, Tensor& y);
// y: sigmoid output. dx = dy * y * (1 - y).
void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace fcnlab::kernels::cpu
