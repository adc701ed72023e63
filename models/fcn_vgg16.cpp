// fcn_vgg16.cpp — VGG16 and the FCNs on it, as the reference Caffe nets
// (shelhamer/fcn.berkeleyvision.org voc-fcn32s/16s/8s/8s-atonce; ../shared/reference/fcn.md §2.3-2.6):
//   conv1_1 (pad 100) ... conv5_3, pool1..pool5 rounding up, fc6 = 7x7 conv 4096, fc7 = 1x1 conv
//   4096, dropout 0.5 after each, score_fr (zero-initialised), fixed bilinear upsampling, crops
//   whose offsets come from the coordinate maps (19; 5, 27; 5, 9, 31).
// Biases train with lr_mult 2 and no weight decay, as the reference nets' conv_relu.
#include "engine/error.h"
#include "models/builders.h"

namespace fcnlab::models {

std::string add_vgg16_features(GraphModel& g, const std::string& input, double width,
                               int conv1_pad, Generator& gen, bool with_pool5) {
  // Blocks of (convs, channels): VGG16 configuration D.
  const int convs[5] = {2, 2, 3, 3, 3};
  const int64_t channels[5] = {64, 128, 256, 512, 512};
  std::string x = input;
  for (int b = 0; b < 5; ++b) {
    for (int i = 0; i < convs[b]; ++i) {
      const std::string id = std::to_string(b + 1) + "_" + std::to_string(i + 1);
      const int pad = (b == 0 && i == 0) ? conv1_pad : 1;
      x = conv_relu(g, "conv" + id, "relu" + id, x, scaled_channels(channels[b], width), 3,
                    Conv2dOptions::make(1, pad), gen);
    }
    if (b < 4 || with_pool5)
      x = g.max_pool("pool" + std::to_string(b + 1), x, MaxPool2dOptions::make(2, 2, 0, true));
  }
  return x;
}

std::shared_ptr<GraphModel> build_fcn_vgg16(const std::string& variant, const ModelOptions& o) {
  Generator gen(o.seed);
  const std::string type = variant == "fcn32s"   ? "FCN-32s"
                           : variant == "fcn16s" ? "FCN-16s"
                           : variant == "fcn8s"  ? "FCN-8s"
                                                 : "FCN-8s-atonce";
  auto g = std::make_shared<GraphModel>(type, o.in_channels);
  std::string x = add_vgg16_features(*g, "data", o.width, 100, gen);
  const int64_t fc = scaled_channels(4096, o.width);
  x = conv_relu(*g, "fc6", "relu6", x, fc, 7, Conv2dOptions{}, gen);
  if (o.dropout) x = g->dropout("drop6", x, 0.5, o.seed * 1000 + 6);
  x = conv_relu(*g, "fc7", "relu7", x, fc, 1, Conv2dOptions{}, gen);
  if (o.dropout) x = g->dropout("drop7", x, 0.5, o.seed * 1000 + 7);
  g->mark_backbone();
  const int64_t k = o.classes;
  score_layer(*g, "score_fr", x, k, gen);
  g->set_score_layer("score_fr");

  if (variant == "fcn32s") {
    upsample(*g, "upscore", "score_fr", k, 64, 32);
    g->crop("score", "upscore", "data");
  } else {
    const bool atonce = variant == "fcn8s-atonce";
    upsample(*g, "upscore2", "score_fr", k, 4, 2);
    std::string p4 = "pool4";
    if (atonce) p4 = g->scale("scale_pool4", "pool4", 0.01);
    score_layer(*g, "score_pool4", p4, k, gen);
    g->crop("score_pool4c", "score_pool4", "upscore2");
    g->sum("fuse_pool4", {"upscore2", "score_pool4c"});
    if (variant == "fcn16s") {
      upsample(*g, "upscore16", "fuse_pool4", k, 32, 16);
      g->crop("score", "upscore16", "data");
    } else {
      upsample(*g, "upscore_pool4", "fuse_pool4", k, 4, 2);
      std::string p3 = "pool3";
      if (atonce) p3 = g->scale("scale_pool3", "pool3", 0.0001);
      score_layer(*g, "score_pool3", p3, k, gen);
      g->crop("score_pool3c", "score_pool3", "upscore_pool4");
      g->sum("fuse_pool3", {"upscore_pool4", "score_pool3c"});
      upsample(*g, "upscore8", "fuse_pool3", k, 16, 8);
      g->crop("score", "upscore8", "data");
    }
  }
  g->set_mults_by_local_name("bias", 2.0, 0.0);
  return g;
}

}  // namespace fcnlab::models
