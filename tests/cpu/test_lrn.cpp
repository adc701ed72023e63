// LRN across channels: exact values on tiny tensors (odd and even windows, window wider than
// C), f32 against f64, gradcheck for odd and even n, and the option errors.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {
Tensor t(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector<double>(v, s); }
}  // namespace

TEST_CASE("lrn n = 3: scale = k + alpha/n x (sum of squares of c-1 .. c+1) clipped at the edges") {
  // alpha/n = 1, beta = 1, k = 1: scale = [1+1+4, 1+1+4+9, 1+4+9] = [6, 15, 14].
  Tensor x = t({1, 2, 3}, {1, 3, 1, 1});
  CHECK_CLOSE(lrn(x, {3, 3.0, 1.0, 1.0}), t({1.0 / 6, 2.0 / 15, 3.0 / 14}, {1, 3, 1, 1}), 0.0, 1e-15);
  // beta = 0.75 on the same scales.
  CHECK_CLOSE(lrn(x, {3, 3.0, 0.75, 1.0}),
              t({std::pow(6.0, -0.75), 2 * std::pow(15.0, -0.75), 3 * std::pow(14.0, -0.75)}, {1, 3, 1, 1}),
              0.0, 1e-15);
}

TEST_CASE("lrn even n = 2 and 4: the window is c-(n-1)/2 .. c+n/2 (Caffe's pre_pad)") {
  // alpha/n = 1: scale = [1+1+4, 1+4+9, 1+9] = [6, 14, 10].
  Tensor x = t({1, 2, 3}, {1, 3, 1, 1});
  CHECK_CLOSE(lrn(x, {2, 2.0, 1.0, 1.0}), t({1.0 / 6, 2.0 / 14, 3.0 / 10}, {1, 3, 1, 1}), 0.0, 1e-15);
  // n = 4: pre_pad 1, window c-1 .. c+2; alpha/n = 1: scale = [1+1+4+9, 1+14, 1+13, 1+9+0].
  CHECK_CLOSE(lrn(x, {4, 4.0, 1.0, 1.0}), t({1.0 / 15, 2.0 / 15, 3.0 / 14}, {1, 3, 1, 1}), 0.0, 1e-15);
}

TEST_CASE("lrn: n = 1 normalizes each channel alone and n wider than C sums all channels") {
  Tensor x = t({1, 2, 3, -1, 0, 2}, {2, 3, 1, 1});  // two images
  // n = 1, alpha 1, beta 1, k 2: y = x / (2 + x^2).
  CHECK_CLOSE(lrn(x, {1, 1.0, 1.0, 2.0}), t({1.0 / 3, 2.0 / 6, 3.0 / 11, -1.0 / 3, 0, 2.0 / 6}, {2, 3, 1, 1}), 0.0, 1e-15);
  // n = 7, alpha 7: every window covers all 3 channels of its own image: scale 1 + 14, 1 + 5.
  CHECK_CLOSE(lrn(x, {7, 7.0, 1.0, 1.0}), t({1.0 / 15, 2.0 / 15, 3.0 / 15, -1.0 / 6, 0, 2.0 / 6}, {2, 3, 1, 1}), 0.0, 1e-15);
}

TEST_CASE("lrn: pixels are independent and f32 agrees with f64") {
  Generator g(4);
  Tensor x = Tensor::uniform({2, 7, 3, 5}, -3.0, 3.0, g, DType::f64);
  LrnOptions o{5, 0.5, 0.75, 1.5};
  Tensor y = lrn(x, o);
  // One pixel recomputed by the formula.
  for (int c = 0; c < 7; ++c) {
    double s = 0;
    for (int cc = c - 2; cc <= c + 2; ++cc)
      if (cc >= 0 && cc < 7) s += x.at({1, cc, 2, 4}) * x.at({1, cc, 2, 4});
    CHECK(y.at({1, c, 2, 4}) == doctest::Approx(x.at({1, c, 2, 4}) * std::pow(1.5 + 0.1 * s, -0.75)).epsilon(1e-14));
  }
  CHECK_CLOSE(lrn(x.to(DType::f32), o), y, 1e-6, 1e-5);
  // CaffeNet's defaults (n 5, alpha 1e-4, beta 0.75, k 1) on activations of order 100.
  Tensor big = Tensor::uniform({1, 8, 2, 2}, 0.0, 200.0, g, DType::f64);
  CHECK_CLOSE(lrn(big.to(DType::f32)), lrn(big), 1e-4, 1e-6);
}

TEST_CASE("gradcheck: lrn for odd and even windows") {
  Generator g(9);
  Tensor x = test::rand_leaf({2, 6, 2, 3}, g, -2.0, 2.0);
  for (int n : {1, 2, 3, 4, 5, 8}) {
    CAPTURE(n);
    LrnOptions o{n, 0.8, 0.75, 1.0};
    CHECK_GRADCHECK([o](auto& v) { return lrn(v[0], o); }, {x});
  }
  CHECK_GRADCHECK([](auto& v) { return lrn(v[0]); }, {x});  // Caffe defaults
}

TEST_CASE("lrn rejects bad options and inputs") {
  Tensor x = Tensor::zeros({1, 3, 2, 2});
  CHECK_THROWS_WITH_AS(lrn(x, {0, 1e-4, 0.75, 1.0}), doctest::Contains("local_size must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(lrn(x, {5, 1e-4, 0.75, 0.0}), doctest::Contains("k must be > 0"), Error);
  CHECK_THROWS_WITH_AS(lrn(x, {5, -1.0, 0.75, 1.0}), doctest::Contains("alpha must be >= 0"), Error);
  CHECK_THROWS_AS(lrn(Tensor::zeros({3, 2, 2})), Error);
  CHECK_THROWS_AS(lrn(Tensor::zeros({1, 3, 2, 2}, DType::i32)), Error);
}
