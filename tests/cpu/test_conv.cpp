// Convolution family: conv2d and conv_transpose2d forward bit-exact against direct loops on
// small-integer data (random shapes, strides, paddings, dilations, groups), the data/weight/bias
// gradients exact against direct loops and by the gradient checker, the adjoint identity, the
// output-size formulas (incl. FCN's conv1_1), and the errors users meet.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "engine/ops.h"
#include "kernels/cpu/conv2d.h"
#include "tests/common/check.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {

// Integers in [lo, hi]: sums below stay far under 2^24, so f32 results are exact.
Tensor small_ints(const Shape& s, std::mt19937& rng, DType dt = DType::f32, int lo = -3, int hi = 3) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<double> v(static_cast<size_t>(s.numel()));
  for (auto& e : v) e = d(rng);
  return Tensor::from_vector(v, s).to(dt);
}

struct ConvCase {
  int64_t N, C, H, W, K, R, S;
  Conv2dOptions o;
  int64_t P() const { return conv_output_size(H, static_cast<int>(R), o.stride_h, o.pad_h, o.dilation_h); }
  int64_t Q() const { return conv_output_size(W, static_cast<int>(S), o.stride_w, o.pad_w, o.dilation_w); }
  Shape x() const { return {N, C, H, W}; }
  Shape w() const { return {K, C / o.groups, R, S}; }
  Shape y() const { return {N, K, P(), Q()}; }
};

std::string describe(const ConvCase& c) {
  return detail::concat("x [", c.N, ",", c.C, ",", c.H, ",", c.W, "] w [", c.K, ",", c.C / c.o.groups,
                        ",", c.R, ",", c.S, "] stride (", c.o.stride_h, ",", c.o.stride_w, ") pad (",
                        c.o.pad_h, ",", c.o.pad_w, ") dil (", c.o.dilation_h, ",", c.o.dilation_w,
                        ") groups ", c.o.groups);
}

// Random valid cases: odd sizes, channels not multiples of any tile, all options.
std::vector<ConvCase> random_cases(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<ConvCase> out;
  while (static_cast<int>(out.size()) < count) {
    const int groups = uni(1, 3);
    ConvCase c{uni(1, 2), groups * uni(1, 5), uni(1, 13), uni(1, 13), groups * uni(1, 7), uni(1, 4), uni(1, 4),
               {uni(1, 3), uni(1, 3), uni(0, 2), uni(0, 2), uni(1, 2), uni(1, 2), groups}};
    if (c.P() > 0 && c.Q() > 0) out.push_back(c);
  }
  return out;
}

// Fixed cases: the common 3x3 pad 1, 1x1 (no im2col), stride 2, and sizes large enough for
// several GEMM blocks and threads.
std::vector<ConvCase> fixed_cases() {
  return {{1, 3, 8, 8, 4, 3, 3, Conv2dOptions::make(1, 1)},
          {2, 16, 9, 7, 20, 1, 1, Conv2dOptions::make(1, 0)},
          {2, 8, 40, 37, 20, 3, 3, Conv2dOptions::make(1, 1)},
          {1, 6, 33, 35, 12, 3, 3, Conv2dOptions::make(2, 1, 1, 2)},
          {1, 4, 20, 20, 7, 5, 5, Conv2dOptions::make(1, 4, 2)},
          {1, 3, 31, 29, 8, 11, 11, Conv2dOptions::make(4, 100)},  // AlexNet conv1 style, pad 100
          {2, 64, 6, 6, 30, 3, 3, Conv2dOptions::make(1, 1)}};
}

// dx and dw by direct scatter loops (double accumulation): the references for the backward kernels.
void direct_backward(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx,
                     Tensor& dw) {
  const int64_t Cg = c.C / c.o.groups, Kg = c.K / c.o.groups, P = c.P(), Q = c.Q();
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), gv = dy.to_vector();
  std::vector<double> dxv(xv.size(), 0.0), dwv(wv.size(), 0.0);
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t k = 0; k < c.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          const double g = gv[static_cast<size_t>(((n * c.K + k) * P + p) * Q + q)];
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t r = 0; r < c.R; ++r)
              for (int64_t s = 0; s < c.S; ++s) {
                const int64_t ih = p * c.o.stride_h - c.o.pad_h + r * c.o.dilation_h;
                const int64_t iw = q * c.o.stride_w - c.o.pad_w + s * c.o.dilation_w;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const size_t xi = static_cast<size_t>(((n * c.C + (k / Kg) * Cg + ci) * c.H + ih) * c.W + iw);
                const size_t wi = static_cast<size_t>(((k * Cg + ci) * c.R + r) * c.S + s);
                dxv[xi] += g * wv[wi];
                dwv[wi] += g * xv[xi];
              }
        }
  dx = Tensor::from_vector(dxv, x.shape()).to(x.dtype());
  dw = Tensor::from_vector(dwv, w.shape()).to(w.dtype());
}

ConvTranspose2dOptions transpose_options(const ConvCase& c) {
  // output_padding makes conv_transpose2d's output exactly x's size again.
  const int oph = static_cast<int>(c.H - conv_transpose_output_size(c.P(), static_cast<int>(c.R), c.o.stride_h,
                                                                    c.o.pad_h, c.o.dilation_h, 0));
  const int opw = static_cast<int>(c.W - conv_transpose_output_size(c.Q(), static_cast<int>(c.S), c.o.stride_w,
                                                                    c.o.pad_w, c.o.dilation_w, 0));
  return {c.o.stride_h, c.o.stride_w, c.o.pad_h, c.o.pad_w, oph, opw, c.o.dilation_h, c.o.dilation_w, c.o.groups};
}

}  // namespace

TEST_CASE("conv2d forward is bit-exact against the direct loop (f32 and f64, random shapes)") {
  std::mt19937 rng(42);
  std::vector<ConvCase> cases = random_cases(60, 5);
  for (const ConvCase& c : fixed_cases()) cases.push_back(c);
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    for (DType dt : {DType::f32, DType::f64}) {
      Tensor x = small_ints(c.x(), rng, dt), w = small_ints(c.w(), rng, dt), b = small_ints({c.K}, rng, dt);
      Tensor ref = Tensor::empty(c.y(), dt);
      kernels::cpu::conv2d_forward_direct(x, w, b, ref, c.o);
      CHECK_EXACT(conv2d(x, w, b, c.o), ref);
      kernels::cpu::conv2d_forward_direct(x, w, Tensor(), ref, c.o);
      CHECK_EXACT(conv2d(x, w, Tensor(), c.o), ref);
    }
  }
}

TEST_CASE("conv2d forward: a hand-computed 3x3 case with padding and bias") {
  // x = 1..9 in a 3x3 image, w = all ones, pad 1: each output is the sum of its 3x3 neighbourhood.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::ones({1, 1, 3, 3});
  Tensor b = Tensor::from_vector<float>({100}, {1});
  Tensor y = conv2d(x, w, b, Conv2dOptions::make(1, 1));
  CHECK(y.to_vector() == std::vector<double>{112, 121, 116, 127, 145, 133, 124, 139, 128});
  Tensor y2 = conv2d(x, w, Tensor(), Conv2dOptions::make(2, 1));  // stride 2: the corners
  CHECK(y2.to_vector() == std::vector<double>{12, 16, 24, 28});
}

TEST_CASE("conv2d gradients for x, w, b are exact against direct loops (f32 and f64, chunked col)") {
  std::mt19937 rng(9);
  std::vector<ConvCase> cases = random_cases(30, 77);
  for (const ConvCase& c : fixed_cases()) cases.push_back(c);
  for (int budget : {0, 1}) {
    // budget 1: column chunks of a few hundred bytes, so im2col/col2im run on many pieces.
    const int64_t old = budget ? kernels::cpu::conv2d_set_col_budget_bytes(512) : 0;
    for (const ConvCase& c : cases) {
      INFO(describe(c));
      for (DType dt : {DType::f32, DType::f64}) {
        Tensor x = small_ints(c.x(), rng, dt).set_requires_grad();
        Tensor w = small_ints(c.w(), rng, dt).set_requires_grad();
        Tensor b = small_ints({c.K}, rng, dt).set_requires_grad();
        Tensor dy = small_ints(c.y(), rng, dt);
        conv2d(x, w, b, c.o).backward(dy);
        Tensor dx_ref, dw_ref;
        direct_backward(c, x, w, dy, dx_ref, dw_ref);
        CHECK_EXACT(x.grad(), dx_ref);
        CHECK_EXACT(w.grad(), dw_ref);
        Tensor db_ref = Tensor::zeros({c.K}, DType::f64);
        for (int64_t i = 0; i < dy.numel(); ++i) {
          const int64_t k = (i / (c.P() * c.Q())) % c.K;
          db_ref.set_flat(k, db_ref.flat(k) + dy.flat(i));
        }
        CHECK_EXACT(b.grad().to(DType::f64), db_ref);
      }
    }
    if (budget) kernels::cpu::conv2d_set_col_budget_bytes(old);
  }
}

TEST_CASE("gradcheck: conv2d (padding, stride 2, dilation 2, groups 2, 1x1, asymmetric)") {
  Generator g(5);
  const std::vector<ConvCase> cases = {
      {2, 3, 5, 5, 2, 3, 3, Conv2dOptions::make(1, 1)},
      {1, 4, 6, 5, 4, 3, 3, Conv2dOptions::make(2, 1, 1, 2)},
      {1, 2, 7, 7, 3, 3, 3, Conv2dOptions::make(1, 2, 2)},
      {2, 4, 3, 4, 6, 1, 1, Conv2dOptions::make(1, 0, 1, 2)},
      {1, 2, 6, 5, 2, 3, 2, Conv2dOptions{2, 1, 1, 0, 1, 2, 1}}};
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    Tensor x = test::rand_leaf(c.x(), g), w = test::rand_leaf(c.w(), g), b = test::rand_leaf({c.K}, g);
    const Conv2dOptions o = c.o;
    CHECK_GRADCHECK([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b});
  }
}

TEST_CASE("conv_transpose2d forward equals the direct scatter, and its gradcheck incl. output_padding") {
  std::mt19937 rng(3);
  std::vector<ConvCase> cases = random_cases(30, 123);
  for (const ConvCase& c : fixed_cases()) cases.push_back(c);
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    // conv_transpose2d(dy, w) with the conv's options is the conv's data gradient dx.
    Tensor x = small_ints(c.x(), rng), w = small_ints(c.w(), rng), dy = small_ints(c.y(), rng);
    Tensor dx_ref, dw_ref;
    direct_backward(c, x, w, dy, dx_ref, dw_ref);
    Tensor bias = small_ints({c.C}, rng);
    Tensor y = conv_transpose2d(dy, w, bias, transpose_options(c));
    kernels::cpu::add_channel_bias(dx_ref, bias);
    CHECK_EXACT(y, dx_ref);
  }
  Generator g(8);
  struct TCase { Shape x, w; ConvTranspose2dOptions o; };
  const std::vector<TCase> tcases = {
      {{1, 2, 3, 3}, {2, 3, 4, 4}, ConvTranspose2dOptions::make(2, 1)},       // FCN upscore2 style
      {{2, 4, 3, 2}, {4, 1, 3, 3}, ConvTranspose2dOptions::make(2, 1, 1, 2)},  // groups 2, output_padding 1
      {{1, 3, 4, 4}, {3, 2, 3, 3}, {1, 1, 1, 0, 0, 0, 2, 2, 1}},              // dilation 2
      {{1, 2, 3, 4}, {2, 2, 3, 2}, {3, 1, 0, 1, 2, 0, 1, 1, 1}}};             // asymmetric
  for (const TCase& t : tcases) {
    Tensor x = test::rand_leaf(t.x, g), w = test::rand_leaf(t.w, g);
    Tensor b = test::rand_leaf({t.w[1] * t.o.groups}, g);
    const ConvTranspose2dOptions o = t.o;
    CHECK_GRADCHECK([o](auto& v) { return conv_transpose2d(v[0], v[1], v[2], o); }, {x, w, b});
  }
}

TEST_CASE("adjoint identity: <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> in f64") {
  Generator g(21);
  std::vector<ConvCase> cases = random_cases(25, 999);
  cases.push_back({1, 4, 12, 12, 4, 4, 4, Conv2dOptions::make(2, 1)});
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    Tensor x = Tensor::uniform(c.x(), -1, 1, g, DType::f64), w = Tensor::uniform(c.w(), -1, 1, g, DType::f64);
    Tensor y = Tensor::uniform(c.y(), -1, 1, g, DType::f64);
    const Tensor ct = conv_transpose2d(y, w, Tensor(), transpose_options(c));
    REQUIRE(ct.shape() == x.shape());
    const double lhs = sum(mul(conv2d(x, w, Tensor(), c.o), y)).item();
    const double rhs = sum(mul(x, ct)).item();
    CHECK(std::fabs(lhs - rhs) <= 1e-12 * std::max(1.0, std::fabs(lhs)));
  }
}

TEST_CASE("output-size formulas, FCN's conv1_1 and upscore included") {
  CHECK(conv_output_size(500, 3, 1, 100, 1) == 698);  // FCN conv1_1: pad 100 on 500x500
  CHECK(conv_output_size(224, 3, 1, 1, 1) == 224);
  CHECK(conv_output_size(227, 11, 4, 0, 1) == 55);    // AlexNet conv1
  CHECK(conv_output_size(7, 3, 2, 0, 1) == 3);
  CHECK(conv_output_size(8, 3, 2, 0, 1) == 3);        // floor
  CHECK(conv_output_size(10, 3, 1, 0, 2) == 6);       // dilation 2: effective kernel 5
  CHECK(conv_output_size(2, 3, 1, 0, 1) == 0);        // does not fit
  CHECK(conv_transpose_output_size(16, 4, 2, 1, 1, 0) == 32);
  CHECK(conv_transpose_output_size(3, 3, 2, 1, 1, 1) == 6);
  CHECK(conv_transpose_output_size(16, 64, 32, 0, 1, 0) == 544);  // FCN-32s upscore
  Tensor x = Tensor::zeros({1, 2, 500, 500});
  Tensor w = Tensor::zeros({1, 2, 3, 3});
  CHECK(conv2d(x, w, Tensor(), Conv2dOptions::make(1, 100)).shape() == Shape{1, 1, 698, 698});
  Tensor s = Tensor::zeros({1, 3, 16, 16});
  CHECK(conv_transpose2d(s, Tensor::zeros({3, 3, 64, 64}), Tensor(), ConvTranspose2dOptions::make(32, 0)).shape() ==
        Shape{1, 3, 544, 544});
}

TEST_CASE("conv errors name what was expected") {
  Tensor x = Tensor::zeros({1, 4, 5, 5}), w = Tensor::zeros({6, 4, 3, 3});
  CHECK_THROWS_WITH_AS(conv2d(Tensor::zeros({4, 5, 5}), w, Tensor()), doctest::Contains("input x must be 4-d"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({6, 4, 3}), Tensor()), doctest::Contains("weight must be 4-d"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({6, 3, 3, 3}), Tensor()),
                       doctest::Contains("weight expects 3 input channels"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({6, 1, 3, 3}), Tensor(), Conv2dOptions::make(1, 0, 1, 3)),
                       doctest::Contains("groups (3) must divide the input channels (4)"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({5, 2, 3, 3}), Tensor(), Conv2dOptions::make(1, 0, 1, 2)),
                       doctest::Contains("must divide the output channels"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({6, 4, 7, 7}), Tensor()),
                       doctest::Contains("output size would be 0x0"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, Tensor::zeros({5})), doctest::Contains("bias must be 1-d of size 6"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, Tensor(), Conv2dOptions::make(0, 0)), doctest::Contains("stride must be >= 1"),
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w.to(DType::f64), Tensor()), doctest::Contains("dtypes differ"), Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(x, Tensor::zeros({3, 2, 3, 3}), Tensor()),
                       doctest::Contains("weight dim 0 (3) must equal the input channels (4)"), Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), ConvTranspose2dOptions::make(2, 0, 2)),
                       doctest::Contains("output_padding"), Error);
  CHECK_THROWS_WITH_AS(conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), ConvTranspose2dOptions::make(1, 4)),
                       doctest::Contains("must be positive"), Error);
}
