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

// Output size along one axis: floor or ceil((in + 2*pad - kernel) / stride) + 1. With ceil_mode
// a last window that would start at or beyond in + pad (entirely in the right padding) is
// dropped, as Caffe's pooling_layer.cpp (pad > 0) and PyTorch's ceil_mode do; so every window
// holds at least one input element. Throws when kernel/stride/pad are invalid (kernel >= 1,
// stride >= 1, 0 <= pad <= kernel/2) or the output would be empty.
int64_t pool_output_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode);

// x: (N, C, H, W) -> (N, C, P, Q). Padding counts as -inf (never the max). The argmax of each
// window (first maximum in row-major window order, as Caffe) is saved for backward, which
// routes each output gradient to that one input element.
Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& o);

// Inverted dropout: in training, zero with probability p and scale survivors by 1/(1-p);
// the mask comes from gen's Philox stream (same on every device; the rule is in
// kernels/cpu/dropout.h): base = gen.reserve(numel), element i dropped when
// philox_uniform(gen.seed(), base + i) < p. Eval, or p == 0: returns x itself and draws nothing.
// p == 1 gives zeros. p outside [0, 1] throws.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// Concatenate (N, Ci, H, W) tensors along the channel axis -> (N, sum Ci, H, W).
// All inputs share N, H, W, dtype and device; the list must not be empty.
Tensor concat_channels(const std::vector<Tensor>& xs);

// Caffe Crop on axes 2,3: y = x[:, :, off_h : off_h + out_h, off_w : off_w + out_w].
// The window must lie inside x (an error names the offsets and sizes otherwise).
// Backward pads the gradient with zeros back to x's shape.
Tensor crop(const Tensor& x, int64_t offset_h, int64_t offset_w, int64_t out_h, int64_t out_w);

// Caffe's Crop layer as FCN uses it: crop x to reference's H and W with the same offset on
// both axes (e.g. score = crop_like(upscore, data, 19)). reference gives only its shape.
Tensor crop_like(const Tensor& x, const Tensor& reference, int64_t offset);

// Local response normalization across channels (Caffe ACROSS_CHANNELS):
// y = x / (k + alpha/n * sum_{c' in window(n) around c} x_{c'}^2)^beta, x: (N, C, H, W).
// The window is c - (n-1)/2 ... c + n/2 (integer division), clipped at the channel edges
// (channels outside count as zero): centred for odd n, as in Caffe. Caffe rejects even n; here
// it keeps Caffe's padding arithmetic (pre_pad = (n-1)/2), so the window reaches one channel
// further forward than back. local_size >= 1, k > 0 (the scale must stay positive).
struct LrnOptions {
  int local_size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 1.0;
};
Tensor lrn(const Tensor& x, const LrnOptions& o = {});

}  // namespace fcnlab
