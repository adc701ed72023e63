// ops/shape_ops.cpp — channel concat (skip fusion in U-Net style decoders, GoogLeNet's
// inception outputs) and Caffe's Crop (FCN aligns upsampled scores to the input with it).
#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/pool.h"
#include "kernels/cpu/shape_ops.h"

namespace fcnlab {

namespace {

struct ConcatChannelsNode final : Node {
  std::vector<Shape> in_shapes;
  const char* name() const override { return "concat_channels"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // The gradient of a concat is the split of the output gradient.
    std::vector<Tensor> grads(in_shapes.size());
    int64_t c_offset = 0;
    for (size_t i = 0; i < in_shapes.size(); ++i) {
      if (needs_grad(i) && in_shapes[i].numel() > 0) {
        grads[i] = Tensor::empty(in_shapes[i], g.dtype(), g.device());
        FCNLAB_DISPATCH(g.device(), split_channels_copy, g, c_offset, grads[i]);
      }
      c_offset += in_shapes[i][1];
    }
    return grads;
  }
};

struct Crop2dNode final : Node {
  Shape in_shape;
  int64_t off_h, off_w;
  Crop2dNode(Shape s, int64_t h, int64_t w) : in_shape(s), off_h(h), off_w(w) {}
  const char* name() const override { return "crop"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::empty(in_shape, g.dtype(), g.device());
    FCNLAB_DISPATCH(g.device(), crop2d_backward, g, off_h, off_w, dx);
    return {dx};
  }
};

}  // namespace

Tensor concat_channels(const std::vector<Tensor>& xs) {
  FCNLAB_CHECK(!xs.empty(), "concat_channels: the list of tensors is empty");
  const Tensor& x0 = xs[0];
  int64_t channels = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    FCNLAB_CHECK(x.defined(), "concat_channels: tensor ", i, " is undefined");
    FCNLAB_CHECK(x.dim() == 4, "concat_channels: tensor ", i, " must be 4-d (N, C, H, W), got ",
                 x.shape().str());
    FCNLAB_CHECK(x.size(0) == x0.size(0) && x.size(2) == x0.size(2) && x.size(3) == x0.size(3),
                 "concat_channels: tensor ", i, " has shape ", x.shape().str(),
                 "; expected N, H, W of tensor 0 ", x0.shape().str());
    FCNLAB_CHECK(x.dtype() == x0.dtype(), "concat_channels: tensor ", i, " has dtype ",
                 dtype_name(x.dtype()), ", expected ", dtype_name(x0.dtype()));
    check_same_device(x, x0, "concat_channels");
    channels += x.size(1);
  }
  Tensor y = Tensor::empty({x0.size(0), channels, x0.size(2), x0.size(3)}, x0.dtype(), x0.device());
  int64_t c_offset = 0;
  for (const Tensor& x : xs) {
    if (x.numel() > 0) FCNLAB_DISPATCH(y.device(), concat_channels_copy, x, c_offset, y);
    c_offset += x.size(1);
  }
  bool any = false;
  for (const Tensor& x : xs) any = any || any_requires_grad({&x});
  if (!any) return y;
  auto node = std::make_shared<ConcatChannelsNode>();
  for (const Tensor& x : xs) node->in_shapes.push_back(x.shape());
  return record(y, node, xs);
}

Tensor crop(const Tensor& x, int64_t offset_h, int64_t offset_w, int64_t out_h, int64_t out_w) {
  check_dims(x, 4, "crop", "x (N, C, H, W)");
  const int64_t H = x.size(2), W = x.size(3);
  FCNLAB_CHECK(out_h >= 1 && out_w >= 1, "crop: output size (", out_h, ", ", out_w,
               ") must be at least 1 on both axes");
  FCNLAB_CHECK(offset_h >= 0 && offset_w >= 0, "crop: offsets (", offset_h, ", ", offset_w,
               ") must be >= 0");
  FCNLAB_CHECK(offset_h + out_h <= H && offset_w + out_w <= W, "crop: window at offset (",
               offset_h, ", ", offset_w, ") of size (", out_h, ", ", out_w,
               ") falls outside the input of size (", H, ", ", W, "); need offset + size <= input");
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  if (y.numel() > 0) FCNLAB_DISPATCH(x.device(), crop2d_forward, x, offset_h, offset_w, y);
  return record(y, std::make_shared<Crop2dNode>(x.shape(), offset_h, offset_w), {x});
}

Tensor crop_like(const Tensor& x, const Tensor& reference, int64_t offset) {
  check_dims(reference, 4, "crop_like", "reference (N, C, H, W)");
  return crop(x, offset, offset, reference.size(2), reference.size(3));
}

}  // namespace fcnlab
