// classifier_head.h — the optional image-level pneumothorax classifier trained jointly with the
// segmentation net (as the 2nd and 4th SIIM solutions did, reference/siim.md §3): it reads one
// inner layer of the GraphModel (by default the features the coarse score layer reads, fc7 for
// the FCNs), takes the global maximum of each channel and maps the C maxima to one logit.
//   features (N, C, h, w) -> global max pool (N, C, 1, 1) -> reshape (N, C) -> Linear -> (N)
// Global max rather than average: a pneumothorax is a small region, and one strong response
// anywhere should be enough to call the image positive.
#pragma once
#include <memory>
#include <string>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"

namespace fcnlab::train {

class ClassifierHead : public Module {
 public:
  // in_channels: channels of the layer it reads; seed: the Linear's initialisation stream.
  ClassifierHead(int64_t in_channels, uint64_t seed);
  std::string type_name() const override { return "ClassifierHead"; }
  // features (N, C, h, w) -> logits (N). Apply sigmoid for the probability.
  Tensor forward(const Tensor& features) override;
  int64_t in_channels() const { return in_channels_; }

 private:
  int64_t in_channels_;
  std::shared_ptr<Linear> fc_;
};

}  // namespace fcnlab::train
