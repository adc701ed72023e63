// toy_fcn.h — the smallest network with the FCN shape: a conv stem at full resolution, a
// pooled coarse path, a class-score layer on each, the coarse scores upsampled 2x by a fixed
// bilinear transposed convolution, cropped and fused with the fine scores (as FCN-16s fuses
// pool4). Used by the toy-training test and the first demo; the paper's FCNs live beside it.
#pragma once
#include <memory>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"

namespace fcnlab {

class ToyFcn : public Module {
 public:
  // x: (N, in_channels, H, W) -> scores (N, classes, H, W)
  ToyFcn(int64_t in_channels, int64_t classes, int64_t width = 8, uint64_t seed = 0);
  std::string type_name() const override { return "ToyFcn"; }
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1, conv2, conv3, score_fine, score_coarse;
  std::shared_ptr<MaxPool2d> pool1;
  std::shared_ptr<ConvTranspose2d> upscore2;
};

}  // namespace fcnlab
