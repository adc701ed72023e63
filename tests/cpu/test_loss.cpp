// Losses: cross_entropy (weights, ignore_index, each Reduction), dice_loss (per image / per
// batch), bce_with_logits (pos_weight, reductions): hand-computed values, gradcheck of every
// input that takes a gradient, and the errors users meet.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {
const double ln2 = std::log(2.0), ln3 = std::log(3.0);
const Reduction kReductions[] = {Reduction::mean, Reduction::sum, Reduction::batch_mean};

Tensor labels(const std::vector<int32_t>& v, const Shape& s) { return Tensor::from_vector<int32_t>(v, s); }

// |a - b| <= 1e-14 (1 + |b|): the hand values are exact up to rounding of log/exp.
#define CHECK_NEAR(a, b) CHECK((a) == doctest::Approx(b).epsilon(1e-14))
}  // namespace

// ------------------------------------------------------------------ cross_entropy

TEST_CASE("cross_entropy of uniform logits is log C per pixel, for each reduction") {
  // N=2, C=5, H=3, W=4: 24 pixels.
  Tensor logits = Tensor::zeros({2, 5, 3, 4}, DType::f64);
  std::vector<int32_t> t(24);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>(i % 5);
  Tensor target = labels(t, {2, 3, 4});
  const double l5 = std::log(5.0);
  CHECK_NEAR(cross_entropy(logits, target, {{}, -100, Reduction::mean}).item(), l5);
  CHECK_NEAR(cross_entropy(logits, target, {{}, -100, Reduction::sum}).item(), 24 * l5);
  CHECK_NEAR(cross_entropy(logits, target, {{}, -100, Reduction::batch_mean}).item(), 12 * l5);
}

TEST_CASE("cross_entropy: hand-worked 2x2 image with class weights and an ignored pixel") {
  // Two classes. Pixels (h, w) -> logits (c0, c1), target, -log p[target]:
  //   (0,0): (0, ln3)  t=1  p=(1/4, 3/4)  nll = ln(4/3)
  //   (0,1): (0, ln3)  t=0                nll = ln 4
  //   (1,0): (ln2,ln2) t=1  p=(1/2, 1/2)  nll = ln 2
  //   (1,1): (5, -3)   t=255 ignored
  Tensor logits = Tensor::from_vector<double>({0, 0, ln2, 5, ln3, ln3, ln2, -3}, {1, 2, 2, 2});
  Tensor target = labels({1, 0, 1, 255}, {1, 2, 2});
  CrossEntropyOptions o;
  o.ignore_index = 255;
  // Unweighted: sum = ln(4/3) + ln4 + ln2 = ln(32/3), 3 counted pixels.
  CHECK_NEAR(cross_entropy(logits, target, o).item(), std::log(32.0 / 3) / 3);
  // Weights w0 = 2, w1 = 1: sum = ln(4/3) + 2 ln4 + ln2 = ln(128/3); weight sum 1 + 2 + 1 = 4.
  o.class_weights = {2.0, 1.0};
  o.reduction = Reduction::mean;
  CHECK_NEAR(cross_entropy(logits, target, o).item(), std::log(128.0 / 3) / 4);
  o.reduction = Reduction::sum;
  CHECK_NEAR(cross_entropy(logits, target, o).item(), std::log(128.0 / 3));
  o.reduction = Reduction::batch_mean;  // N = 1
  CHECK_NEAR(cross_entropy(logits, target, o).item(), std::log(128.0 / 3));

  // Gradient of the weighted mean: w[t] (p - onehot) / 4 per counted pixel, 0 where ignored.
  //   (0,0): 1 * (1/4, -1/4) / 4;  (0,1): 2 * (-3/4, 3/4) / 4;  (1,0): 1 * (1/2, -1/2) / 4.
  o.reduction = Reduction::mean;
  Tensor leaf = logits.clone().set_requires_grad();
  cross_entropy(leaf, target, o).backward();
  CHECK_CLOSE(leaf.grad(),
              Tensor::from_vector<double>({1. / 16, -3. / 8, 1. / 8, 0, -1. / 16, 3. / 8, -1. / 8, 0}, {1, 2, 2, 2}),
              1e-16, 0.0);
}

TEST_CASE("cross_entropy: classifier logits (N, C) with targets (N)") {
  // Row 0: uniform over 3, t=2 -> ln3. Row 1: (ln2, 0, 0) -> p = (1/2, 1/4, 1/4), t=0 -> ln2.
  Tensor logits = Tensor::from_vector<double>({0, 0, 0, ln2, 0, 0}, {2, 3});
  Tensor target = labels({2, 0}, {2});
  CHECK_NEAR(cross_entropy(logits, target).item(), (ln3 + ln2) / 2);
  CHECK_NEAR(cross_entropy(logits, target, {{}, -100, Reduction::sum}).item(), ln3 + ln2);
}

TEST_CASE("cross_entropy: all pixels ignored with mean gives 0 and a zero gradient, not NaN") {
  Generator g(2);
  Tensor logits = test::rand_leaf({1, 3, 2, 2}, g);
  Tensor target = labels({255, 255, 255, 255}, {1, 2, 2});
  Tensor L = cross_entropy(logits, target, {{}, 255, Reduction::mean});
  CHECK(L.item() == 0.0);
  L.backward();
  CHECK_EXACT(logits.grad(), Tensor::zeros({1, 3, 2, 2}, DType::f64));
  // Counted pixels whose classes all weigh 0: same convention.
  Tensor zero_w = cross_entropy(logits.detach(), labels({0, 0, 255, 0}, {1, 2, 2}), {{0.0, 1.0, 1.0}, 255, Reduction::mean});
  CHECK(zero_w.item() == 0.0);
}

TEST_CASE("cross_entropy: f32 is stable for logits of 1000 and agrees with f64") {
  Tensor big = Tensor::from_vector<float>({1000, 0, 0, 1000}, {2, 2});  // row 0: (1000, 0), row 1: (0, 1000)
  CHECK(cross_entropy(big, labels({0, 0}, {2}), {{}, -100, Reduction::sum}).item() == 1000.0);
  Generator g(4);
  Tensor x = Tensor::uniform({2, 4, 3, 3}, -8.0, 8.0, g, DType::f64);
  std::vector<int32_t> t(18);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>((i * 7) % 4);
  Tensor target = labels(t, {2, 3, 3});
  double l64 = cross_entropy(x, target).item(), l32 = cross_entropy(x.to(DType::f32), target).item();
  CHECK(l32 == doctest::Approx(l64).epsilon(1e-6));
}

TEST_CASE("gradcheck: cross_entropy for each reduction, with and without class weights and ignore_index") {
  Generator g(21);
  Tensor x4 = test::rand_leaf({2, 3, 2, 2}, g, -2.0, 2.0);
  Tensor t4 = labels({0, 1, 2, 255, 2, 2, 0, 1}, {2, 2, 2});
  Tensor x2 = test::rand_leaf({4, 3}, g, -2.0, 2.0);
  Tensor t2 = labels({2, 0, 255, 1}, {4});
  for (Reduction r : kReductions)
    for (bool weighted : {false, true}) {
      CAPTURE(static_cast<int>(r));
      CAPTURE(weighted);
      CrossEntropyOptions o;
      o.reduction = r;
      o.ignore_index = 255;
      if (weighted) o.class_weights = {0.5, 2.0, 1.5};
      CHECK_GRADCHECK([&](auto& v) { return cross_entropy(v[0], t4, o); }, {x4});
      CHECK_GRADCHECK([&](auto& v) { return cross_entropy(v[0], t2, o); }, {x2});
    }
}

TEST_CASE("cross_entropy: clear errors for bad targets and options") {
  Tensor logits = Tensor::zeros({2, 5, 3, 4});
  Tensor ok = Tensor::zeros({2, 3, 4}, DType::i32);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, Tensor::zeros({2, 3, 3}, DType::i32)),
                       doctest::Contains("target must have shape [2, 3, 4] (logits [2, 5, 3, 4] without the class axis), got [2, 3, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, Tensor::zeros({2, 3, 4})),
                       doctest::Contains("target must be i32 class indices, got f32"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, ok, {{1, 1, 1, 1}}),
                       doctest::Contains("class_weights must have one entry per class (5), got 4"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, ok, {{1, 1, -1, 1, 1}}),
                       doctest::Contains("class_weights[2] must be finite and >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(Tensor::zeros({5}), Tensor::zeros({1}, DType::i32)),
                       doctest::Contains("logits must be (N, C, H, W) or (N, C), got shape [5]"), Error);

  // Out-of-range targets name the value and the (n, h, w) position.
  Tensor bad = Tensor::zeros({2, 3, 4}, DType::i32);
  bad.set_flat(1 * 12 + 2 * 4 + 3, 7);  // (n=1, h=2, w=3)
  CHECK_THROWS_WITH_AS(cross_entropy(logits, bad),
                       doctest::Contains("target value 7 at (n=1, h=2, w=3) is outside the classes [0, 5) and is not ignore_index (-100)"),
                       Error);
  bad.set_flat(1 * 12 + 2 * 4 + 3, 255);  // VOC's ignore label without ignore_index = 255
  CHECK_THROWS_WITH_AS(cross_entropy(logits, bad), doctest::Contains("target value 255 at (n=1, h=2, w=3)"), Error);
  CHECK_NOTHROW(cross_entropy(logits, bad, {{}, 255}));
  CHECK_THROWS_WITH_AS(cross_entropy(Tensor::zeros({3, 2}), labels({0, -1, 1}, {3})),
                       doctest::Contains("target value -1 at (n=1)"), Error);
}

// ------------------------------------------------------------------ dice_loss

TEST_CASE("dice_loss: perfect prediction gives 0, hand-computed 2x2 values and gradient") {
  Tensor t = Tensor::from_vector<double>({1, 1, 0, 0, 0, 0, 0, 1}, {2, 2, 2});
  for (bool per_image : {true, false}) CHECK(dice_loss(t, t, {1.0, per_image}).item() == 0.0);

  // Image 0: p = [.5 1; 0 .5], t = [1 1; 0 0]: I = 1.5, P = 2, T = 2.
  Tensor p0 = Tensor::from_vector<double>({0.5, 1, 0, 0.5}, {1, 2, 2});
  Tensor t0 = Tensor::from_vector<double>({1, 1, 0, 0}, {1, 2, 2});
  CHECK_NEAR(dice_loss(p0, t0, {1.0, true}).item(), 1.0 - 4.0 / 5);  // (3 + 1) / (4 + 1)
  CHECK_NEAR(dice_loss(p0, t0, {0.0, true}).item(), 1.0 - 3.0 / 4);
  // dL/dp_i = -(2 t_i / den - num / den^2) = -(2 t_i / 5 - 4 / 25): t=1 -> -6/25, t=0 -> 4/25.
  Tensor leaf = p0.clone().set_requires_grad();
  dice_loss(leaf, t0).backward();
  CHECK_CLOSE(leaf.grad(), Tensor::from_vector<double>({-6. / 25, -6. / 25, 4. / 25, 4. / 25}, {1, 2, 2}), 1e-16, 0.0);

  // Batch of two: image 1 has p = 0, t = [0 0; 0 1]: I = 0, P = 0, T = 1 -> D = 1/2.
  Tensor p = Tensor::from_vector<double>({0.5, 1, 0, 0.5, 0, 0, 0, 0}, {2, 2, 2});
  CHECK_NEAR(dice_loss(p, t, {1.0, true}).item(), 1.0 - (0.8 + 0.5) / 2);
  // One Dice over the batch: I = 1.5, P = 2, T = 3 -> (3 + 1) / (5 + 1).
  CHECK_NEAR(dice_loss(p, t, {1.0, false}).item(), 1.0 - 4.0 / 6);
}

TEST_CASE("dice_loss: both masks empty with smooth 0 counts as perfect, with zero gradient") {
  Tensor p = Tensor::zeros({1, 2, 2}, DType::f64).set_requires_grad();
  Tensor t = Tensor::zeros({1, 2, 2}, DType::f64);
  Tensor L = dice_loss(p, t, {0.0, true});
  CHECK(L.item() == 0.0);
  L.backward();
  CHECK_EXACT(p.grad(), Tensor::zeros({1, 2, 2}, DType::f64));
}

TEST_CASE("gradcheck: dice_loss in prob and target, per image and per batch") {
  Generator g(31);
  Tensor p = test::rand_leaf({2, 3, 3}, g, 0.05, 0.95);
  Tensor t = Tensor::from_vector<double>({1, 0, 0, 1, 1, 0, 0, 0, 1,  0, 0, 0, 0, 1, 1, 0, 1, 0}, {2, 3, 3});
  t.set_requires_grad();
  for (bool per_image : {true, false})
    for (double smooth : {1.0, 0.5}) {
      CAPTURE(per_image);
      CAPTURE(smooth);
      DiceOptions o{smooth, per_image};
      CHECK_GRADCHECK([&](auto& v) { return dice_loss(v[0], v[1], o); }, {p, t});
    }
}

TEST_CASE("gradcheck: Dice on the foreground channel of a softmax, and on a sigmoid") {
  Generator g(41);
  Tensor x = test::rand_leaf({2, 2, 2, 3}, g, -2.0, 2.0);
  Tensor t = Tensor::from_vector<double>({1, 1, 0, 0, 0, 1,  0, 0, 0, 1, 1, 1}, {2, 2, 3});
  CHECK_GRADCHECK([&](auto& v) { return dice_loss(select_channel(softmax(v[0]), 1), t); }, {x});
  Tensor z = test::rand_leaf({2, 2, 3}, g, -2.0, 2.0);
  CHECK_GRADCHECK([&](auto& v) { return dice_loss(sigmoid(v[0]), t, {1.0, false}); }, {z});
}

TEST_CASE("dice_loss: errors name the mismatch") {
  Tensor p = Tensor::zeros({2, 3, 3});
  CHECK_THROWS_WITH_AS(dice_loss(p, Tensor::zeros({2, 3, 4})),
                       doctest::Contains("dice_loss: target must have the shape of prob [2, 3, 3], got [2, 3, 4]"), Error);
  CHECK_THROWS_WITH_AS(dice_loss(p, Tensor::zeros({2, 3, 3}, DType::f64)),
                       doctest::Contains("target must have the dtype of prob (f32), got f64"), Error);
  CHECK_THROWS_WITH_AS(dice_loss(p, p, {-1.0, true}), doctest::Contains("smooth must be finite and >= 0, got -1"), Error);
}

// ------------------------------------------------------------------ bce_with_logits

TEST_CASE("bce_with_logits: hand-computed values, pos_weight, reductions, stability") {
  // (x, t): (0, 1) -> ln2; (0, 0) -> ln2; (ln3, 1) -> -ln(3/4); (-ln3, 0) -> -ln(1 - 1/4).
  Tensor x = Tensor::from_vector<double>({0, 0, ln3, -ln3}, {2, 2});
  Tensor t = Tensor::from_vector<double>({1, 0, 1, 0}, {2, 2});
  const double s = 2 * ln2 + 2 * std::log(4.0 / 3);
  CHECK_NEAR(bce_with_logits(x, t, Reduction::sum).item(), s);
  CHECK_NEAR(bce_with_logits(x, t, Reduction::mean).item(), s / 4);
  CHECK_NEAR(bce_with_logits(x, t, Reduction::batch_mean).item(), s / 2);
  // pos_weight 3 triples the two positive terms: 4 ln2 + 4 ln(4/3).
  CHECK_NEAR(bce_with_logits(x, t, Reduction::sum, 3.0).item(), 4 * ln2 + 4 * std::log(4.0 / 3));
  // f32 at +-1000: wrong sides cost 1000 each, right sides 0; nothing overflows.
  Tensor big = Tensor::from_vector<float>({1000, -1000, 1000, -1000}, {4});
  Tensor bt = Tensor::from_vector<float>({0, 1, 1, 0}, {4});
  CHECK(bce_with_logits(big, bt, Reduction::sum).item() == 2000.0);
}

TEST_CASE("bce_with_logits agrees with the textbook formula, d/dx = sigmoid(x) - t") {
  Generator g(51);
  Tensor x = Tensor::uniform({3, 4}, -6.0, 6.0, g, DType::f64);
  Tensor t = Tensor::uniform({3, 4}, 0.0, 1.0, g, DType::f64);
  std::vector<double> xv = x.to_vector(), tv = t.to_vector();
  double naive = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    double sg = 1 / (1 + std::exp(-xv[i]));
    naive -= 2.5 * tv[i] * std::log(sg) + (1 - tv[i]) * std::log(1 - sg);
  }
  CHECK(bce_with_logits(x, t, Reduction::sum, 2.5).item() == doctest::Approx(naive).epsilon(1e-12));
  Tensor leaf = x.clone().set_requires_grad();
  bce_with_logits(leaf, t, Reduction::sum).backward();
  std::vector<double> expect(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) expect[i] = 1 / (1 + std::exp(-xv[i])) - tv[i];
  CHECK_CLOSE(leaf.grad(), Tensor::from_vector<double>(expect, {3, 4}), 1e-15, 1e-14);
}

TEST_CASE("gradcheck: bce_with_logits in logits and target, each reduction, pos_weight") {
  Generator g(61);
  Tensor x = test::rand_leaf({2, 3, 2}, g, -3.0, 3.0);
  Tensor t = test::rand_leaf({2, 3, 2}, g, 0.0, 1.0);
  for (Reduction r : kReductions)
    for (double pw : {1.0, 2.5}) {
      CAPTURE(static_cast<int>(r));
      CAPTURE(pw);
      CHECK_GRADCHECK([&](auto& v) { return bce_with_logits(v[0], v[1], r, pw); }, {x, t});
    }
}

TEST_CASE("bce_with_logits: errors name the mismatch") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(bce_with_logits(x, Tensor::zeros({3, 2})),
                       doctest::Contains("bce_with_logits: target must have the shape of logits [2, 3], got [3, 2]"), Error);
  CHECK_THROWS_WITH_AS(bce_with_logits(x, Tensor::zeros({2, 3}, DType::i32)),
                       doctest::Contains("target must have the dtype of logits (f32), got i32"), Error);
  CHECK_THROWS_WITH_AS(bce_with_logits(x, x, Reduction::mean, -1.0),
                       doctest::Contains("pos_weight must be finite and >= 0, got -1"), Error);
}
