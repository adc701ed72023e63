// fcn_googlenet.cpp — FCN-GoogLeNet on the BVLC GoogLeNet main path (the paper used its own
// reimplementation, never released; ../shared/reference/fcn.md §3): conv1/7x7_s2, pool, LRN,
// conv2/3x3_reduce, conv2/3x3, LRN, pool, nine inception modules (1x1 | 1x1->3x3 | 1x1->5x5 |
// 3x3 max pool->1x1, joined by channel concat) with pools after 3b and 4e, no auxiliary heads,
// the final 7x7 average pool and the 1000-way classifier dropped (paper §4.1), the 0.4 dropout
// kept, then score_fr and a fixed bilinear upsampling to the input.
//
// Choices the paper leaves open, made so the net aligns with its input: conv1 keeps BVLC's pad 3
// (no pad 100), pooling rounds up as in Caffe, and the upsampling is 63x63 stride 32 as in
// FCN-AlexNet — a 64x64 kernel would leave the output 1.5 pixels off the input grid, which no
// crop can fix; with 63 the crop offset (from the coordinate maps) is a whole pixel.
#include "models/builders.h"

namespace fcnlab::models {

namespace {

struct Inception {
  const char* name;
  int64_t c1, c3r, c3, c5r, c5, pp;  // 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj
};

std::string inception(GraphModel& g, const std::string& input, const Inception& m, double width,
                      Generator& gen) {
  const std::string n = m.name;
  auto c = [&](int64_t v) { return scaled_channels(v, width); };
  const Conv2dOptions p0{}, p1 = Conv2dOptions::make(1, 1), p2 = Conv2dOptions::make(1, 2);
  std::string b1 = conv_relu(g, n + "/1x1", n + "/relu_1x1", input, c(m.c1), 1, p0, gen);
  std::string b2 = conv_relu(g, n + "/3x3_reduce", n + "/relu_3x3_reduce", input, c(m.c3r), 1, p0, gen);
  b2 = conv_relu(g, n + "/3x3", n + "/relu_3x3", b2, c(m.c3), 3, p1, gen);
  std::string b3 = conv_relu(g, n + "/5x5_reduce", n + "/relu_5x5_reduce", input, c(m.c5r), 1, p0, gen);
  b3 = conv_relu(g, n + "/5x5", n + "/relu_5x5", b3, c(m.c5), 5, p2, gen);
  std::string b4 = g.max_pool(n + "/pool", input, MaxPool2dOptions::make(3, 1, 1, true));
  b4 = conv_relu(g, n + "/pool_proj", n + "/relu_pool_proj", b4, c(m.pp), 1, p0, gen);
  return g.concat(n + "/output", {b1, b2, b3, b4});
}

}  // namespace

std::shared_ptr<GraphModel> build_fcn_googlenet(const ModelOptions& o) {
  Generator gen(o.seed);
  auto g = std::make_shared<GraphModel>("FCN-GoogLeNet", o.in_channels);
  auto c = [&](int64_t v) { return scaled_channels(v, o.width); };
  const LrnOptions norm{5, 1e-4, 0.75, 1.0};
  const auto pool = MaxPool2dOptions::make(3, 2, 0, true);
  std::string x = conv_relu(*g, "conv1/7x7_s2", "conv1/relu_7x7", "data", c(64), 7,
                            Conv2dOptions::make(2, 3), gen);
  x = g->max_pool("pool1/3x3_s2", x, pool);
  x = g->lrn("pool1/norm1", x, norm);
  x = conv_relu(*g, "conv2/3x3_reduce", "conv2/relu_3x3_reduce", x, c(64), 1, Conv2dOptions{}, gen);
  x = conv_relu(*g, "conv2/3x3", "conv2/relu_3x3", x, c(192), 3, Conv2dOptions::make(1, 1), gen);
  x = g->lrn("conv2/norm2", x, norm);
  x = g->max_pool("pool2/3x3_s2", x, pool);
  // BVLC GoogLeNet's module widths (deploy.prototxt).
  const Inception mods[] = {
      {"inception_3a", 64, 96, 128, 16, 32, 32},    {"inception_3b", 128, 128, 192, 32, 96, 64},
      {"inception_4a", 192, 96, 208, 16, 48, 64},   {"inception_4b", 160, 112, 224, 24, 64, 64},
      {"inception_4c", 128, 128, 256, 24, 64, 64},  {"inception_4d", 112, 144, 288, 32, 64, 64},
      {"inception_4e", 256, 160, 320, 32, 128, 128}, {"inception_5a", 256, 160, 320, 32, 128, 128},
      {"inception_5b", 384, 192, 384, 48, 128, 128}};
  for (const auto& m : mods) {
    x = inception(*g, x, m, o.width, gen);
    if (std::string(m.name) == "inception_3b") x = g->max_pool("pool3/3x3_s2", x, pool);
    if (std::string(m.name) == "inception_4e") x = g->max_pool("pool4/3x3_s2", x, pool);
  }
  if (o.dropout) x = g->dropout("pool5/drop_7x7_s1", x, 0.4, o.seed * 1000 + 5);
  g->mark_backbone();
  score_layer(*g, "score_fr", x, o.classes, gen);
  g->set_score_layer("score_fr");
  upsample(*g, "upscore", "score_fr", o.classes, 63, 32);
  g->crop("score", "upscore", "data");
  return g;
}

}  // namespace fcnlab::models
