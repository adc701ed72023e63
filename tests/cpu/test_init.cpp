// Initialisers: the bilinear filter by hand, fans, gains, and the spread of the random fills
// (large draws against their formulas), reproducibility from a seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "engine/nn/init.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {
// Sample mean and standard deviation.
std::pair<double, double> moments(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  const double mean = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - mean) * (x - mean);
  return {mean, std::sqrt(s2 / static_cast<double>(v.size()))};
}
double max_abs(const Tensor& t) {
  double m = 0;
  for (double x : t.to_vector()) m = std::max(m, std::fabs(x));
  return m;
}
}  // namespace

TEST_CASE("bilinear filter: FCN's upsample_filt values") {
  CHECK(init::bilinear_filter_1d(4) == std::vector<double>{0.25, 0.75, 0.75, 0.25});
  CHECK(init::bilinear_filter_1d(3) == std::vector<double>{0.5, 1.0, 0.5});
  std::vector<double> f16 = init::bilinear_filter_1d(16);  // upscore8: factor 8, center 7.5
  CHECK(f16[0] == 1.0 - 7.5 / 8);
  CHECK(f16[7] == 1.0 - 0.5 / 8);
  double s = 0;
  for (double x : f16) s += x;
  CHECK(s == 8.0);  // k = 2*stride: the 1-D kernel sums to the stride
}

TEST_CASE("bilinear_upsample_: outer(f, f) on the channel diagonal, zeros elsewhere") {
  Tensor w = Tensor::full({2, 2, 4, 4}, 9.0);
  init::bilinear_upsample_(w);
  const double f[4] = {0.25, 0.75, 0.75, 0.25};
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x)
          CHECK(w.at({i, j, y, x}) == (i == j ? f[y] * f[x] : 0.0));
  CHECK(w.at({0, 0, 1, 2}) == 0.5625);
  CHECK(w.at({1, 1, 0, 0}) == 0.0625);
  Tensor dw = Tensor::zeros({3, 1, 4, 4}, DType::f64);  // depthwise: every channel filtered
  init::bilinear_upsample_(dw);
  CHECK(dw.at({2, 0, 1, 1}) == 0.5625);
  Tensor bad = Tensor::zeros({2, 3, 4, 4});
  CHECK_THROWS_WITH_AS(init::bilinear_upsample_(bad), doctest::Contains("needs C_in == C_out"), Error);
}

TEST_CASE("fans and gains") {
  CHECK(init::fans({64, 3, 3, 3}) == std::pair<int64_t, int64_t>{27, 576});
  CHECK(init::fans({10, 20}) == std::pair<int64_t, int64_t>{20, 10});
  CHECK_THROWS_WITH_AS(init::fans({5}), doctest::Contains("at least 2 dimensions"), Error);
  CHECK(init::calculate_gain(init::Nonlinearity::relu) == std::sqrt(2.0));
  CHECK(init::calculate_gain(init::Nonlinearity::linear) == 1.0);
  CHECK(init::calculate_gain(init::Nonlinearity::tanh) == 5.0 / 3.0);
  CHECK(init::calculate_gain(init::Nonlinearity::leaky_relu, 0.2) == std::sqrt(2.0 / 1.04));
}

TEST_CASE("kaiming and xavier fills have the spread of their formulas") {
  // 256 x 64 x 3 x 3 = 147456 draws: the sample std is within ~0.5% of the true one (3 sigma).
  Generator g(42);
  Tensor w = Tensor::zeros({256, 64, 3, 3});
  init::kaiming_normal_(w, g, init::FanMode::fan_in);
  auto [m1, s1] = moments(w);
  CHECK(std::fabs(m1) < 0.01 * s1);
  CHECK(s1 == doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.01));
  init::kaiming_normal_(w, g, init::FanMode::fan_out);
  CHECK(moments(w).second == doctest::Approx(std::sqrt(2.0 / (256 * 9))).epsilon(0.01));

  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / (64 * 9));
  init::kaiming_uniform_(w, g);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.999 * bound);
  CHECK(moments(w).second == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));

  Tensor l = Tensor::zeros({300, 500}, DType::f64);
  init::xavier_uniform_(l, g);
  const double xb = std::sqrt(6.0 / 800);
  CHECK(max_abs(l) <= xb);
  CHECK(max_abs(l) > 0.999 * xb);
  init::xavier_normal_(l, g, 2.0);
  CHECK(moments(l).second == doctest::Approx(2.0 * std::sqrt(2.0 / 800)).epsilon(0.01));
}

TEST_CASE("fills are reproducible from the seed, in place, and keep dtype") {
  Tensor a = Tensor::zeros({4, 3, 2, 2}), b = Tensor::zeros({4, 3, 2, 2});
  Tensor alias = a;
  Generator g1(7), g2(7), g3(8);
  init::kaiming_normal_(a, g1);
  init::kaiming_normal_(b, g2);
  CHECK_EXACT(a, b);
  CHECK(alias.same(a));
  CHECK(a.dtype() == DType::f32);
  init::kaiming_normal_(b, g3);
  CHECK(a.to_vector() != b.to_vector());
  init::constant_(a, 0.5);
  CHECK(a.at({3, 2, 1, 1}) == 0.5);
  init::zeros_(a);
  CHECK(max_abs(a) == 0.0);
  Tensor ints = Tensor::zeros({2, 2}, DType::i32);
  CHECK_THROWS_WITH_AS(init::normal_(ints, 0, 1, g1), doctest::Contains("expected a floating tensor"),
                       Error);
}
