// nn/layers.cpp — layer construction (shape checks, parameter registration, default init)
// and forwards.
#include "engine/nn/layers.h"

#include "engine/nn/init.h"
#include "engine/ops/elementwise.h"

namespace fcnlab {

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in, int64_t out, int k, const Conv2dOptions& o, bool has_bias,
               Generator& gen)
    : in_channels(in), out_channels(out), kernel(k), options(o) {
  FCNLAB_CHECK(in > 0 && out > 0 && k > 0, "Conv2d: in_channels, out_channels and kernel must be "
               "> 0, got ", in, ", ", out, ", ", k);
  FCNLAB_CHECK(o.groups >= 1 && in % o.groups == 0 && out % o.groups == 0, "Conv2d: groups (",
               o.groups, ") must divide in_channels (", in, ") and out_channels (", out, ")");
  weight = register_parameter("weight", Tensor::zeros({out, in / o.groups, k, k}));
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator& gen) {
  init::kaiming_normal_(weight, gen, init::FanMode::fan_out, init::Nonlinearity::relu);
  if (bias.defined()) init::zeros_(bias);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options); }

// ---------------------------------------------------------------- ConvTranspose2d

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int k, const ConvTranspose2dOptions& o,
                                 bool has_bias, Generator& gen)
    : in_channels(in), out_channels(out), kernel(k), options(o) {
  FCNLAB_CHECK(in > 0 && out > 0 && k > 0, "ConvTranspose2d: in_channels, out_channels and "
               "kernel must be > 0, got ", in, ", ", out, ", ", k);
  FCNLAB_CHECK(o.groups >= 1 && in % o.groups == 0 && out % o.groups == 0, "ConvTranspose2d: "
               "groups (", o.groups, ") must divide in_channels (", in, ") and out_channels (",
               out, ")");
  weight = register_parameter("weight", Tensor::zeros({in, out / o.groups, k, k}));
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
  reset_parameters(gen);
}

std::shared_ptr<ConvTranspose2d> ConvTranspose2d::bilinear_upsampler(int64_t channels, int factor,
                                                                     bool fixed) {
  FCNLAB_CHECK(factor >= 1, "ConvTranspose2d::bilinear_upsampler: factor must be >= 1, got ",
               factor);
  Generator unused(0);  // the random init is replaced by the bilinear one
  auto up = std::make_shared<ConvTranspose2d>(channels, channels, 2 * factor,
                                              ConvTranspose2dOptions::make(factor, 0), false,
                                              unused);
  up->init_bilinear();
  up->set_fixed(fixed);
  return up;
}

void ConvTranspose2d::reset_parameters(Generator& gen) {
  init::kaiming_normal_(weight, gen, init::FanMode::fan_out, init::Nonlinearity::relu);
  if (bias.defined()) init::zeros_(bias);
}

ConvTranspose2d& ConvTranspose2d::init_bilinear() {
  const bool diagonal = in_channels == out_channels && options.groups == 1;
  const bool depthwise = options.groups == in_channels && in_channels == out_channels;
  FCNLAB_CHECK(diagonal || depthwise, "ConvTranspose2d::init_bilinear: needs in_channels == "
               "out_channels (got ", in_channels, " and ", out_channels, ") with groups 1 or "
               "groups == channels (got groups ", options.groups, ")");
  init::bilinear_upsample_(weight);
  if (bias.defined()) init::zeros_(bias);
  return *this;
}

ConvTranspose2d& ConvTranspose2d::set_fixed(bool fixed) {
  for (const char* name : {"weight", "bias"}) {
    if (!has_parameter(name)) continue;
    ParamInfo& p = param_info(name);
    p.tensor.set_requires_grad(!fixed);
    p.lr_mult = fixed ? 0.0 : 1.0;
  }
  return *this;
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, options);
}

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& gen)
    : in_features(in), out_features(out) {
  FCNLAB_CHECK(in > 0 && out > 0, "Linear: in_features and out_features must be > 0, got ", in,
               ", ", out);
  weight = register_parameter("weight", Tensor::zeros({out, in}));
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator& gen) {
  init::xavier_uniform_(weight, gen);
  if (bias.defined()) init::zeros_(bias);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

// ---------------------------------------------------------------- ReLU, Dropout

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Dropout::Dropout(double prob, uint64_t seed) : p(prob), gen_(seed) {
  FCNLAB_CHECK(prob >= 0 && prob <= 1, "Dropout: p must be in [0, 1], got ", prob);
}

}  // namespace fcnlab
