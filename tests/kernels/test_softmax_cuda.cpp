// CUDA channel softmax family against the CPU: channel counts that are not multiples of 32,
// (N, C) and (N, C, H, W) layouts, large logits, argmax ties, sigmoid at +-1000.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

TEST_CASE("cuda softmax and log_softmax forward and backward match the CPU") {
  const Shape shapes[] = {{2, 1, 3, 5}, {2, 3, 5, 7}, {1, 33, 3, 3}, {3, 21}};
  for (DType dt : {DType::f32, DType::f64})
    for (const Shape& s : shapes) {
      Generator g(static_cast<uint64_t>(s.numel()));
      Tensor x = Tensor::uniform(s, -30, 30, g, dt).set_requires_grad();
      CHECK_SAME_ON_DEVICES([](auto& v) { return softmax(v[0]); }, {x});
      CHECK_SAME_ON_DEVICES([](auto& v) { return log_softmax(v[0]); }, {x});
    }
  // Logits of 1000: stable on both devices.
  Tensor big = Tensor::from_vector<float>({1000, -1000, 999, 0, 1000, 1000}, {1, 3, 1, 2}).set_requires_grad();
  CHECK_SAME_ON_DEVICES([](auto& v) { return softmax(v[0]); }, {big});
  CHECK_SAME_ON_DEVICES([](auto& v) { return log_softmax(v[0]); }, {big});
}

TEST_CASE("cuda select_channel and argmax_channels match the CPU (ties go to the lowest index)") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(5);
    Tensor x = Tensor::uniform({2, 5, 3, 7}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return select_channel(v[0], 3); }, {x}, {0.0, 0.0});
    CHECK_SAME_ON_DEVICES([](auto& v) { return select_channel(v[0], 0); }, {x}, {0.0, 0.0});
    // Integers in [0, 2] over 5 channels: most pixels have tied maxima.
    std::vector<double> vals(2 * 5 * 3 * 7);
    for (double& e : vals) e = static_cast<double>(g.next_u32() % 3);
    Tensor ties = Tensor::from_vector<double>(vals, {2, 5, 3, 7}).to(dt);
    CHECK_EXACT(argmax_channels(ties.to(Device::cuda())).to(Device::cpu()), argmax_channels(ties));
    Tensor logits2d = Tensor::from_vector<double>(vals, {42, 5}).to(dt);
    CHECK_EXACT(argmax_channels(logits2d.to(Device::cuda())).to(Device::cpu()), argmax_channels(logits2d));
  }
}

TEST_CASE("cuda sigmoid forward and backward match the CPU, finite at +-1000") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(6);
    Tensor x = Tensor::uniform({3, 77}, -12, 12, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return sigmoid(v[0]); }, {x});
    // Exact where no transcendental rounding shows: exp(-1000) = 0, 0.5 at 0, 1 + exp(-40)
    // rounds to 1 in both precisions.
    Tensor ext = Tensor::from_vector<double>({-1000, 0, 40, 1000}, {4}).to(dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return sigmoid(v[0]); }, {ext}, {0.0, 0.0});
    // At -40 the result is exp(-40) itself: CUDA's expf is within 2 ulp and exp within 1 ulp of
    // glibc's, so the GPU may differ in the last bits (the emulator, on glibc, cannot show it).
    const double ulps = dt == DType::f32 ? 8 * 1.2e-7 : 8 * 2.3e-16;
    Tensor deep = Tensor::from_vector<double>({-40}, {1}).to(dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return sigmoid(v[0]); }, {deep}, {0.0, ulps});
  }
}
