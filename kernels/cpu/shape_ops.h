// cpu/shape_ops.h — reference kernels for ops that only move data: channel concat/split and
// the 2-D crop with its zero-padding adjoint. Pure copies, so any dtype works.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// dst[:, c_offset : c_offset + Ci] = src;  src (N, Ci, H, W), dst (N, Ctot, H, W).
void concat_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst);

// dst = src[:, c_offset : c_offset + Ci];  src (N, Ctot, H, W), dst (N, Ci, H, W).
void split_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst);

// y = x[:, :, off_h : off_h + P, off_w : off_w + Q];  x (N, C, H, W), y (N, C, P, Q).
void crop2d_forward(const Tensor& x, int64_t off_h, int64_t off_w, Tensor& y);

// The adjoint: dx = 0 outside the window, dx[:, :, off_h + p, off_w + q] = dy[:, :, p, q].
void crop2d_backward(const Tensor& dy, int64_t off_h, int64_t off_w, Tensor& dx);

}  // namespace fcnlab::kernels::cpu
