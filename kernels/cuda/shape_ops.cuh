// cuda/shape_ops.cuh — device code for the copies behind concat/split along channels and the
// Caffe crop. Element type E is an unsigned word of the dtype's size (the copies never look at
// values), so one kernel serves every dtype. One thread per destination element.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::kernels::cuda {

// Row-block copy: dst[r * dst_stride + j] = src[r * src_stride + j] for r < rows, j < len
// (concat: rows = N images, len = Ci*H*W; split: the reverse).
template <class E>
__global__ void copy_blocks_kernel(const E* src, int64_t src_stride, E* dst, int64_t dst_stride, int64_t rows,
                                   int64_t len) {
  const int64_t total = rows * len;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < total; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = k / len, j = k % len;
    dst[r * dst_stride + j] = src[r * src_stride + j];
  }
}

// y (planes, P, Q) = x (planes, H, W) at rows off_h + [0, P), columns off_w + [0, Q).
template <class E>
__global__ void crop_forward_kernel(const E* x, int64_t H, int64_t W, int64_t off_h, int64_t off_w, E* y,
                                    int64_t planes, int64_t P, int64_t Q) {
  const int64_t total = planes * P * Q;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < total; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = k % Q, p = (k / Q) % P, plane = k / (P * Q);
    y[k] = x[(plane * H + off_h + p) * W + off_w + q];
  }
}

// dx (planes, H, W): dy inside the crop window, 0 outside (one pass, no separate memset).
template <class E>
__global__ void crop_backward_kernel(const E* dy, int64_t P, int64_t Q, int64_t off_h, int64_t off_w, E* dx,
                                     int64_t planes, int64_t H, int64_t W) {
  const int64_t total = planes * H * W;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < total; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = k % W - off_w, h = (k / W) % H - off_h, plane = k / (H * W);
    dx[k] = (h >= 0 && h < P && w >= 0 && w < Q) ? dy[(plane * P + h) * Q + w] : E(0);
  }
}

}  // namespace fcnlab::kernels::cuda
