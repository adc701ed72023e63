// CUDA max pooling against the CPU reference: ceil mode, padding, overlapping windows, odd
// sizes, ties in small-integer data (first maximum wins), forward, argmax routing and backward.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

namespace {
// Integers in [-3, 3]: many ties inside a window, exact in any dtype.
Tensor small_ints(const Shape& s, uint64_t seed, DType dt) {
  Generator g(seed);
  std::vector<double> v(static_cast<size_t>(s.numel()));
  for (double& e : v) e = static_cast<double>(static_cast<int>(g.next_u32() % 7) - 3);
  return Tensor::from_vector<double>(v, s).to(dt);
}
}  // namespace

TEST_CASE("cuda max_pool2d matches the CPU exactly: ceil mode, padding, overlap, ties, N > 1") {
  const MaxPool2dOptions opts[] = {
      MaxPool2dOptions::make(2, 2, 0, true),   // FCN pools, odd sizes -> partial last window
      MaxPool2dOptions::make(3, 2, 1, true),   // overlapping windows, padding
      MaxPool2dOptions::make(3, 1, 1, false),  // every pixel in up to 9 windows
      {3, 2, 2, 3, 1, 0, false},               // anisotropic
  };
  for (DType dt : {DType::f32, DType::f64})
    for (const auto& o : opts) {
      Tensor x = small_ints({2, 3, 7, 9}, 5, dt).set_requires_grad();
      CHECK_SAME_ON_DEVICES([o](auto& v) { return max_pool2d(v[0], o); }, {x}, {0.0, 0.0});
    }
}

TEST_CASE("cuda max_pool2d on random data: 33 channels, 1x1 and 2x2 planes") {
  Generator g(11);
  Tensor x = Tensor::uniform({2, 33, 5, 6}, -1, 1, g).set_requires_grad();
  CHECK_SAME_ON_DEVICES([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions::make(2, 2, 0, true)); }, {x},
                        {0.0, 0.0});
  Tensor tiny = Tensor::uniform({1, 2, 1, 1}, -1, 1, g).set_requires_grad();
  CHECK_SAME_ON_DEVICES([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions::make(2, 2, 1, true)); }, {tiny},
                        {0.0, 0.0});
}
