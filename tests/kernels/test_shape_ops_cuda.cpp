// CUDA concat/split along channels and Caffe crop against the CPU: exact copies, gradients too.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

TEST_CASE("cuda concat_channels and its split backward match the CPU exactly") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(3);
    Tensor a = Tensor::uniform({2, 1, 3, 5}, -1, 1, g, dt).set_requires_grad();
    Tensor b = Tensor::uniform({2, 2, 3, 5}, -1, 1, g, dt).set_requires_grad();
    Tensor c = Tensor::uniform({2, 5, 3, 5}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return concat_channels({v[0], v[1], v[2]}); }, {a, b, c}, {0.0, 0.0});
  }
}

TEST_CASE("cuda crop forward and backward match the CPU exactly (odd offsets and sizes)") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(4);
    Tensor x = Tensor::uniform({2, 3, 9, 11}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return crop(v[0], 1, 3, 5, 7); }, {x}, {0.0, 0.0});
    CHECK_SAME_ON_DEVICES([](auto& v) { return crop(v[0], 0, 0, 9, 11); }, {x}, {0.0, 0.0});
    CHECK_SAME_ON_DEVICES([](auto& v) { return crop(v[0], 8, 10, 1, 1); }, {x}, {0.0, 0.0});
  }
}
