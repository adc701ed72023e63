// CUDA losses against the CPU: cross-entropy (class weights, ignore_index, each reduction,
// (N, C) and (N, C, H, W)), its out-of-range target error, Dice per image and per batch,
// BCE with pos_weight; values and gradients of every differentiable input.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

namespace {
const Reduction kReductions[] = {Reduction::mean, Reduction::sum, Reduction::batch_mean};

Tensor random_labels(const Shape& s, int classes, int ignore, uint64_t seed) {
  Generator g(seed);
  std::vector<int32_t> v(static_cast<size_t>(s.numel()));
  for (int32_t& e : v) {
    const int r = static_cast<int>(g.next_u32() % static_cast<uint32_t>(classes + 1));
    e = r == classes ? ignore : r;  // about one pixel in C+1 ignored
  }
  return Tensor::from_vector<int32_t>(v, s);
}
}  // namespace

TEST_CASE("cuda cross_entropy matches the CPU: weights, ignore_index, reductions") {
  for (DType dt : {DType::f32, DType::f64})
    for (Reduction r : kReductions) {
      Generator g(8);
      Tensor x = Tensor::uniform({2, 5, 3, 7}, -4, 4, g, dt).set_requires_grad();
      Tensor t = random_labels({2, 3, 7}, 5, 255, 9);
      CrossEntropyOptions o{{0.5, 1, 2, 0, 1.5}, 255, r};
      CHECK_SAME_ON_DEVICES([&](auto& v) { return cross_entropy(v[0], v[1], o); }, {x, t});
      CrossEntropyOptions plain;
      plain.reduction = r;
      Tensor t2 = random_labels({2, 3, 7}, 5, 0, 10);  // no pixel ignored
      CHECK_SAME_ON_DEVICES([&](auto& v) { return cross_entropy(v[0], v[1], plain); }, {x, t2});
    }
  Generator g(12);
  Tensor x2 = Tensor::uniform({37, 3}, -2, 2, g).set_requires_grad();
  Tensor t2 = random_labels({37}, 3, -100, 13);
  CHECK_SAME_ON_DEVICES([](auto& v) { return cross_entropy(v[0], v[1]); }, {x2, t2});
}

TEST_CASE("cuda cross_entropy: an out-of-range target is the CPU's error, naming value and position") {
  Tensor logits = Tensor::zeros({2, 5, 3, 4}, DType::f32, Device::cuda());
  Tensor bad = Tensor::zeros({2, 3, 4}, DType::i32);
  bad.set_flat(1 * 12 + 2 * 4 + 3, 7);  // (n=1, h=2, w=3)
  bad.set_flat(1 * 12 + 2 * 4 + 1, -5);  // an earlier offender: the lowest position is named
  CHECK_THROWS_WITH_AS(cross_entropy(logits, bad.to(Device::cuda())),
                       doctest::Contains("target value -5 at (n=1, h=2, w=1) is outside the classes [0, 5) and is "
                                         "not ignore_index (-100)"),
                       Error);
  bad.set_flat(1 * 12 + 2 * 4 + 1, 0);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, bad.to(Device::cuda())),
                       doctest::Contains("target value 7 at (n=1, h=2, w=3)"), Error);
  bad.set_flat(1 * 12 + 2 * 4 + 3, 255);
  CHECK_NOTHROW(cross_entropy(logits, bad.to(Device::cuda()), {{}, 255}));
}

TEST_CASE("cuda dice_loss matches the CPU per image and per batch, gradients in prob and target") {
  for (DType dt : {DType::f32, DType::f64})
    for (bool per_image : {true, false})
      for (double smooth : {0.0, 1.0}) {
        Generator g(14);
        Tensor p = Tensor::uniform({3, 5, 7}, 0, 1, g, dt).set_requires_grad();
        std::vector<double> tv(3 * 5 * 7);
        for (double& e : tv) e = static_cast<double>(g.next_u32() % 2);
        Tensor t = Tensor::from_vector<double>(tv, {3, 5, 7}).to(dt).set_requires_grad();
        const DiceOptions o{smooth, per_image};
        CHECK_SAME_ON_DEVICES([o](auto& v) { return dice_loss(v[0], v[1], o); }, {p, t});
      }
  // More elements than one block covers, so the two-stage reduction runs with several blocks.
  Generator g(15);
  Tensor p = Tensor::uniform({2, 2000}, 0, 1, g).set_requires_grad();
  Tensor t = Tensor::uniform({2, 2000}, 0, 1, g);
  CHECK_SAME_ON_DEVICES([](auto& v) { return dice_loss(v[0], v[1]); }, {p, t});
}

TEST_CASE("cuda bce_with_logits matches the CPU: reductions, pos_weight, both gradients") {
  for (DType dt : {DType::f32, DType::f64})
    for (Reduction r : kReductions)
      for (double pw : {1.0, 3.0}) {
        Generator g(16);
        Tensor x = Tensor::uniform({3, 45}, -20, 20, g, dt).set_requires_grad();
        Tensor t = Tensor::uniform({3, 45}, 0, 1, g, dt).set_requires_grad();
        CHECK_SAME_ON_DEVICES([=](auto& v) { return bce_with_logits(v[0], v[1], r, pw); }, {x, t});
      }
}
