// cpu/lrn.h — reference kernels for local response normalization across channels (Caffe's
// ACROSS_CHANNELS). x, y, scale, dy, dx: (N, C, H, W), all the same dtype.
//
// Window of channel c: [c - pre, c - pre + n - 1] with pre = (n - 1) / 2, clipped to [0, C).
//   scale[c] = k + alpha / n * sum_{c' in window(c)} x[c']^2
//   y[c]     = x[c] * scale[c]^-beta
// Gradient (c appears in the windows of c' in [c + pre - n + 1, c + pre], clipped):
//   dx[c] = dy[c] * scale[c]^-beta
//         - 2 alpha beta / n * x[c] * sum_{c' : c in window(c')} dy[c'] x[c'] scale[c']^(-beta-1)
// For odd n both windows are the centred one (Caffe's backward); for even n they differ.
#pragma once
#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// Writes y and the scale (saved by the op for backward). Sums accumulate in double.
void lrn_forward(const Tensor& x, int local_size, double alpha, double beta, double k, Tensor& y,
                 Tensor& scale);

// dx from the saved x and scale and the output gradient dy.
void lrn_backward(const Tensor& x, const Tensor& scale, const Tensor& dy, int local_size,
                  double alpha, double beta, Tensor& dx);

}  // namespace fcnlab::kernels::cpu
