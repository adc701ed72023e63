// classifier_head.cpp — global max pool + Linear over one inner layer of the segmentation net.
#include "train/classifier_head.h"

#include "engine/error.h"
#include "engine/ops.h"

namespace fcnlab::train {

ClassifierHead::ClassifierHead(int64_t in_channels, uint64_t seed) : in_channels_(in_channels) {
  FCNLAB_CHECK(in_channels > 0, "ClassifierHead: in_channels must be > 0, got ", in_channels);
  Generator gen(seed);
  fc_ = register_module("fc", std::make_shared<Linear>(in_channels, 1, true, gen));
}

Tensor ClassifierHead::forward(const Tensor& features) {
  check_dims(features, 4, "ClassifierHead", "features");
  FCNLAB_CHECK(features.size(1) == in_channels_, "ClassifierHead: expected ", in_channels_,
               " feature channels, got ", features.size(1));
  const int64_t n = features.size(0), c = features.size(1);
  const int h = static_cast<int>(features.size(2)), w = static_cast<int>(features.size(3));
  // One window covering the whole map: the global maximum of each channel.
  MaxPool2dOptions global{h, w, h, w, 0, 0, false};
  Tensor pooled = max_pool2d(features, global).reshape({n, c});
  return (*fc_)(pooled).reshape({n});
}

}  // namespace fcnlab::train
