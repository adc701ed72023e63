// nn/init.cpp — fills computed on the CPU in double, rounded once to the parameter's dtype,
// copied into the parameter in place.
#include "engine/nn/init.h"

#include <cmath>

namespace fcnlab::init {

namespace {

// Copies a CPU tensor of the same shape into t (any device/dtype), keeping t's identity.
Tensor& assign(Tensor& t, const Tensor& values) {
  t.copy_(values);
  return t;
}

void check_floating(const Tensor& t, const char* fn) {
  FCNLAB_CHECK(t.defined(), fn, ": undefined tensor");
  FCNLAB_CHECK(is_floating(t.dtype()), fn, ": expected a floating tensor, got ",
               dtype_name(t.dtype()));
}

double fan_of(const Tensor& t, FanMode mode, const char* fn) {
  check_floating(t, fn);
  auto [in, out] = fans(t.shape());
  int64_t f = mode == FanMode::fan_in ? in : out;
  FCNLAB_CHECK(f > 0, fn, ": fan of shape ", t.shape().str(), " is 0");
  return static_cast<double>(f);
}

}  // namespace

double calculate_gain(Nonlinearity nl, double negative_slope) {
  switch (nl) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid: return 1.0;
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::tanh: return 5.0 / 3.0;
    case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  }
  return 1.0;
}

std::pair<int64_t, int64_t> fans(const Shape& shape) {
  FCNLAB_CHECK(shape.ndim() >= 2, "init: fan_in/fan_out need a weight of at least 2 dimensions, "
               "got shape ", shape.str());
  int64_t receptive = 1;
  for (int i = 2; i < shape.ndim(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

namespace {
thread_local bool skip_random_init = false;
}
SkipRandomInit::SkipRandomInit() : previous_(skip_random_init) { skip_random_init = true; }
SkipRandomInit::~SkipRandomInit() { skip_random_init = previous_; }
bool SkipRandomInit::active() { return skip_random_init; }

Tensor& zeros_(Tensor& t) { return constant_(t, 0.0); }

Tensor& constant_(Tensor& t, double value) {
  FCNLAB_CHECK(t.defined(), "constant_: undefined tensor");
  t.fill_(value);
  return t;
}

Tensor& uniform_(Tensor& t, double lo, double hi, Generator& gen) {
  check_floating(t, "uniform_");
  FCNLAB_CHECK(lo <= hi, "uniform_: expected lo <= hi, got [", lo, ", ", hi, ")");
  if (SkipRandomInit::active()) return zeros_(t);
  return assign(t, Tensor::uniform(t.shape(), lo, hi, gen, t.dtype()));
}

Tensor& normal_(Tensor& t, double mean, double std, Generator& gen) {
  check_floating(t, "normal_");
  FCNLAB_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
  if (SkipRandomInit::active()) return zeros_(t);
  return assign(t, Tensor::normal(t.shape(), mean, std, gen, t.dtype()));
}

Tensor& kaiming_normal_(Tensor& t, Generator& gen, FanMode mode, Nonlinearity nl,
                        double negative_slope) {
  double fan = fan_of(t, mode, "kaiming_normal_");
  return normal_(t, 0.0, calculate_gain(nl, negative_slope) / std::sqrt(fan), gen);
}

Tensor& kaiming_uniform_(Tensor& t, Generator& gen, FanMode mode, Nonlinearity nl,
                         double negative_slope) {
  double fan = fan_of(t, mode, "kaiming_uniform_");
  double bound = calculate_gain(nl, negative_slope) * std::sqrt(3.0 / fan);
  return uniform_(t, -bound, bound, gen);
}

Tensor& xavier_uniform_(Tensor& t, Generator& gen, double gain) {
  double in = fan_of(t, FanMode::fan_in, "xavier_uniform_");
  double out = fan_of(t, FanMode::fan_out, "xavier_uniform_");
  double bound = gain * std::sqrt(6.0 / (in + out));
  return uniform_(t, -bound, bound, gen);
}

Tensor& xavier_normal_(Tensor& t, Generator& gen, double gain) {
  double in = fan_of(t, FanMode::fan_in, "xavier_normal_");
  double out = fan_of(t, FanMode::fan_out, "xavier_normal_");
  return normal_(t, 0.0, gain * std::sqrt(2.0 / (in + out)), gen);
}

std::vector<double> bilinear_filter_1d(int k) {
  FCNLAB_CHECK(k >= 1, "bilinear_filter_1d: kernel size must be >= 1, got ", k);
  const int factor = (k + 1) / 2;
  const double center = k % 2 == 1 ? factor - 1.0 : factor - 0.5;
  std::vector<double> f(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) f[static_cast<size_t>(i)] = 1.0 - std::fabs(i - center) / factor;
  return f;
}

Tensor& bilinear_upsample_(Tensor& t) {
  check_floating(t, "bilinear_upsample_");
  FCNLAB_CHECK(t.dim() == 4, "bilinear_upsample_: weight must be 4-d (C_in, C_out, k, k), got ",
               t.shape().str());
  const int64_t cin = t.size(0), cout = t.size(1), kh = t.size(2), kw = t.size(3);
  FCNLAB_CHECK(kh == kw, "bilinear_upsample_: kernel must be square, got ", kh, "x", kw);
  FCNLAB_CHECK(cin == cout || cout == 1, "bilinear_upsample_: needs C_in == C_out (class c -> "
               "class c) or C_out == 1 (depthwise), got weight ", t.shape().str());
  const std::vector<double> f = bilinear_filter_1d(static_cast<int>(kh));
  Tensor w = Tensor::zeros(t.shape(), DType::f64);
  double* p = w.data<double>();
  for (int64_t c = 0; c < cin; ++c) {
    const int64_t j = cout == 1 ? 0 : c;  // the diagonal entry (c, c), or (c, 0) depthwise
    double* k2 = p + (c * cout + j) * kh * kw;
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x) k2[y * kw + x] = f[static_cast<size_t>(y)] * f[static_cast<size_t>(x)];
  }
  return assign(t, w);
}

}  // namespace fcnlab::init
