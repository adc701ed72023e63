// fcn_alexnet.cpp — FCN-AlexNet on CaffeNet, as the reference voc-fcn-alexnet
// (../shared/reference/fcn.md §2.7): conv1 11x11/4 pad 100, pooling 3/2 rounding up with LRN after
// it (CaffeNet's order), groups 2 in conv2/conv4/conv5, fc6 a 6x6 conv, fc7 1x1, dropout 0.5,
// score_fr, a fixed 63x63 stride-32 bilinear upsampling and the crop (offset 18).
// Grouped layers need even channel counts, so widths round those to the next even number.
#include "models/builders.h"

namespace fcnlab::models {

std::shared_ptr<GraphModel> build_fcn_alexnet(const ModelOptions& o) {
  Generator gen(o.seed);
  auto g = std::make_shared<GraphModel>("FCN-AlexNet", o.in_channels);
  auto ch = [&](int64_t c) {  // scaled, and even: every layer feeds or is a 2-group conv
    const int64_t s = scaled_channels(c, o.width);
    return s + (s % 2);
  };
  const LrnOptions norm{5, 1e-4, 0.75, 1.0};
  const auto pool = MaxPool2dOptions::make(3, 2, 0, true);
  std::string x = conv_relu(*g, "conv1", "relu1", "data", ch(96), 11, Conv2dOptions::make(4, 100), gen);
  x = g->lrn("norm1", g->max_pool("pool1", x, pool), norm);
  x = conv_relu(*g, "conv2", "relu2", x, ch(256), 5, Conv2dOptions::make(1, 2, 1, 2), gen);
  x = g->lrn("norm2", g->max_pool("pool2", x, pool), norm);
  x = conv_relu(*g, "conv3", "relu3", x, ch(384), 3, Conv2dOptions::make(1, 1), gen);
  x = conv_relu(*g, "conv4", "relu4", x, ch(384), 3, Conv2dOptions::make(1, 1, 1, 2), gen);
  x = conv_relu(*g, "conv5", "relu5", x, ch(256), 3, Conv2dOptions::make(1, 1, 1, 2), gen);
  x = g->max_pool("pool5", x, pool);
  const int64_t fc = scaled_channels(4096, o.width);
  x = conv_relu(*g, "fc6", "relu6", x, fc, 6, Conv2dOptions{}, gen);
  if (o.dropout) x = g->dropout("drop6", x, 0.5, o.seed * 1000 + 6);
  x = conv_relu(*g, "fc7", "relu7", x, fc, 1, Conv2dOptions{}, gen);
  if (o.dropout) x = g->dropout("drop7", x, 0.5, o.seed * 1000 + 7);
  g->mark_backbone();
  score_layer(*g, "score_fr", x, o.classes, gen);
  g->set_score_layer("score_fr");
  upsample(*g, "upscore", "score_fr", o.classes, 63, 32);
  g->crop("score", "upscore", "data");
  return g;
}

}  // namespace fcnlab::models
