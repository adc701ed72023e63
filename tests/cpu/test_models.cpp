// Model definitions against the FCN paper's Table 1 and the reference Caffe nets
// (../shared/reference/fcn.md): parameter counts, receptive fields, strides, depths, crop
// offsets, and forward shapes of tiny-width models at several input sizes.
#include <doctest/doctest.h>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/models.h"

using namespace fcnlab;

namespace {

struct Table1Row {
  int64_t params_learned = 0, params_all = 0;
  int64_t rf = 0;
  double stride = 0;
  int depth = 0;
  int64_t macs = 0;
};

Table1Row table1(const std::string& name, int64_t size = 500) {
  auto g = make_model(name, ModelOptions{.classes = 21, .in_channels = 3, .random_init = false});
  Table1Row r;
  auto st = g->stats(1, size, size);
  for (const auto& s : st) {
    r.params_all += s.params;
    if (!s.fixed) r.params_learned += s.params;
    r.macs += s.macs;
    if (s.name == g->score_layer()) {
      r.rf = s.rf;
      r.stride = s.stride;
      r.depth = s.depth;
    }
  }
  return r;
}

int64_t offset_of(const GraphModel& g, const std::string& crop) { return g.layer(crop).offset_h; }

}  // namespace

TEST_CASE("Table 1: FCN-VGG16 (FCN-32s) has 134,346,581 learned parameters, rf 404, stride 32, 16 conv layers") {
  auto r = table1("fcn32s");
  CHECK(r.params_learned == 134346581);
  CHECK(r.params_all == 134346581 + 21 * 21 * 64 * 64);
  CHECK(r.rf == 404);
  CHECK(r.stride == 32);
  CHECK(r.depth == 16);
  CHECK(r.macs == 181365854976LL);  // reference/fcn.md §5, dense upscore included
}

TEST_CASE("Table 1: FCN-AlexNet has 56,954,261 learned parameters, rf 355, stride 32, 8 conv layers") {
  auto r = table1("fcn-alexnet");
  CHECK(r.params_learned == 56954261);
  CHECK(r.params_all == 58704590);
  CHECK(r.rf == 355);
  CHECK(r.stride == 32);
  CHECK(r.depth == 8);
  CHECK(r.macs == 21424487968LL);
}

TEST_CASE("Table 1: FCN-GoogLeNet has 5,995,077 learned parameters, rf 715 at score_fr, stride 32, 22 conv layers") {
  auto r = table1("fcn-googlenet");
  CHECK(r.params_learned == 5995077);
  CHECK(r.rf == 715);  // the paper's 907 counts the discarded 7x7 average pool: 715 + 6 * 32
  CHECK(r.stride == 32);
  CHECK(r.depth == 22);
}

TEST_CASE("FCN-16s and FCN-8s add the skip scorers' parameters and MACs of the reference") {
  CHECK(table1("fcn16s").params_learned == 134357354);
  CHECK(table1("fcn8s").params_learned == 134362751);
  CHECK(table1("fcn8s").params_all == 134489759);
  CHECK(table1("fcn16s").macs == 181448086272LL);
  CHECK(table1("fcn8s").macs == 181529034048LL);
  CHECK(table1("fcn8s-atonce").macs == 181529034048LL);
}

TEST_CASE("crop offsets come out of the coordinate maps as in the reference nets") {
  auto o = ModelOptions{.classes = 21, .in_channels = 3, .width = 0.0625};
  CHECK(offset_of(*make_model("fcn32s", o), "score") == 19);
  auto f16 = make_model("fcn16s", o);
  CHECK(offset_of(*f16, "score_pool4c") == 5);
  CHECK(offset_of(*f16, "score") == 27);
  for (const char* n : {"fcn8s", "fcn8s-atonce"}) {
    auto f8 = make_model(n, o);
    CHECK(offset_of(*f8, "score_pool4c") == 5);
    CHECK(offset_of(*f8, "score_pool3c") == 9);
    CHECK(offset_of(*f8, "score") == 31);
  }
  CHECK(offset_of(*make_model("fcn-alexnet", o), "score") == 18);
}

TEST_CASE("FCN-32s layer shapes at 500x500 follow Caffe's rounding") {
  auto g = make_model("fcn32s", ModelOptions{.classes = 21, .in_channels = 3, .random_init = false});
  auto st = g->stats(1, 500, 500);
  auto shape = [&](const std::string& n) {
    for (const auto& s : st)
      if (s.name == n) return s.out;
    FCNLAB_FAIL("no layer ", n);
  };
  CHECK(shape("conv1_1") == Shape({1, 64, 698, 698}));
  CHECK(shape("pool2") == Shape({1, 128, 175, 175}));
  CHECK(shape("pool3") == Shape({1, 256, 88, 88}));
  CHECK(shape("pool5") == Shape({1, 512, 22, 22}));
  CHECK(shape("fc7") == Shape({1, 4096, 16, 16}));
  CHECK(shape("upscore") == Shape({1, 21, 544, 544}));
  CHECK(shape("score") == Shape({1, 21, 500, 500}));
}

TEST_CASE("every model runs forward at tiny width and gives scores at the input size") {
  NoGrad ng;
  Generator gen(3);
  for (const auto& name : model_names()) {
    auto g = make_model(name, ModelOptions{.classes = 2, .in_channels = 1, .width = 0.0625});
    g->eval();
    for (int64_t h : {48, 75}) {
      const int64_t w = h + 5;
      Tensor x = Tensor::normal({1, 1, h, w}, 0, 1, gen);
      Tensor y = g->forward(x);
      INFO(name, " at ", h, "x", w);
      CHECK(y.shape() == Shape({1, 2, h, w}));
      CHECK(g->stats(1, h, w).at(g->index(g->output_name())).out == y.shape());
    }
  }
}

TEST_CASE("state_dict names read like the paper") {
  auto g = make_model("fcn8s", ModelOptions{.classes = 2, .in_channels = 1, .width = 0.0625});
  auto sd = g->state_dict();
  for (const char* k : {"conv1_1.weight", "conv5_3.bias", "fc6.weight", "fc7.bias", "score_fr.weight",
                        "upscore2.weight", "score_pool4.bias", "upscore_pool4.weight",
                        "score_pool3.weight", "upscore8.weight"})
    CHECK_MESSAGE(sd.count(k) == 1, k);
  CHECK(g->parameter("fc6.weight").shape() == Shape({256, 32, 7, 7}));
  CHECK(g->param_info("conv1_1.bias").lr_mult == 2.0);
  CHECK(g->param_info("conv1_1.bias").decay_mult == 0.0);
  CHECK(!g->parameter("upscore8.weight").requires_grad());
}

TEST_CASE("freeze_backbone freezes the classifier's layers and leaves the score layers") {
  auto g = make_model("fcn16s", ModelOptions{.classes = 2, .in_channels = 1, .width = 0.0625,
                                             .freeze_backbone = true});
  CHECK(!g->parameter("conv3_1.weight").requires_grad());
  CHECK(!g->parameter("fc7.weight").requires_grad());
  CHECK(g->parameter("score_fr.weight").requires_grad());
  CHECK(g->parameter("score_pool4.weight").requires_grad());
}

TEST_CASE("random_init false builds zero weights and keeps the bilinear upsampling") {
  auto g = make_model("fcn16s", ModelOptions{.classes = 3, .width = 0.0625, .random_init = false});
  CHECK(sum_of_squares(g->parameter("conv2_1.weight")) == 0.0);
  CHECK(sum_of_squares(g->parameter("upscore2.weight")) > 0.0);
  auto r = make_model("fcn16s", ModelOptions{.classes = 3, .width = 0.0625});
  CHECK(sum_of_squares(r->parameter("conv2_1.weight")) > 0.0);
  CHECK(!init::SkipRandomInit::active());
}

TEST_CASE("unknown model and layer names are errors that list what exists") {
  CHECK_THROWS_WITH_AS(make_model("fcn4s"), doctest::Contains("known models: fcn32s"), Error);
  auto g = make_model("fcn32s", ModelOptions{.width = 0.0625});
  CHECK_THROWS_WITH_AS(g->index("conv6_1"), doctest::Contains("its layers are: data, conv1_1"), Error);
  CHECK_THROWS_WITH_AS(g->stats(1, 0, 10), doctest::Contains("positive"), Error);
}
