// nn/layers.h — the layers FCN is built from, each a Module over one op of engine/ops:
// Conv2d, ConvTranspose2d (with FCN's bilinear upsampling init and a `fixed` switch), Linear,
// MaxPool2d, ReLU, Dropout (owns its seeded Generator), LRN.
//
// Default initialisation (each layer's reset_parameters, from a Generator):
// - Conv2d: weight kaiming_normal_(fan_out, relu), bias 0 — torchvision's VGG init: every
//   conv in VGG/FCN feeds a ReLU, and fan_out keeps the backward signal's variance. Pretrained
//   imports overwrite it; FCN's score layers are zeroed by the model (paper §4.3).
// - ConvTranspose2d: the same rule on its weight tensor (C_in, C_out/groups, k, k); FCN's
//   upsampling layers call init_bilinear() (or use bilinear_upsampler()).
// - Linear: weight xavier_uniform_ (gain 1), bias 0 — it is used as a classifier head, which
//   is not followed by a ReLU.
// Parameters are f32 on the CPU at construction; Module::to moves or casts them.
#pragma once
#include <memory>

#include "engine/nn/module.h"
#include "engine/ops/conv.h"
#include "engine/ops/pool.h"
#include "engine/rng.h"

namespace fcnlab {

class Conv2d : public Module {
 public:
  // weight (out, in/groups, k, k), bias (out).
  Conv2d(int64_t in_channels, int64_t out_channels, int kernel, const Conv2dOptions& o = {},
         bool bias = true, Generator& gen = default_generator());
  std::string type_name() const override { return "Conv2d"; }
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) -> (N, out, P, Q)
  void reset_parameters(Generator& gen);

  int64_t in_channels, out_channels;
  int kernel;
  Conv2dOptions options;
  Tensor weight, bias;  // bias undefined when bias = false
};

class ConvTranspose2d : public Module {
 public:
  // weight (in, out/groups, k, k) — the Caffe/PyTorch layout — and bias (out).
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int kernel,
                  const ConvTranspose2dOptions& o = {}, bool bias = true,
                  Generator& gen = default_generator());
  // FCN's upsampling layer: kernel 2*factor, stride factor, no padding, no bias, bilinear
  // weights class c -> class c, fixed (upscore2: factor 2, upscore8: 8, upscore: 32).
  static std::shared_ptr<ConvTranspose2d> bilinear_upsampler(int64_t channels, int factor,
                                                             bool fixed = true);
  std::string type_name() const override { return "ConvTranspose2d"; }
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) -> (N, out, Ho, Wo)
  void reset_parameters(Generator& gen);
  // Weight = FCN's bilinear filter on the channel diagonal (init::bilinear_upsample_), bias 0.
  // Needs in == out and groups == 1, or a depthwise layer (groups == in == out).
  ConvTranspose2d& init_bilinear();
  // Fixed: requires_grad false and lr_mult 0 (Caffe's lr_mult 0); unfixing restores both to
  // trainable with lr_mult 1.
  ConvTranspose2d& set_fixed(bool fixed = true);
  bool fixed() const { return !weight.requires_grad(); }

  int64_t in_channels, out_channels;
  int kernel;
  ConvTranspose2dOptions options;
  Tensor weight, bias;
};

class Linear : public Module {
 public:
  // weight (out, in), bias (out).
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         Generator& gen = default_generator());
  std::string type_name() const override { return "Linear"; }
  Tensor forward(const Tensor& x) override;  // (N, in) -> (N, out)
  void reset_parameters(Generator& gen);

  int64_t in_features, out_features;
  Tensor weight, bias;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& o) : options(o) {}
  std::string type_name() const override { return "MaxPool2d"; }
  Tensor forward(const Tensor& x) override { return max_pool2d(x, options); }
  MaxPool2dOptions options;
};

class ReLU : public Module {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
};

// Inverted dropout in training, identity in eval. The mask comes from this layer's own
// Generator, so a run is reproducible from the seed whatever else draws random numbers.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, uint64_t seed = 0);
  std::string type_name() const override { return "Dropout"; }
  Tensor forward(const Tensor& x) override { return dropout(x, p, is_training(), gen_); }
  Generator& generator() { return gen_; }
  void seed(uint64_t s) { gen_.set_state(s, 0); }
  double p;

 private:
  Generator gen_;
};

class LRN : public Module {
 public:
  explicit LRN(const LrnOptions& o = {}) : options(o) {}
  std::string type_name() const override { return "LRN"; }
  Tensor forward(const Tensor& x) override { return lrn(x, options); }
  LrnOptions options;
};

}  // namespace fcnlab
