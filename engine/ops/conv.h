// ops/conv.h — convolution, transposed convolution (the data gradient of convolution),
// and the small dense ops built on the same GEMM (linear, matmul).
#pragma once
#include "engine/tensor.h"

namespace fcnlab {

struct Conv2dOptions {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  // Square kernels' usual case: same stride/pad/dilation in both directions.
  static Conv2dOptions make(int stride, int pad, int dilation = 1, int groups = 1) {
    return {stride, stride, pad, pad, dilation, dilation, groups};
  }
};

struct ConvTranspose2dOptions {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int output_pad_h = 0, output_pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  static ConvTranspose2dOptions make(int stride, int pad, int output_pad = 0, int groups = 1) {
    return {stride, stride, pad, pad, output_pad, output_pad, 1, 1, groups};
  }
};

// Output size of a convolution along one axis: floor((in + 2p - d(k-1) - 1) / s) + 1.
int64_t conv_output_size(int64_t in, int k, int stride, int pad, int dilation);
// Output size of a transposed convolution: (in - 1)s - 2p + d(k-1) + output_pad + 1.
int64_t conv_transpose_output_size(int64_t in, int k, int stride, int pad, int dilation, int output_pad);

// x: (N, C, H, W), w: (K, C/groups, R, S), b: (K) or undefined -> (N, K, P, Q).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o = {});

// x: (N, C, H, W), w: (C, K/groups, R, S) (PyTorch/Caffe layout), b: (K) or undefined
// -> (N, K, Ho, Wo). Equals the data gradient of conv2d with the same weight.
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b,
                        const ConvTranspose2dOptions& o = {});

// x: (N, in), w: (out, in), b: (out) or undefined -> (N, out).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// a: (M, K), b: (K, N) -> (M, N).
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace fcnlab
