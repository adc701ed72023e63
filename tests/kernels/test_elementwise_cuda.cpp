// CUDA elementwise kernels and reductions against the CPU reference.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "kernels/cuda/runtime.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

TEST_CASE("cuda elementwise ops match the CPU (f32 and f64, odd sizes)") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t n : {1, 31, 257, 1000}) {
      Generator g(static_cast<uint64_t>(n));
      Tensor a = Tensor::uniform({n}, -2, 2, g, dt).set_requires_grad();
      Tensor b = Tensor::uniform({n}, -2, 2, g, dt).set_requires_grad();
      CHECK_SAME_ON_DEVICES([](auto& v) { return add(v[0], v[1]); }, {a, b});
      CHECK_SAME_ON_DEVICES([](auto& v) { return sub(v[0], v[1]); }, {a, b});
      CHECK_SAME_ON_DEVICES([](auto& v) { return mul(v[0], v[1]); }, {a, b});
      CHECK_SAME_ON_DEVICES([](auto& v) { return relu(scale(v[0], 1.5)); }, {a});
      CHECK_SAME_ON_DEVICES([](auto& v) { return add_scalar(v[0], 0.25); }, {a});
    }
  }
}

TEST_CASE("cuda reductions: sum, mean, sum of squares on small-integer data are exact") {
  for (int64_t n : {1, 33, 1024, 5000}) {
    Tensor x = Tensor::arange(n, DType::f32);
    x = add_scalar(x, -static_cast<double>(n / 2)).detach().set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return sum(v[0]); }, {x}, {0.0, 0.0});
    CHECK_SAME_ON_DEVICES([](auto& v) { return mean(v[0]); }, {x});
    CHECK(sum_of_squares(x.to(Device::cuda())) == sum_of_squares(x));
  }
}

TEST_CASE("cuda tensors round-trip through host copies and the caching allocator reuses blocks") {
  Generator g(3);
  Tensor h = Tensor::uniform({3, 1000}, -1, 1, g);
  Tensor d = h.to(Device::cuda());
  CHECK(d.device().is_cuda());
  CHECK_EXACT(d.to(Device::cpu()), h);
  Tensor d2 = d.clone();  // device to device
  CHECK_EXACT(d2.to(Device::cpu()), h);
  auto before = kernels::cuda::allocator_stats();
  for (int i = 0; i < 10; ++i) Tensor t = Tensor::empty({3, 1000}, DType::f32, Device::cuda());
  auto after = kernels::cuda::allocator_stats();
  CHECK(after.cuda_malloc_calls <= before.cuda_malloc_calls + 1);
  CHECK_THROWS_WITH_AS(kernels::cuda::parse_kernel_source("fast"), doctest::Contains("expected hand or cudnn"), Error);
}
