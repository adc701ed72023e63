// nn layers: parameter shapes and names, default inits, forwards against the ops on hand
// cases, gradients through module parameters, FCN's fixed bilinear upsampling, Dropout's
// seeded generator and train/eval, a VGG-style block in a Sequential.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/optim/sgd.h"
#include "engine/ops.h"
#include "tests/common/check.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {
std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> v;
  for (const auto& p : m.named_parameters()) v.push_back(p.name);
  return v;
}
double std_of(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  const double mean = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - mean) * (x - mean);
  return std::sqrt(s2 / static_cast<double>(v.size()));
}
}  // namespace

TEST_CASE("Conv2d: shapes, names, default init (kaiming fan_out, bias 0), forward = conv2d") {
  Generator g(1);
  Conv2d conv(64, 128, 3, Conv2dOptions::make(1, 1), true, g);
  CHECK(conv.weight.shape() == Shape{128, 64, 3, 3});
  CHECK(conv.bias.shape() == Shape{128});
  CHECK(names_of(conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv.num_parameters() == 128 * 64 * 9 + 128);
  CHECK(std_of(conv.weight) == doctest::Approx(std::sqrt(2.0 / (128 * 9))).epsilon(0.02));
  CHECK(conv.bias.to_vector() == std::vector<double>(128, 0.0));
  Generator g2(1);
  Conv2d same(64, 128, 3, Conv2dOptions::make(1, 1), true, g2);
  CHECK_EXACT(same.weight, conv.weight);  // reproducible from the seed

  // A hand case: 1x1 conv, 2 -> 1 channels, weight [2, -1], bias 0.5.
  Conv2d c1(2, 1, 1);
  c1.weight.copy_(Tensor::from_vector<float>({2, -1}, {1, 2, 1, 1}));
  c1.bias.fill_(0.5);
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  CHECK(c1.forward(x).to_vector() == std::vector<double>{-7.5, -15.5, -23.5, -31.5});

  Conv2d nb(4, 6, 3, Conv2dOptions::make(2, 1, 1, 2), false);
  CHECK(nb.weight.shape() == Shape{6, 2, 3, 3});
  CHECK(!nb.bias.defined());
  CHECK(names_of(nb) == std::vector<std::string>{"weight"});
  CHECK(nb.forward(Tensor::ones({1, 4, 5, 5})).shape() == Shape{1, 6, 3, 3});
  CHECK_THROWS_WITH_AS(Conv2d(3, 4, 3, Conv2dOptions::make(1, 0, 1, 2)),
                       doctest::Contains("groups (2) must divide in_channels (3)"), Error);
}

TEST_CASE("gradcheck through Conv2d, ConvTranspose2d and Linear module parameters") {
  Generator g(3);
  Conv2d conv(2, 3, 3, Conv2dOptions::make(2, 1));
  conv.to(DType::f64);
  Tensor x = test::rand_leaf({1, 2, 5, 5}, g);
  CHECK_GRADCHECK([&](auto& v) { return conv.forward(v[0]); }, {x, conv.weight, conv.bias});

  ConvTranspose2d up(2, 3, 4, ConvTranspose2dOptions::make(2, 1));
  up.to(DType::f64);
  Tensor y = test::rand_leaf({1, 2, 3, 3}, g);
  CHECK_GRADCHECK([&](auto& v) { return up.forward(v[0]); }, {y, up.weight, up.bias});

  Linear fc(4, 3);
  fc.to(DType::f64);
  Tensor z = test::rand_leaf({2, 4}, g);
  CHECK_GRADCHECK([&](auto& v) { return fc.forward(v[0]); }, {z, fc.weight, fc.bias});
}

TEST_CASE("Linear: shapes, xavier init bound, a hand forward") {
  Generator g(5);
  Linear fc(300, 500, true, g);
  CHECK(fc.weight.shape() == Shape{500, 300});
  const double bound = std::sqrt(6.0 / 800);
  double mx = 0;
  for (double v : fc.weight.to_vector()) mx = std::max(mx, std::fabs(v));
  CHECK(mx <= bound);
  CHECK(mx > 0.99 * bound);
  Linear small(2, 2);
  small.weight.copy_(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  small.bias.copy_(Tensor::from_vector<float>({10, 20}, {2}));
  CHECK(small.forward(Tensor::from_vector<float>({1, -1}, {1, 2})).to_vector() ==
        std::vector<double>{9, 19});
}

TEST_CASE("bilinear upsampler k4 s2: hand filter values, fixed, channels kept apart") {
  auto up = ConvTranspose2d::bilinear_upsampler(2, 2);  // FCN's upscore2
  CHECK(up->kernel == 4);
  CHECK(up->options.stride_h == 2);
  CHECK(!up->bias.defined());
  CHECK(up->fixed());
  CHECK(!up->weight.requires_grad());
  CHECK(up->param_info("weight").lr_mult == 0.0);
  CHECK(up->num_parameters(true) == 0);
  const double f[4] = {0.25, 0.75, 0.75, 0.25};
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) CHECK(up->weight.at({i, j, y, x}) == (i == j ? f[y] * f[x] : 0.0));
  CHECK(up->weight.at({0, 0, 0, 0}) == 0.0625);
  CHECK(up->weight.at({1, 1, 1, 2}) == 0.5625);
  CHECK(up->weight.at({1, 1, 0, 1}) == 0.1875);
}

TEST_CASE("a fixed bilinear ConvTranspose2d upsamples a constant image to a constant interior") {
  auto up = ConvTranspose2d::bilinear_upsampler(2, 2);
  // Channel 0 constant 3, channel 1 constant -2: a 5x5 input becomes 12x12.
  Tensor x = Tensor::zeros({1, 2, 5, 5});
  for (int64_t i = 0; i < 25; ++i) {
    x.set_flat(i, 3.0);
    x.set_flat(25 + i, -2.0);
  }
  Tensor y = up->forward(x);
  REQUIRE(y.shape() == Shape{1, 2, 12, 12});
  // Output o receives input i with weight f[o - 2i]; for 2 <= o <= 9 two taps sum to 1.
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 2; h <= 9; ++h)
      for (int64_t w = 2; w <= 9; ++w) CHECK(y.at({0, c, h, w}) == (c == 0 ? 3.0 : -2.0));
  CHECK(y.at({0, 0, 0, 0}) == 3.0 * 0.0625);  // the border has one tap per axis
  CHECK(y.at({0, 0, 2, 0}) == 3.0 * 0.25);

  // A ramp x[.., w] = w upsamples to (o - 1.5) / 2 in the interior: bilinear interpolation.
  Tensor ramp = Tensor::zeros({1, 1, 3, 6});
  for (int64_t h = 0; h < 3; ++h)
    for (int64_t w = 0; w < 6; ++w) ramp.set_flat(h * 6 + w, static_cast<double>(w));
  Tensor r = ConvTranspose2d::bilinear_upsampler(1, 2)->forward(ramp);
  for (int64_t o = 2; o <= 11; ++o) CHECK(r.at({0, 0, 3, o}) == (o - 1.5) / 2);

  // Fixed: gradients reach the input, not the filter, and an optimizer leaves it alone.
  Tensor xg = x.clone().set_requires_grad();
  sum(up->forward(xg)).backward();
  CHECK(xg.grad().defined());
  CHECK(!up->weight.grad().defined());
  Tensor before = up->weight.clone();
  SgdOptions o;
  o.lr = 1.0;
  SGD opt(up->named_parameters(), o);
  up->weight.set_grad(Tensor::ones(up->weight.shape()));
  opt.step();
  CHECK_EXACT(up->weight, before);

  up->set_fixed(false);  // FCN's intermediate upsamplers: bilinear init, then learned
  CHECK(up->weight.requires_grad());
  CHECK(up->param_info("weight").lr_mult == 1.0);
}

TEST_CASE("ConvTranspose2d init_bilinear needs matching channels, depthwise is allowed") {
  ConvTranspose2d bad(2, 3, 4, ConvTranspose2dOptions::make(2, 0));
  CHECK_THROWS_WITH_AS(bad.init_bilinear(), doctest::Contains("needs in_channels == out_channels"),
                       Error);
  ConvTranspose2d dw(3, 3, 4, ConvTranspose2dOptions::make(2, 0, 0, 3), false);
  dw.init_bilinear();
  CHECK(dw.weight.shape() == Shape{3, 1, 4, 4});
  CHECK(dw.weight.at({2, 0, 1, 1}) == 0.5625);
}

TEST_CASE("MaxPool2d, ReLU and LRN forward their ops") {
  Tensor x = Tensor::from_vector<float>({1, -2, 3, 4, -5, 6, 7, 8, 9}, {1, 1, 3, 3});
  MaxPool2d pool(MaxPool2dOptions::make(2, 2, 0, true));  // Caffe's ceil rounding
  CHECK(pool.forward(x).to_vector() == std::vector<double>{4, 6, 8, 9});
  ReLU relu_layer;
  CHECK(relu_layer.forward(x).to_vector() == std::vector<double>{1, 0, 3, 4, 0, 6, 7, 8, 9});
  LRN norm(LrnOptions{3, 1e-2, 0.75, 2.0});
  Tensor z = Tensor::from_vector<double>({1, 2, 3}, {1, 3, 1, 1});
  CHECK_EXACT(norm.forward(z), lrn(z, LrnOptions{3, 1e-2, 0.75, 2.0}));
  // By hand, channel 0: window {0, 1} -> 2 + 0.01/3 * (1 + 4) = 2.016667.
  CHECK(norm.forward(z).flat(0) == doctest::Approx(1.0 / std::pow(2.0 + 0.05 / 3, 0.75)).epsilon(1e-14));
}

TEST_CASE("Dropout: its own seeded generator, identity in eval") {
  Tensor x = Tensor::ones({1, 4, 8, 8});
  Dropout a(0.5, 7), b(0.5, 7), c(0.5, 8);
  Tensor ya = a.forward(x), yb = b.forward(x);
  CHECK_EXACT(ya, yb);  // same seed, same mask
  CHECK(ya.to_vector() != c.forward(x).to_vector());
  int zeros = 0;
  for (double v : ya.to_vector()) {
    CHECK((v == 0.0 || v == 2.0));
    zeros += v == 0.0;
  }
  CHECK(zeros > 64);
  CHECK(zeros < 192);
  CHECK(a.forward(x).to_vector() != ya.to_vector());  // the generator advanced
  a.seed(7);
  CHECK_EXACT(a.forward(x), ya);  // reseeding replays
  a.eval();
  CHECK_EXACT(a.forward(x), x);
  CHECK_THROWS_WITH_AS(Dropout(1.5), doctest::Contains("p must be in [0, 1], got 1.5"), Error);
}

TEST_CASE("a VGG-style block in a Sequential: names, shapes, FCN bias mults, state_dict errors") {
  Sequential block;
  block.add("conv1_1", std::make_shared<Conv2d>(3, 8, 3, Conv2dOptions::make(1, 100)));
  block.add("relu1_1", std::make_shared<ReLU>());
  block.add("conv1_2", std::make_shared<Conv2d>(8, 8, 3, Conv2dOptions::make(1, 1)));
  block.add("relu1_2", std::make_shared<ReLU>());
  block.add("pool1", std::make_shared<MaxPool2d>(MaxPool2dOptions::make(2, 2, 0, true)));
  block.add("drop", std::make_shared<Dropout>(0.5, 1));
  CHECK(names_of(block) == std::vector<std::string>{"conv1_1.weight", "conv1_1.bias",
                                                    "conv1_2.weight", "conv1_2.bias"});
  block.set_mults_by_local_name("bias", 2.0, 0.0);
  CHECK(block.param_info("conv1_2.bias").lr_mult == 2.0);
  block.eval();
  // conv1_1 pad 100: 10 -> 208; pool (ceil) -> 104.
  CHECK(block.forward(Tensor::ones({1, 3, 10, 10})).shape() == Shape{1, 8, 104, 104});

  Sequential other;
  other.add("conv1_1", std::make_shared<Conv2d>(3, 8, 3));
  other.add("conv1_2", std::make_shared<Conv2d>(8, 8, 1));
  TensorMap sd = block.state_dict();
  sd["conv1_2.weight"] = sd["conv1_2.weight"].reshape({8, 72});  // fc6-style flattened weight
  CHECK_THROWS_WITH_AS(other.load_state_dict(sd),
                       "load_state_dict: shape mismatch: conv1_2.weight expected [8, 8, 1, 1], "
                       "got [8, 72]",
                       Error);
}
