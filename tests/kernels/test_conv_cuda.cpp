// CUDA GEMM and convolution kernels (kernels/cuda/gemm.cu, conv2d.cu) against the CPU reference:
// bit-exact on small-integer data (every sum is exact in fp32, so any summation order must give
// the same bits), and through autograd (outputs and every gradient) on random data, f32 and f64.
// Shapes are tiny and odd (the simt emulator runs them), with strides, paddings, dilations,
// groups, batch > 1 and sizes that are not multiples of the 128 x 128 tile.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cuda/kernels.h"
#include "tests/common/device_check.h"

using namespace fcnlab;

namespace {

// Values in -3..3, so products and sums of a few hundred terms are exact in fp32.
Tensor small_ints(const Shape& shape, Generator& g, DType dt = DType::f32) {
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (double& e : v) e = static_cast<double>(static_cast<int>(g.next_u32() % 7) - 3);
  return Tensor::from_vector(v, shape).to(dt);
}

struct ConvCase {
  int n, c, h, w, k, r, s;
  Conv2dOptions o;
};

// Odd sizes, non-square everything, every option, channel counts off the tile.
const ConvCase kCases[] = {
    {1, 1, 5, 5, 1, 3, 3, Conv2dOptions::make(1, 1)},
    {2, 3, 7, 6, 5, 3, 3, Conv2dOptions::make(1, 1)},
    {2, 4, 9, 8, 6, 3, 2, {2, 1, 1, 0, 1, 1, 2}},   // stride 2x1, pad 1x0, groups 2
    {1, 6, 8, 7, 9, 3, 3, {1, 2, 2, 1, 2, 1, 3}},   // dilation 2x1, groups 3
    {3, 2, 5, 4, 3, 1, 1, Conv2dOptions::make(1, 0)},  // 1x1
    {1, 3, 11, 10, 4, 5, 5, {3, 2, 2, 1, 1, 1, 1}},  // large kernel, stride 3x2
    {1, 2, 4, 4, 130, 2, 2, Conv2dOptions::make(2, 1)},  // K > one 128-row tile
    {2, 1, 13, 12, 2, 3, 3, Conv2dOptions::make(1, 1)},  // N*P*Q = 312 > two column tiles
    // strided (backward data by phases): a 1x1 kernel leaves phases with no tap at all, an input
    // that is not a multiple of the stride leaves ragged phases, pad shifts the phase origins
    {1, 3, 9, 7, 2, 1, 1, Conv2dOptions::make(2, 0)},
    {2, 2, 11, 10, 3, 3, 3, {4, 3, 1, 2, 1, 1, 1}},   // stride 4x3 > kernel, pad 1x2
    {1, 4, 12, 12, 4, 8, 8, {4, 4, 2, 2, 1, 1, 2}},   // kernel 2x stride, pad, groups 2
};

Shape out_shape(const ConvCase& c) {
  return {c.n, c.k, conv_output_size(c.h, c.r, c.o.stride_h, c.o.pad_h, c.o.dilation_h),
          conv_output_size(c.w, c.s, c.o.stride_w, c.o.pad_w, c.o.dilation_w)};
}

Tensor on_cuda_empty(const Shape& s, DType dt) { return Tensor::empty(s, dt, Device::cuda()); }

}  // namespace

TEST_CASE("cuda conv2d forward and both gradients are bit-exact on small-integer data") {
  Generator g(11);
  for (const ConvCase& c : kCases) {
    CAPTURE(c.n); CAPTURE(c.c); CAPTURE(c.h); CAPTURE(c.w); CAPTURE(c.k); CAPTURE(c.r);
    CAPTURE(c.o.groups); CAPTURE(c.o.stride_h); CAPTURE(c.o.dilation_h);
    Tensor x = small_ints({c.n, c.c, c.h, c.w}, g);
    Tensor w = small_ints({c.k, c.c / c.o.groups, c.r, c.s}, g);
    Tensor b = small_ints({c.k}, g);
    const Shape ys = out_shape(c);
    Tensor dy = small_ints(ys, g);

    Tensor y_ref = Tensor::empty(ys), y = on_cuda_empty(ys, DType::f32);
    kernels::cpu::conv2d_forward_direct(x, w, b, y_ref, c.o);
    kernels::cuda::conv2d_forward(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()),
                                  y, c.o);
    CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);

    Tensor dx_ref = Tensor::empty(x.shape()), dx = on_cuda_empty(x.shape(), DType::f32);
    kernels::cpu::conv2d_backward_data(dy, w, dx_ref, c.o);
    kernels::cuda::conv2d_backward_data(dy.to(Device::cuda()), w.to(Device::cuda()), dx, c.o);
    CHECK_CLOSE(dx.to(Device::cpu()), dx_ref, 0.0, 0.0);

    Tensor dw_ref = Tensor::empty(w.shape()), dw = on_cuda_empty(w.shape(), DType::f32);
    kernels::cpu::conv2d_backward_weight(x, dy, dw_ref, c.o);
    kernels::cuda::conv2d_backward_weight(x.to(Device::cuda()), dy.to(Device::cuda()), dw, c.o);
    CHECK_CLOSE(dw.to(Device::cpu()), dw_ref, 0.0, 0.0);

    Tensor db_ref = Tensor::empty({c.k}), db = on_cuda_empty({c.k}, DType::f32);
    kernels::cpu::conv_bias_backward(dy, db_ref);
    kernels::cuda::conv_bias_backward(dy.to(Device::cuda()), db);
    CHECK_CLOSE(db.to(Device::cpu()), db_ref, 0.0, 0.0);
  }
}

TEST_CASE("cuda gemm is bit-exact on small-integer data for every transpose and beta") {
  Generator g(12);
  struct Dims { int64_t m, n, k; };
  for (Dims d : {Dims{1, 1, 1}, Dims{7, 5, 3}, Dims{33, 17, 29}, Dims{130, 9, 20}, Dims{3, 140, 41}}) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      for (double beta : {0.0, 1.0, -2.0}) {
        CAPTURE(d.m); CAPTURE(d.n); CAPTURE(d.k); CAPTURE(ta); CAPTURE(tb); CAPTURE(beta);
        Tensor a = small_ints(ta ? Shape{d.k, d.m} : Shape{d.m, d.k}, g);
        Tensor b = small_ints(tb ? Shape{d.n, d.k} : Shape{d.k, d.n}, g);
        Tensor c0 = small_ints({d.m, d.n}, g);
        Tensor c_ref = c0.clone(), c = c0.to(Device::cuda());
        kernels::cpu::gemm(a, ta, b, tb, beta, c_ref);
        kernels::cuda::gemm(a.to(Device::cuda()), ta, b.to(Device::cuda()), tb, beta, c);
        CHECK_CLOSE(c.to(Device::cpu()), c_ref, 0.0, 0.0);
      }
    }
  }
  // f64 takes the smaller 64 x 64 tile; beta = 0 must not read C (fresh memory, may be NaN).
  Tensor a = small_ints({70, 13}, g, DType::f64), b = small_ints({13, 66}, g, DType::f64);
  Tensor c_ref = Tensor::empty({70, 66}, DType::f64), c = on_cuda_empty({70, 66}, DType::f64);
  kernels::cpu::gemm(a, false, b, false, 0.0, c_ref);
  kernels::cuda::gemm(a.to(Device::cuda()), false, b.to(Device::cuda()), false, 0.0, c);
  CHECK_CLOSE(c.to(Device::cpu()), c_ref, 0.0, 0.0);
}

// conv2d through autograd on random data, cuda against the CPU (output and every gradient):
// every case in f32, every second one in f64.
template <size_t N>
void check_conv_autograd(const ConvCase (&cases)[N], uint64_t seed) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(seed);
    for (size_t i = 0; i < N; i += (dt == DType::f32 ? 1 : 2)) {
      const ConvCase& c = cases[i];
      CAPTURE(i); INFO(dtype_name(dt));
      Tensor x = Tensor::uniform({c.n, c.c, c.h, c.w}, -1, 1, g, dt).set_requires_grad();
      Tensor w = Tensor::uniform({c.k, c.c / c.o.groups, c.r, c.s}, -1, 1, g, dt).set_requires_grad();
      Tensor b = Tensor::uniform({c.k}, -1, 1, g, dt).set_requires_grad();
      const Conv2dOptions o = c.o;
      CHECK_SAME_ON_DEVICES([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b});
    }
  }
}

TEST_CASE("cuda conv2d through autograd matches the CPU: output and every gradient, f32 and f64") {
  check_conv_autograd(kCases, 13);
}

TEST_CASE("cuda conv_transpose2d (the conv adjoint) matches the CPU, with output_padding and FCN's upscore") {
  Generator g(14);
  // FCN's bilinear upscore: kernel 4, stride 2, no bias, on a tiny score map (exact on integers).
  {
    Tensor x = small_ints({1, 3, 3, 4}, g), w = small_ints({3, 3, 4, 4}, g);
    const auto o = ConvTranspose2dOptions::make(2, 0);
    Tensor y_ref = conv_transpose2d(x, w, Tensor(), o);
    Tensor y = conv_transpose2d(x.to(Device::cuda()), w.to(Device::cuda()), Tensor(), o);
    CHECK(y.shape() == Shape{1, 3, 8, 10});
    CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
  }
  struct TCase { int n, c, h, w, k, r; ConvTranspose2dOptions o; };
  const TCase cases[] = {
      {1, 3, 3, 3, 3, 4, ConvTranspose2dOptions::make(2, 0)},        // FCN upscore shape
      {2, 4, 3, 4, 6, 3, ConvTranspose2dOptions::make(2, 1, 1, 2)},  // output_padding, groups
      {1, 2, 4, 3, 3, 3, {3, 2, 1, 0, 2, 1, 1, 2, 1}},               // strides 3x2, dilation 1x2
      {1, 2, 2, 3, 2, 16, ConvTranspose2dOptions::make(8, 4)},       // FCN-8s upscore8 (16, 8), padded
      {2, 2, 3, 2, 2, 5, ConvTranspose2dOptions::make(3, 1, 2)},     // R not a multiple of the stride
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const TCase& c : cases) {
      CAPTURE(c.n); CAPTURE(c.c); CAPTURE(c.k); INFO(dtype_name(dt));
      Tensor x = Tensor::uniform({c.n, c.c, c.h, c.w}, -1, 1, g, dt).set_requires_grad();
      Tensor w = Tensor::uniform({c.c, c.k / c.o.groups, c.r, c.r}, -1, 1, g, dt).set_requires_grad();
      Tensor b = Tensor::uniform({c.k}, -1, 1, g, dt).set_requires_grad();
      const ConvTranspose2dOptions o = c.o;
      CHECK_SAME_ON_DEVICES([o](auto& v) { return conv_transpose2d(v[0], v[1], v[2], o); }, {x, w, b});
    }
  }
}

TEST_CASE("cuda linear and matmul run through the tiled gemm and match the CPU") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(15);
    Tensor x = Tensor::uniform({5, 37}, -1, 1, g, dt).set_requires_grad();
    Tensor w = Tensor::uniform({11, 37}, -1, 1, g, dt).set_requires_grad();
    Tensor b = Tensor::uniform({11}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b});
    Tensor m = Tensor::uniform({37, 9}, -1, 1, g, dt).set_requires_grad();
    CHECK_SAME_ON_DEVICES([](auto& v) { return matmul(v[0], v[1]); }, {x, m});
  }
  // add_channel_bias on a rank-4 tensor, exact on integers.
  Generator g(16);
  Tensor y = small_ints({2, 3, 4, 5}, g), bias = small_ints({3}, g);
  Tensor y_ref = y.clone(), yd = y.to(Device::cuda());
  kernels::cpu::add_channel_bias(y_ref, bias);
  kernels::cuda::add_channel_bias(yd, bias.to(Device::cuda()));
  CHECK_CLOSE(yd.to(Device::cpu()), y_ref, 0.0, 0.0);
}

// ---- the direct forward kernel (small reductions) beside the implicit GEMM

namespace {

// Force one kernel of a conv pass (or the Winograd pass size) for a scope (runtime.h ScopedSwitch).
struct ForwardPathScope : kernels::cuda::ScopedSwitch<kernels::cuda::ConvForwardPath> {
  explicit ForwardPathScope(kernels::cuda::ConvForwardPath p)
      : ScopedSwitch(kernels::cuda::conv_forward_path, kernels::cuda::set_conv_forward_path, p) {}
};
struct BackwardDataPathScope : kernels::cuda::ScopedSwitch<kernels::cuda::ConvBackwardDataPath> {
  explicit BackwardDataPathScope(kernels::cuda::ConvBackwardDataPath p)
      : ScopedSwitch(kernels::cuda::conv_backward_data_path, kernels::cuda::set_conv_backward_data_path, p) {}
};
struct BackwardWeightPathScope : kernels::cuda::ScopedSwitch<kernels::cuda::ConvBackwardWeightPath> {
  explicit BackwardWeightPathScope(kernels::cuda::ConvBackwardWeightPath p)
      : ScopedSwitch(kernels::cuda::conv_backward_weight_path, kernels::cuda::set_conv_backward_weight_path, p) {}
};
struct WinogradPassScope : kernels::cuda::ScopedSwitch<int64_t> {
  explicit WinogradPassScope(int64_t bytes)
      : ScopedSwitch(kernels::cuda::winograd_pass_bytes, kernels::cuda::set_winograd_pass_bytes, bytes) {}
};

// Shapes the direct kernel is for, and ones that stress its staging: conv1_1 on RGB and on a grey
// X-ray (pad past the image, several 16 x 16 patches, ragged last patch), score layers with 2 and 21
// classes (one and two filter chunks, a partial chunk), more channels than one stage holds (cb = 16,
// remainder), groups, stride, dilation, a 1 x 1 output.
const ConvCase kDirectCases[] = {
    {1, 3, 20, 19, 64, 3, 3, Conv2dOptions::make(1, 5)},            // conv1_1 (pad 100 at 500)
    {2, 1, 18, 17, 24, 3, 3, Conv2dOptions::make(1, 1)},            // grey input, 2 chunks of 16
    {1, 40, 17, 9, 2, 1, 1, Conv2dOptions::make(1, 0)},             // score layer: 3 stages of 16
    {2, 7, 5, 6, 21, 1, 1, Conv2dOptions::make(1, 0)},              // 21 classes: 16 + 5
    {1, 6, 11, 13, 6, 3, 3, {2, 1, 1, 1, 1, 1, 3}},                 // stride 2x1, groups 3
    {1, 2, 12, 12, 5, 3, 2, {1, 1, 2, 0, 2, 3, 1}},                 // dilation 2x3
    {3, 2, 3, 3, 4, 3, 3, Conv2dOptions::make(1, 0)},               // a 1 x 1 output
    {1, 2, 70, 9, 3, 3, 3, Conv2dOptions::make(1, 1)},              // 3 patches of 32 rows, ragged
};

}  // namespace

TEST_CASE("cuda conv2d forward: the direct kernel and the implicit GEMM are both bit-exact on small-integer data") {
  using kernels::cuda::ConvForwardPath;
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(21);
    std::vector<ConvCase> cases(std::begin(kDirectCases), std::end(kDirectCases));
    cases.insert(cases.end(), std::begin(kCases), std::end(kCases));
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      const ConvCase& c = cases[ci];
      const bool direct_case = ci < std::size(kDirectCases);
      CAPTURE(c.n); CAPTURE(c.c); CAPTURE(c.h); CAPTURE(c.w); CAPTURE(c.k); CAPTURE(c.r);
      CAPTURE(c.o.groups); CAPTURE(c.o.stride_h); CAPTURE(c.o.dilation_h); INFO(dtype_name(dt));
      Tensor x = small_ints({c.n, c.c, c.h, c.w}, g, dt);
      Tensor w = small_ints({c.k, c.c / c.o.groups, c.r, c.s}, g, dt);
      Tensor b = small_ints({c.k}, g, dt);
      const Shape ys = out_shape(c);
      Tensor y_ref = Tensor::empty(ys, dt);
      kernels::cpu::conv2d_forward_direct(x, w, b, y_ref, c.o);
      for (ConvForwardPath p : {ConvForwardPath::direct, ConvForwardPath::gemm}) {
        ForwardPathScope scope(p);
        // Of the general cases, a large stride can need more than one stage holds (f64 4x3):
        // the direct kernel refuses those by name; every direct case must run.
        if (p == ConvForwardPath::direct && !direct_case) {
          bool fits = true;
          try {
            kernels::cuda::conv2d_forward_path_for(x.shape(), w.shape(), c.o, dt);
          } catch (const Error& e) {
            CHECK(std::string(e.what()).find("direct kernel cannot stage") != std::string::npos);
            fits = false;
          }
          if (!fits) continue;
        }
        INFO(kernels::cuda::conv_forward_path_name(p));
        Tensor y = on_cuda_empty(ys, dt);  // fresh memory is NaN-poisoned under simt
        kernels::cuda::conv2d_forward(x.to(Device::cuda()), w.to(Device::cuda()),
                                      b.to(Device::cuda()), y, c.o);
        CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
        Tensor y_nobias = on_cuda_empty(ys, dt), y_nobias_ref = Tensor::empty(ys, dt);
        kernels::cpu::conv2d_forward_direct(x, w, Tensor(), y_nobias_ref, c.o);
        kernels::cuda::conv2d_forward(x.to(Device::cuda()), w.to(Device::cuda()), Tensor(),
                                      y_nobias, c.o);
        CHECK_CLOSE(y_nobias.to(Device::cpu()), y_nobias_ref, 0.0, 0.0);
      }
    }
  }
}

TEST_CASE("cuda conv2d through autograd with the direct forward matches the CPU, f32 and f64") {
  ForwardPathScope scope(kernels::cuda::ConvForwardPath::direct);
  check_conv_autograd(kDirectCases, 22);
}

TEST_CASE("cuda conv2d forward path: automatic routes small reductions to the direct kernel, forcing is checked") {
  using kernels::cuda::ConvForwardPath;
  const auto path = [](Shape x, Shape w, Conv2dOptions o, DType dt = DType::f32) {
    return kernels::cuda::conv2d_forward_path_for(x, w, o, dt);
  };
  const auto pad1 = Conv2dOptions::make(1, 1), plain = Conv2dOptions::make(1, 0);
  const Conv2dOptions alexnet_conv1 = Conv2dOptions::make(4, 0);
  {
    ForwardPathScope scope(ConvForwardPath::automatic);
    CHECK(path({1, 3, 500, 500}, {64, 3, 3, 3}, Conv2dOptions::make(1, 100)) == ConvForwardPath::direct);
    CHECK(path({1, 1, 512, 512}, {64, 1, 3, 3}, pad1) == ConvForwardPath::direct);     // grey X-ray
    CHECK(path({1, 64, 512, 512}, {2, 64, 1, 1}, plain) == ConvForwardPath::direct);   // U-Net score
    CHECK(path({1, 3, 500, 500}, {64, 3, 3, 3}, pad1, DType::f64) == ConvForwardPath::direct);
    CHECK(path({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvForwardPath::winograd);  // conv1_2
    CHECK(path({1, 256, 88, 88}, {2, 256, 1, 1}, plain) == ConvForwardPath::gemm);    // score_pool3
    CHECK(path({1, 3, 32, 32}, {128, 3, 3, 3}, pad1) == ConvForwardPath::gemm);       // Kg > 64
    CHECK(path({1, 1, 500, 500}, {96, 1, 11, 11}, alexnet_conv1) == ConvForwardPath::gemm);
  }
  {
    ForwardPathScope scope(ConvForwardPath::gemm);
    CHECK(path({1, 3, 500, 500}, {64, 3, 3, 3}, pad1) == ConvForwardPath::gemm);
  }
  {
    ForwardPathScope scope(ConvForwardPath::direct);
    CHECK(path({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvForwardPath::direct);
    // A 16 x 16 kernel at stride 8: one channel's stage is 136 x 136 inputs, past 48 KiB.
    CHECK_THROWS_WITH_AS(path({1, 1, 600, 600}, {8, 1, 16, 16}, Conv2dOptions::make(8, 0)),
                         doctest::Contains("direct kernel cannot stage a 16x16 kernel at stride 8x8"), Error);
  }
  CHECK(kernels::cuda::parse_conv_forward_path("auto") == ConvForwardPath::automatic);
  CHECK(kernels::cuda::parse_conv_forward_path("direct") == ConvForwardPath::direct);
  CHECK(kernels::cuda::parse_conv_forward_path("winograd") == ConvForwardPath::winograd);
  CHECK_THROWS_WITH_AS(kernels::cuda::parse_conv_forward_path("fft"),
                       doctest::Contains("FCNLAB_CONV_FORWARD 'fft': expected auto, gemm, direct or winograd"), Error);
}

// ---- Winograd F(2x2, 3x3) forward (conv2d_winograd.cuh) beside the reference

namespace {

// 3x3 at stride 1: pads 0, 1 and 2 (tile origins past the image), odd outputs (a ragged last
// row and column of 2x2 tiles), groups, more filters than one 128-row tile, more tiles than one
// 128-column tile, batch > 1, one output pixel.
const ConvCase kWinogradCases[] = {
    {1, 1, 5, 5, 1, 3, 3, Conv2dOptions::make(1, 1)},
    {2, 3, 7, 6, 5, 3, 3, Conv2dOptions::make(1, 1)},      // P x Q = 7 x 6: ragged rows
    {1, 4, 9, 8, 6, 3, 3, Conv2dOptions::make(1, 0)},      // 7 x 6, no pad
    {1, 6, 6, 7, 9, 3, 3, {1, 1, 2, 1, 1, 1, 3}},          // pad 2x1, groups 3
    {1, 3, 30, 21, 4, 3, 3, Conv2dOptions::make(1, 1)},    // 15 x 11 = 165 tiles
    {1, 2, 4, 4, 130, 3, 3, Conv2dOptions::make(1, 1)},    // K > one 128-row tile
    {3, 2, 3, 3, 3, 3, 3, Conv2dOptions::make(1, 0)},      // a 1 x 1 output
    {2, 10, 5, 7, 4, 3, 3, {1, 1, 1, 2, 1, 1, 2}},         // groups 2, pad 1x2
};

}  // namespace

namespace {

// body(case, dtype, generator) for every Winograd case in f32 and f64, the case captured.
template <class F>
void each_winograd_case(uint64_t seed, F body) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(seed);
    for (const ConvCase& c : kWinogradCases) {
      CAPTURE(c.n); CAPTURE(c.c); CAPTURE(c.h); CAPTURE(c.w); CAPTURE(c.k); CAPTURE(c.o.groups);
      CAPTURE(c.o.pad_h); CAPTURE(c.o.pad_w); INFO(dtype_name(dt));
      body(c, dt, g);
    }
  }
}

// body() with the whole batch in one Winograd pass, then with one image per pass (a pass smaller
// than an image still takes one image).
template <class F>
void in_one_pass_and_per_image(F body) {
  for (int64_t pass : {int64_t(1) << 30, int64_t(1)}) {
    INFO("pass bytes: " << pass);
    WinogradPassScope passes(pass);
    body();
  }
}

}  // namespace

TEST_CASE("cuda conv2d forward: Winograd F(2x2, 3x3) is bit-exact on small-integer data, in one pass and in passes of images") {
  using kernels::cuda::ConvForwardPath;
  ForwardPathScope scope(ConvForwardPath::winograd);
  each_winograd_case(31, [](const ConvCase& c, DType dt, Generator& g) {
    REQUIRE(kernels::cuda::conv2d_forward_path_for({c.n, c.c, c.h, c.w}, {c.k, c.c / c.o.groups, 3, 3}, c.o,
                                                   dt) == ConvForwardPath::winograd);
    Tensor x = small_ints({c.n, c.c, c.h, c.w}, g, dt);
    Tensor w = small_ints({c.k, c.c / c.o.groups, c.r, c.s}, g, dt);
    Tensor b = small_ints({c.k}, g, dt);
    const Shape ys = out_shape(c);
    for (bool with_bias : {true, false}) {
      INFO("bias: " << with_bias);
      Tensor y_ref = Tensor::empty(ys, dt);
      kernels::cpu::conv2d_forward_direct(x, w, with_bias ? b : Tensor(), y_ref, c.o);
      in_one_pass_and_per_image([&] {
        Tensor y = on_cuda_empty(ys, dt);  // fresh memory is NaN-poisoned under simt
        kernels::cuda::conv2d_forward(x.to(Device::cuda()), w.to(Device::cuda()),
                                      with_bias ? b.to(Device::cuda()) : Tensor(), y, c.o);
        CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
      });
    }
  });
}

TEST_CASE("cuda conv2d backward data: Winograd on the adjoint filters is bit-exact on small-integer data, in one pass and in passes of images") {
  using kernels::cuda::ConvBackwardDataPath;
  BackwardDataPathScope scope(ConvBackwardDataPath::winograd);
  each_winograd_case(33, [](const ConvCase& c, DType dt, Generator& g) {
    const Shape xs{c.n, c.c, c.h, c.w};
    Tensor w = small_ints({c.k, c.c / c.o.groups, c.r, c.s}, g, dt);
    REQUIRE(kernels::cuda::conv2d_backward_data_path_for(xs, w.shape(), c.o, dt) == ConvBackwardDataPath::winograd);
    Tensor dy = small_ints(out_shape(c), g, dt);
    Tensor dx_ref = Tensor::empty(xs, dt);
    kernels::cpu::conv2d_backward_data(dy, w, dx_ref, c.o);
    in_one_pass_and_per_image([&] {
      Tensor dx = on_cuda_empty(xs, dt);
      kernels::cuda::conv2d_backward_data(dy.to(Device::cuda()), w.to(Device::cuda()), dx, c.o);
      CHECK_CLOSE(dx.to(Device::cpu()), dx_ref, 0.0, 0.0);
    });
  });
}

TEST_CASE("cuda conv2d backward weight: Winograd F(3x3, 2x2) is bit-exact on small-integer data, in one pass and summed over passes of images") {
  using kernels::cuda::ConvBackwardWeightPath;
  BackwardWeightPathScope scope(ConvBackwardWeightPath::winograd);
  each_winograd_case(35, [](const ConvCase& c, DType dt, Generator& g) {
    Tensor x = small_ints({c.n, c.c, c.h, c.w}, g, dt);
    const Shape ws{c.k, c.c / c.o.groups, c.r, c.s};
    REQUIRE(kernels::cuda::conv2d_backward_weight_path_for(x.shape(), ws, c.o, dt) == ConvBackwardWeightPath::winograd);
    Tensor dy = small_ints(out_shape(c), g, dt);
    Tensor dw_ref = Tensor::empty(ws, dt);
    kernels::cpu::conv2d_backward_weight(x, dy, dw_ref, c.o);
    in_one_pass_and_per_image([&] {
      Tensor dw = on_cuda_empty(ws, dt);
      kernels::cuda::conv2d_backward_weight(x.to(Device::cuda()), dy.to(Device::cuda()), dw, c.o);
      CHECK_CLOSE(dw.to(Device::cpu()), dw_ref, 0.0, 0.0);
    });
  });
}

TEST_CASE("cuda conv2d through autograd with Winograd forward and both gradients matches the CPU, f32 and f64") {
  ForwardPathScope fwd(kernels::cuda::ConvForwardPath::winograd);
  BackwardDataPathScope bwd(kernels::cuda::ConvBackwardDataPath::winograd);
  BackwardWeightPathScope bww(kernels::cuda::ConvBackwardWeightPath::winograd);
  check_conv_autograd(kWinogradCases, 32);
}

TEST_CASE("cuda conv_transpose2d at stride 1 with a 3x3 kernel runs Winograd and matches the CPU") {
  BackwardDataPathScope bwd(kernels::cuda::ConvBackwardDataPath::winograd);
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(34);
    Tensor x = small_ints({2, 4, 5, 6}, g, dt), w = small_ints({4, 3, 3, 3}, g, dt), b = small_ints({3}, g, dt);
    for (int pad : {0, 1, 2}) {
      CAPTURE(pad); INFO(dtype_name(dt));
      const auto o = ConvTranspose2dOptions::make(1, pad);
      Tensor y_ref = conv_transpose2d(x, w, b, o);
      Tensor y = conv_transpose2d(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()), o);
      CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
    }
  }
}

TEST_CASE("cuda conv2d forward path: automatic routes wide 3x3 stride-1 f32 layers to Winograd, forcing is checked") {
  using kernels::cuda::ConvForwardPath;
  const auto path = [](Shape x, Shape w, Conv2dOptions o, DType dt = DType::f32) {
    return kernels::cuda::conv2d_forward_path_for(x, w, o, dt);
  };
  const auto pad1 = Conv2dOptions::make(1, 1);
  {
    ForwardPathScope scope(ConvForwardPath::automatic);
    // FCN-VGG16 at 500x500 (pad 100 on conv1_1): conv1_2 .. conv5_3, batch 1 and 8 (passes).
    CHECK(path({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvForwardPath::winograd);
    CHECK(path({8, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvForwardPath::winograd);
    CHECK(path({1, 64, 349, 349}, {128, 64, 3, 3}, pad1) == ConvForwardPath::winograd);
    CHECK(path({1, 512, 44, 44}, {512, 512, 3, 3}, pad1) == ConvForwardPath::winograd);
    // conv1_1 stays direct; f64, narrow layers, strides, dilation, 5x5 and 1x1 take the GEMM.
    CHECK(path({1, 3, 500, 500}, {64, 3, 3, 3}, Conv2dOptions::make(1, 100)) == ConvForwardPath::direct);
    CHECK(path({1, 64, 698, 698}, {64, 64, 3, 3}, pad1, DType::f64) == ConvForwardPath::gemm);
    CHECK(path({1, 32, 64, 64}, {64, 32, 3, 3}, pad1) == ConvForwardPath::gemm);
    CHECK(path({1, 64, 64, 64}, {32, 64, 3, 3}, pad1) == ConvForwardPath::gemm);
    CHECK(path({1, 64, 64, 64}, {64, 64, 3, 3}, Conv2dOptions::make(2, 1)) == ConvForwardPath::gemm);
    CHECK(path({1, 64, 64, 64}, {64, 64, 3, 3}, {1, 1, 2, 2, 2, 2, 1}) == ConvForwardPath::gemm);
    CHECK(path({1, 96, 27, 27}, {256, 48, 5, 5}, {1, 1, 2, 2, 1, 1, 2}) == ConvForwardPath::gemm);
    CHECK(path({1, 256, 88, 88}, {256, 256, 1, 1}, Conv2dOptions::make(1, 0)) == ConvForwardPath::gemm);
    // AlexNet's grouped 3x3 (conv4: 2 x 192 channels) qualifies per group.
    CHECK(path({1, 384, 13, 13}, {384, 192, 3, 3}, {1, 1, 1, 1, 1, 1, 2}) == ConvForwardPath::winograd);
    // One image whose workspace exceeds a pass: the GEMM (a 1024x1024 X-ray with pad 100).
    CHECK(path({1, 64, 1222, 1222}, {64, 64, 3, 3}, pad1) == ConvForwardPath::gemm);
  }
  {
    ForwardPathScope scope(ConvForwardPath::winograd);
    CHECK(path({1, 64, 1222, 1222}, {64, 64, 3, 3}, pad1) == ConvForwardPath::winograd);  // forced: passes of 1
    CHECK(path({1, 2, 8, 8}, {2, 2, 3, 3}, pad1, DType::f64) == ConvForwardPath::winograd);
    CHECK_THROWS_WITH_AS(path({1, 96, 27, 27}, {256, 96, 5, 5}, Conv2dOptions::make(1, 2)),
                         doctest::Contains("Winograd F(2x2, 3x3) needs a 3x3 kernel at stride 1 and dilation 1, got 5x5"),
                         Error);
    CHECK_THROWS_WITH_AS(path({1, 64, 64, 64}, {64, 64, 3, 3}, Conv2dOptions::make(2, 1)),
                         doctest::Contains("at stride 2x2"), Error);
  }
  // The data gradient: the same rule on the adjoint (dy's K channels in, C out), pad <= 2.
  using kernels::cuda::ConvBackwardDataPath;
  const auto bwd = [](Shape dx, Shape w, Conv2dOptions o, DType dt = DType::f32) {
    return kernels::cuda::conv2d_backward_data_path_for(dx, w, o, dt);
  };
  {
    BackwardDataPathScope scope(ConvBackwardDataPath::automatic);
    CHECK(bwd({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvBackwardDataPath::winograd);   // conv1_2
    CHECK(bwd({8, 512, 44, 44}, {512, 512, 3, 3}, pad1) == ConvBackwardDataPath::winograd);  // conv5_x
    CHECK(bwd({1, 64, 64, 64}, {64, 64, 3, 3}, pad1, DType::f64) == ConvBackwardDataPath::gemm);
    CHECK(bwd({1, 3, 500, 500}, {64, 3, 3, 3}, Conv2dOptions::make(1, 100)) == ConvBackwardDataPath::gemm);
    CHECK(bwd({1, 64, 64, 64}, {64, 64, 3, 3}, Conv2dOptions::make(1, 3)) == ConvBackwardDataPath::gemm);
    CHECK(bwd({1, 64, 64, 64}, {64, 64, 3, 3}, Conv2dOptions::make(2, 1)) == ConvBackwardDataPath::gemm);
    CHECK(bwd({1, 64, 64, 64}, {32, 64, 3, 3}, pad1) == ConvBackwardDataPath::gemm);
  }
  {
    BackwardDataPathScope scope(ConvBackwardDataPath::gemm);
    CHECK(bwd({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvBackwardDataPath::gemm);
  }
  {
    BackwardDataPathScope scope(ConvBackwardDataPath::winograd);
    CHECK_THROWS_WITH_AS(bwd({1, 8, 16, 16}, {8, 8, 3, 3}, Conv2dOptions::make(1, 3)),
                         doctest::Contains("backward data: Winograd F(2x2, 3x3) needs a 3x3 kernel at stride 1, dilation 1 and pad <= 2"),
                         Error);
  }
  // The weight gradient: the forward's rule, and Cg >= 128.
  using kernels::cuda::ConvBackwardWeightPath;
  const auto bww = [](Shape x, Shape w, Conv2dOptions o, DType dt = DType::f32) {
    return kernels::cuda::conv2d_backward_weight_path_for(x, w, o, dt);
  };
  {
    BackwardWeightPathScope scope(ConvBackwardWeightPath::automatic);
    CHECK(bww({8, 512, 44, 44}, {512, 512, 3, 3}, pad1) == ConvBackwardWeightPath::winograd);   // conv5_x
    CHECK(bww({1, 128, 175, 175}, {256, 128, 3, 3}, pad1) == ConvBackwardWeightPath::winograd); // conv3_1
    // Fewer than 128 input channels: the Kg x Cg GEMMs would fill half a tile (conv1_2, conv2_1).
    CHECK(bww({1, 64, 698, 698}, {64, 64, 3, 3}, pad1) == ConvBackwardWeightPath::gemm);
    CHECK(bww({1, 64, 349, 349}, {128, 64, 3, 3}, pad1) == ConvBackwardWeightPath::gemm);
    CHECK(bww({1, 3, 500, 500}, {64, 3, 3, 3}, Conv2dOptions::make(1, 100)) == ConvBackwardWeightPath::gemm);
    CHECK(bww({1, 64, 64, 64}, {64, 64, 3, 3}, pad1, DType::f64) == ConvBackwardWeightPath::gemm);
    CHECK(bww({1, 64, 64, 64}, {64, 64, 3, 3}, Conv2dOptions::make(2, 1)) == ConvBackwardWeightPath::gemm);
    CHECK(bww({1, 512, 22, 22}, {4096, 512, 7, 7}, Conv2dOptions::make(1, 0)) == ConvBackwardWeightPath::gemm);
  }
  {
    BackwardWeightPathScope scope(ConvBackwardWeightPath::winograd);
    CHECK(bww({1, 2, 8, 8}, {2, 2, 3, 3}, pad1, DType::f64) == ConvBackwardWeightPath::winograd);
    CHECK_THROWS_WITH_AS(bww({1, 8, 16, 16}, {8, 8, 3, 3}, {1, 1, 2, 2, 2, 2, 1}),
                         doctest::Contains("backward weight: Winograd F(3x3, 2x2) needs a 3x3 kernel at stride 1 and dilation 1"),
                         Error);
  }
  CHECK(kernels::cuda::parse_conv_backward_weight_path("gemm") == ConvBackwardWeightPath::gemm);
  CHECK_THROWS_WITH_AS(kernels::cuda::parse_conv_backward_weight_path("fft"),
                       doctest::Contains("FCNLAB_CONV_BACKWARD_WEIGHT 'fft': expected auto, gemm or winograd"), Error);
  CHECK(kernels::cuda::parse_conv_backward_data_path("winograd") == ConvBackwardDataPath::winograd);
  CHECK_THROWS_WITH_AS(kernels::cuda::parse_conv_backward_data_path("direct"),
                       doctest::Contains("FCNLAB_CONV_BACKWARD_DATA 'direct': expected auto, gemm or winograd"), Error);
}
