// CUDA dropout: the Philox mask is bit-identical to the CPU's (same seed and stream offset),
// for sizes that are not multiples of the 4-word Philox block and a nonzero stream base.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

TEST_CASE("cuda dropout: the same mask and scale as the CPU, forward and backward") {
  for (DType dt : {DType::f32, DType::f64})
    for (int64_t n : {1, 7, 301})
      for (double p : {0.0, 0.1, 0.5, 0.9, 1.0}) {
        Generator g0(static_cast<uint64_t>(n));
        Tensor x = Tensor::uniform({n, 2}, 0.5, 2, g0, dt).set_requires_grad();  // never 0: a 0 is a drop
        CHECK_SAME_ON_DEVICES(
            [p](auto& v) {
              Generator gen(1234);
              gen.reserve(3);  // a stream base that is not a multiple of 4
              return dropout(v[0], p, true, gen);
            },
            {x}, {0.0, 0.0});
      }
}

TEST_CASE("cuda dropout drops the same elements, element by element, on a larger tensor") {
  Tensor x = Tensor::ones({3, 5, 7, 11});
  Generator ga(77), gb(77);
  Tensor a = dropout(x, 0.3, true, ga);
  Tensor b = dropout(x.to(Device::cuda()), 0.3, true, gb).to(Device::cpu());
  CHECK_EXACT(b, a);
  const std::vector<double> va = a.to_vector();
  int64_t zeros = 0;
  for (double v : va) zeros += v == 0.0;
  CHECK(zeros > 0);
  CHECK(zeros < static_cast<int64_t>(va.size()));
}
