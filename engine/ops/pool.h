// ops/pool.h — pooling and the small layers around it: max pooling (Caffe's ceil rounding),
// dropout, channel concat, Caffe-style crop, local response normalization.
#pragma once
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace fcnlab {

struct MaxPool2dOptions {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
  bool ceil_mode = false;  // true = Caffe's rounding (FCN's pool1..pool5)
  static MaxPool2dOptions make(int kernel, int stride, int pad = 0, bool ceil_mode = false) {
    return {kernel, kernel, stride, stride, pad, pad, ceil_mode};
  }
};

// Output size along one axis. With ceil_mode the last window may start in the padding-free
// part only (Caffe: a window starting at or beyond in + pad is dropped).
int64_t pool_output_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode);

// x: (N, C, H, W) -> (N, C, P, Q); the argmax of each window is saved for backward.
Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& o);

// Inverted dropout: in training, zero with probability p and scale survivors by 1/(1-p);
// the mask comes from gen's Philox stream (same on every device). Eval: identity.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// Concatenate (N, Ci, H, W) tensors along the channel axis.
Tensor concat_channels(const std::vector<Tensor>& xs);

// Caffe Crop on axes 2,3: y = x[:, :, off_h : off_h + out_h, off_w : off_w + out_w].
Tensor crop(const Tensor& x, int64_t offset_h, int64_t offset_w, int64_t out_h, int64_t out_w);

// Local response normalization across channels (Caffe ACROSS_CHANNELS):
// y = x / (k + alpha/n * sum_{c' in window(n) around c} x_{c'}^2)^beta.
struct LrnOptions {
  int local_size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 1.0;
};
Tensor lrn(const Tensor& x, const LrnOptions& o = {});

}  // namespace fcnlab
