// The cuDNN/cuBLAS baseline (kernels/cudnn) against the CPU reference, through the engine with
// the kernel source switched to cudnn: conv2d, conv_transpose2d (cuDNN backward-data),
// softmax/log_softmax over channels and matmul (cuBLAS), forward and gradients. In builds without
// cuDNN (simt, or cuda without cuDNN) only the switch's refusal is checked.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "kernels/cuda/runtime.h"
#include "tests/common/device_check.h"

using namespace fcnlab;
namespace kc = fcnlab::kernels::cuda;

#if !defined(FCNLAB_WITH_CUDNN)

TEST_CASE("kernel source cudnn is refused by a build without cuDNN") {
  CHECK_THROWS_WITH_AS(kc::set_kernel_source(kc::KernelSource::cudnn),
                       doctest::Contains("no cuDNN baseline"), Error);
  CHECK(kc::kernel_source() == kc::KernelSource::hand);
  CHECK_THROWS_AS(kc::parse_kernel_source("cublas"), Error);
}

#else

namespace {
// Switches the CUDA path to the library for one test case.
struct UseCudnn {
  UseCudnn() { kc::set_kernel_source(kc::KernelSource::cudnn); }
  ~UseCudnn() { kc::set_kernel_source(kc::KernelSource::hand); }
};
// f64: cuDNN's double algorithms agree with the reference to rounding. f32: cuDNN may pick FFT or
// Winograd, whose transforms round differently from a direct sum, hence 1e-4 (inputs in [-1, 1]).
test::DeviceCheckOptions tol(DType dt) {
  test::DeviceCheckOptions o;
  o.atol = o.rtol = dt == DType::f64 ? 1e-10 : 1e-4;
  return o;
}
}  // namespace

TEST_CASE("cudnn conv2d forward and gradients match the CPU (strides, pads, groups, odd sizes)") {
  UseCudnn use;
  struct Case { int64_t N, C, H, W, K; int R, stride, pad, groups; };
  for (DType dt : {DType::f64, DType::f32}) {
    for (Case c : {Case{1, 3, 9, 7, 5, 3, 1, 1, 1}, Case{2, 4, 11, 10, 6, 3, 2, 0, 2},
                   Case{1, 5, 8, 8, 3, 1, 1, 0, 1}, Case{1, 2, 13, 13, 4, 7, 1, 3, 1}}) {
      CAPTURE(c.C); CAPTURE(c.R); CAPTURE(c.stride); CAPTURE(c.groups);
      Generator g(7);
      Tensor x = Tensor::uniform({c.N, c.C, c.H, c.W}, -1, 1, g, dt).set_requires_grad();
      Tensor w = Tensor::uniform({c.K, c.C / c.groups, c.R, c.R}, -1, 1, g, dt).set_requires_grad();
      Tensor b = Tensor::uniform({c.K}, -1, 1, g, dt);
      const Conv2dOptions o = Conv2dOptions::make(c.stride, c.pad, 1, c.groups);
      CHECK_SAME_ON_DEVICES([o](auto& v) { return conv2d(v[0], v[1], Tensor(), o); }, {x, w}, tol(dt));
      auto fwd_only = tol(dt);
      fwd_only.grads = false;  // the bias gradient is a hand kernel, not part of the baseline
      CHECK_SAME_ON_DEVICES([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b}, fwd_only);
    }
  }
}

TEST_CASE("cudnn conv_transpose2d (backward-data) matches the CPU, FCN upsampling shapes in small") {
  UseCudnn use;
  for (DType dt : {DType::f64, DType::f32}) {
    for (int stride : {2, 4}) {
      Generator g(11);
      Tensor x = Tensor::uniform({1, 3, 5, 4}, -1, 1, g, dt).set_requires_grad();
      Tensor w = Tensor::uniform({3, 3, 2 * stride, 2 * stride}, -1, 1, g, dt).set_requires_grad();
      const auto o = ConvTranspose2dOptions::make(stride, 0);
      CHECK_SAME_ON_DEVICES([o](auto& v) { return conv_transpose2d(v[0], v[1], Tensor(), o); }, {x, w}, tol(dt));
    }
  }
}

TEST_CASE("cudnn channel softmax and log_softmax match the CPU, gradients too") {
  UseCudnn use;
  for (DType dt : {DType::f64, DType::f32}) {
    Generator g(5);
    Tensor x = Tensor::uniform({2, 21, 5, 3}, -4, 4, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return softmax(v[0]); }, {x}, tol(dt));
    CHECK_SAME_ON_DEVICES([](auto& v) { return log_softmax(v[0]); }, {x}, tol(dt));
  }
}

TEST_CASE("cublas matmul matches the CPU (odd sizes), gradients use both transposes") {
  UseCudnn use;
  for (DType dt : {DType::f64, DType::f32}) {
    Generator g(9);
    Tensor a = Tensor::uniform({7, 13}, -1, 1, g, dt).set_requires_grad();
    Tensor b = Tensor::uniform({13, 5}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return matmul(v[0], v[1]); }, {a, b}, tol(dt));
  }
}

#endif
