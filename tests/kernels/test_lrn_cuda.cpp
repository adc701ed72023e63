// CUDA LRN across channels against the CPU: window at the channel edges, even and odd sizes.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

TEST_CASE("cuda lrn forward and backward match the CPU") {
  for (DType dt : {DType::f32, DType::f64})
    for (int size : {1, 3, 5, 4}) {
      Generator g(static_cast<uint64_t>(size));
      Tensor x = Tensor::uniform({2, 7, 3, 5}, -2, 2, g, dt).set_requires_grad();
      // A large alpha so the normalisation changes the values (CaffeNet's 1e-4 barely does).
      const LrnOptions o{size, 0.5, 0.75, 2.0};
      const double tol = dt == DType::f32 ? 1e-6 : 1e-13;
      CHECK_SAME_ON_DEVICES([o](auto& v) { return lrn(v[0], o); }, {x}, {tol, tol});
    }
}
