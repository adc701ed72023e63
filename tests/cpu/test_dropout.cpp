// Dropout: the documented Philox mask rule, reproducibility, the dropped fraction, the
// 1/(1-p) scaling, backward through the same mask, and the edge values of p.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

TEST_CASE("dropout mask follows the documented rule: dropped iff philox_uniform(seed base+i) < p") {
  Generator gen(42);
  gen.reserve(10);  // start mid-stream: base is whatever reserve() hands out
  const uint64_t base = gen.offset();
  // p is exactly the uniform of element 5, so the strict "<" is tested at the boundary:
  // element 5 must be kept.
  const double p = static_cast<double>(philox_uniform(42, base + 5));
  CAPTURE(p);
  Tensor x = Tensor::ones({3, 4, 50, 70}, DType::f64);
  Tensor y = dropout(x, p, true, gen);
  CHECK(gen.offset() == base + 42000);  // numel 42000, a whole number of Philox blocks
  CHECK(y.flat(5) != 0.0);
  int64_t mismatches = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool dropped = static_cast<double>(philox_uniform(42, base + static_cast<uint64_t>(i))) < p;
    const double want = dropped ? 0.0 : 1.0 / (1.0 - p);
    if (y.flat(i) != want) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("dropout: same seed and offset give the same mask and a later call or another seed differs") {
  Tensor x = Tensor::ones({1000});
  Generator a(7), b(7), c(8);
  Tensor ya = dropout(x, 0.5, true, a), yb = dropout(x, 0.5, true, b), yc = dropout(x, 0.5, true, c);
  CHECK_EXACT(ya, yb);
  CHECK(!test::compare(ya, yc, 0.0, 0.0).empty());
  Tensor ya2 = dropout(x, 0.5, true, a);  // the generator moved on
  CHECK(!test::compare(ya, ya2, 0.0, 0.0).empty());
}

TEST_CASE("dropout drops a fraction near p and scales survivors by exactly 1/(1-p)") {
  const int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.9}) {
    CAPTURE(p);
    Generator gen(123);
    Tensor x = Tensor::arange(n, DType::f64);
    Tensor y = dropout(x, p, true, gen);
    int64_t dropped = 0, bad = 0;
    const double scale = 1.0 / (1.0 - p);
    for (int64_t i = 0; i < n; ++i) {
      const double v = y.flat(i);
      if (v == 0.0 && i != 0) ++dropped;
      else if (v != double(i) * scale) ++bad;
    }
    CHECK(bad == 0);
    // Binomial(n, p): 5 standard deviations is at most 0.0056 here; the stream is fixed, so
    // this is deterministic, not flaky.
    const double frac = double(dropped) / double(n - 1);
    CHECK(std::fabs(frac - p) < 5.0 * std::sqrt(p * (1 - p) / double(n)));
  }
}

TEST_CASE("dropout backward uses the forward's mask") {
  Generator gen(5);
  Tensor x = Tensor::ones({4, 8, 3, 3}, DType::f64).set_requires_grad();
  Tensor y = dropout(x, 0.4, true, gen);
  y.backward(Tensor::ones(y.shape(), DType::f64));
  CHECK_EXACT(x.grad(), y.detach());  // d y_i / d x_i = mask_i / (1-p) = y_i when x = 1
}

TEST_CASE("gradcheck: dropout with a fixed generator state") {
  Generator g(3);
  Tensor x = test::rand_leaf({2, 3, 4, 4}, g);
  // A fresh generator per call: every evaluation sees the same mask.
  CHECK_GRADCHECK([](auto& v) { Generator gen(99); return dropout(v[0], 0.35, true, gen); }, {x});
}

TEST_CASE("dropout: eval and p = 0 return the input untouched and p = 1 gives zeros") {
  Generator gen(1);
  Tensor x = Tensor::from_vector<float>({1, -2, 3, 4}, {4});
  CHECK(dropout(x, 0.5, false, gen).same(x));
  CHECK(dropout(x, 0.0, true, gen).same(x));
  CHECK(gen.offset() == 0);  // nothing drawn
  Tensor xg = Tensor::from_vector<double>({1, -2, 3, 4}, {4}).set_requires_grad();
  Tensor y = dropout(xg, 1.0, true, gen);
  CHECK_EXACT(y, Tensor::zeros({4}, DType::f64));  // exact zeros, no NaN from 0 * inf
  y.backward(Tensor::ones({4}, DType::f64));
  CHECK_EXACT(xg.grad(), Tensor::zeros({4}, DType::f64));
}

TEST_CASE("dropout rejects p outside [0 1] and integer tensors") {
  Generator gen(1);
  Tensor x = Tensor::ones({4});
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, true, gen), doctest::Contains("p must be in [0, 1], got -0.1"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, 1.5, true, gen), doctest::Contains("p must be in [0, 1]"), Error);
  CHECK_THROWS_AS(dropout(x, std::nan(""), true, gen), Error);
  CHECK_THROWS_AS(dropout(Tensor::ones({4}, DType::i32), 0.5, true, gen), Error);
}
