// Channel softmax / log_softmax, select_channel, argmax_channels, sigmoid: exact forward
// cases, stability at logits of 1000, gradients, and the errors users meet.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {
const double ln2 = std::log(2.0), ln3 = std::log(3.0), ln5 = std::log(5.0);
}

TEST_CASE("softmax: hand-computed values over the channel axis of (N, C) and (N, C, H, W)") {
  // Row [0, ln2, ln5] -> [1, 2, 5] / 8.
  Tensor x2 = Tensor::from_vector<double>({0, ln2, ln5, ln5, 0, ln2}, {2, 3});
  CHECK_CLOSE(softmax(x2), Tensor::from_vector<double>({1. / 8, 2. / 8, 5. / 8, 5. / 8, 1. / 8, 2. / 8}, {2, 3}),
              1e-15, 0.0);
  CHECK_CLOSE(log_softmax(x2),
              Tensor::from_vector<double>({-std::log(8.), std::log(2. / 8), std::log(5. / 8),
                                           std::log(5. / 8), -std::log(8.), std::log(2. / 8)}, {2, 3}),
              1e-15, 0.0);
  // The same two columns as two pixels of one (1, 3, 1, 2) image: channel stride is H*W = 2.
  Tensor x4 = Tensor::from_vector<double>({0, ln5, ln2, 0, ln5, ln2}, {1, 3, 1, 2});
  CHECK_CLOSE(softmax(x4), Tensor::from_vector<double>({1. / 8, 5. / 8, 2. / 8, 1. / 8, 5. / 8, 2. / 8}, {1, 3, 1, 2}),
              1e-15, 0.0);
  // Equal logits: exactly 1/C everywhere.
  CHECK_EXACT(softmax(Tensor::full({2, 4, 1, 3}, 7.0)), Tensor::full({2, 4, 1, 3}, 0.25));
}

TEST_CASE("softmax: every pixel's channels sum to 1 and logits of +-1000 stay finite") {
  Generator g(7);
  Tensor x = Tensor::uniform({3, 5, 4, 4}, -50.0, 50.0, g);  // f32
  Tensor y = softmax(x);
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t w = 0; w < 4; ++w) {
        double s = 0;
        for (int64_t c = 0; c < 5; ++c) s += y.at({n, c, h, w});
        CHECK(std::fabs(s - 1.0) <= 1e-6);
      }
  // f32: exp(1000) overflows, exp(1000 - max) does not.
  Tensor big = Tensor::from_vector<float>({1000, 1000, 0, -1000, 1000, 999}, {2, 3});
  std::vector<double> p = softmax(big).to_vector();
  for (double v : p) CHECK(std::isfinite(v));
  CHECK(p[0] == 0.5);
  CHECK(p[1] == 0.5);
  CHECK(p[2] == 0.0);
  CHECK(p[4] == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  std::vector<double> lp = log_softmax(Tensor::from_vector<float>({1000, 0}, {1, 2})).to_vector();
  CHECK(lp[0] == 0.0);
  CHECK(lp[1] == -1000.0);
}

TEST_CASE("log_softmax equals log(softmax) and f32 agrees with f64") {
  Generator g(3);
  Tensor x = Tensor::uniform({2, 4, 3, 2}, -5.0, 5.0, g, DType::f64);
  Tensor ls = log_softmax(x);
  std::vector<double> p = softmax(x).to_vector();
  for (double& v : p) v = std::log(v);
  CHECK_CLOSE(ls, Tensor::from_vector<double>(p, x.shape()), 1e-14, 1e-14);
  CHECK_CLOSE(softmax(x.to(DType::f32)).to(DType::f64), softmax(x), 1e-7, 1e-6);
  CHECK_CLOSE(log_softmax(x.to(DType::f32)).to(DType::f64), ls, 1e-6, 1e-6);
}

TEST_CASE("gradcheck: softmax and log_softmax on (N, C) and (N, C, H, W)") {
  Generator g(11);
  for (Shape s : {Shape{3, 4}, Shape{2, 3, 2, 2}}) {
    CAPTURE(s.str());
    Tensor x = test::rand_leaf(s, g, -2.0, 2.0);
    CHECK_GRADCHECK([](auto& v) { return softmax(v[0]); }, {x});
    CHECK_GRADCHECK([](auto& v) { return log_softmax(v[0]); }, {x});
  }
}

TEST_CASE("select_channel: picks channel c of (N, C, H, W) and (N, C), backward scatters") {
  Tensor x = Tensor::arange(24, DType::f64).reshape({2, 3, 2, 2});
  // x[n, 1, h, w] = 12 n + 4 + 2 h + w
  CHECK_EXACT(select_channel(x, 1), Tensor::from_vector<double>({4, 5, 6, 7, 16, 17, 18, 19}, {2, 2, 2}));
  Tensor x2 = Tensor::arange(6, DType::f64).reshape({2, 3});
  CHECK_EXACT(select_channel(x2, 2), Tensor::from_vector<double>({2, 5}, {2}));

  Tensor leaf = Tensor::zeros({1, 2, 1, 2}, DType::f64).set_requires_grad();
  select_channel(leaf, 1).backward(Tensor::from_vector<double>({3, 4}, {1, 1, 2}));
  CHECK(leaf.grad().to_vector() == std::vector<double>{0, 0, 3, 4});

  Generator g(5);
  Tensor a = test::rand_leaf({2, 3, 2, 2}, g);
  CHECK_GRADCHECK([](auto& v) { return select_channel(v[0], 0); }, {a});
  CHECK_GRADCHECK([](auto& v) { return select_channel(v[0], 2); }, {a});

  CHECK_THROWS_WITH_AS(select_channel(x, 3), doctest::Contains("channel 3 out of range [0, 3)"), Error);
  CHECK_THROWS_WITH_AS(select_channel(x, -1), doctest::Contains("channel -1 out of range"), Error);
}

TEST_CASE("argmax_channels: i32 indices, ties to the lowest index, never requires grad") {
  // Four pixels of one image, channel columns: [1,5,2] [3,3,1] [0,2,2] [-1,-2,-0.5].
  Tensor x = Tensor::from_vector<double>({1, 3, 0, -1,  5, 3, 2, -2,  2, 1, 2, -0.5}, {1, 3, 1, 4});
  x.set_requires_grad();
  Tensor a = argmax_channels(x);
  CHECK(a.dtype() == DType::i32);
  CHECK(a.shape() == Shape{1, 1, 4});
  CHECK(!a.requires_grad());
  CHECK(a.to_vector() == std::vector<double>{1, 0, 1, 2});
  Tensor c = argmax_channels(Tensor::from_vector<float>({0, 9, 9, 4, 4, 4}, {2, 3}));
  CHECK(c.shape() == Shape{2});
  CHECK(c.to_vector() == std::vector<double>{1, 0});
}

TEST_CASE("sigmoid: exact values, finite at +-1000, gradient from the output") {
  Tensor x = Tensor::from_vector<double>({0, ln3, -ln3}, {3});
  CHECK_CLOSE(sigmoid(x), Tensor::from_vector<double>({0.5, 0.75, 0.25}, {3}), 1e-15, 0.0);
  std::vector<double> y = sigmoid(Tensor::from_vector<float>({1000, -1000}, {2})).to_vector();
  CHECK(y == std::vector<double>{1.0, 0.0});
  // d sigmoid/dx at 0 is 1/4, at ln3 it is 3/16.
  Tensor leaf = Tensor::from_vector<double>({0, ln3}, {2}).set_requires_grad();
  sum(sigmoid(leaf)).backward();
  CHECK_CLOSE(leaf.grad(), Tensor::from_vector<double>({0.25, 3.0 / 16}, {2}), 1e-15, 0.0);
  Generator g(9);
  Tensor a = test::rand_leaf({2, 3, 2}, g, -4.0, 4.0);
  CHECK_GRADCHECK([](auto& v) { return sigmoid(v[0]); }, {a});
}

TEST_CASE("channel ops reject inputs without a channel axis or of integer dtype") {
  CHECK_THROWS_WITH_AS(softmax(Tensor::ones({4})), doctest::Contains("softmax: x must be (N, C) or (N, C, H, W), got shape [4]"), Error);
  CHECK_THROWS_WITH_AS(log_softmax(Tensor::ones({2, 3}, DType::i32)), doctest::Contains("must be f32 or f64, got i32"), Error);
  CHECK_THROWS_WITH_AS(argmax_channels(Tensor::ones({2, 0})), doctest::Contains("at least one channel"), Error);
  CHECK_THROWS_WITH_AS(sigmoid(Tensor::ones({2}, DType::u8)), doctest::Contains("sigmoid: x must be f32 or f64, got u8"), Error);
}
