// nn/init.h — parameter initialisers. Every random one draws from a Generator (Philox), so an
// init is the same on every machine and device; values are generated on the CPU and copied
// into the tensor in place (the tensor keeps its identity, device and dtype). Not recorded.
//
// Fans follow the usual convention on the weight's shape: for a tensor of shape
// (d0, d1, k...), fan_in = d1 * prod(k), fan_out = d0 * prod(k). For Conv2d (K, C, R, S) that
// is C*R*S in / K*R*S out; for Linear (out, in) it is in / out.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace fcnlab::init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, relu, leaky_relu, tanh, sigmoid };

// Gain that keeps activations' variance: linear/sigmoid 1, relu sqrt(2), tanh 5/3,
// leaky_relu sqrt(2 / (1 + slope^2)).
double calculate_gain(Nonlinearity nl, double negative_slope = 0.01);
// (fan_in, fan_out) of a weight of this shape; needs at least 2 dimensions.
std::pair<int64_t, int64_t> fans(const Shape& shape);

// While one is alive on this thread, the random fills (uniform_, normal_ and the kaiming/xavier
// fills over them) write zeros and draw nothing. Building a model only to read its layer table,
// or to load weights into it at once, then skips seconds of sampling (VGG16: 134M values).
class SkipRandomInit {
 public:
  SkipRandomInit();
  ~SkipRandomInit();
  SkipRandomInit(const SkipRandomInit&) = delete;
  SkipRandomInit& operator=(const SkipRandomInit&) = delete;
  static bool active();

 private:
  bool previous_;
};

Tensor& zeros_(Tensor& t);
Tensor& constant_(Tensor& t, double value);
Tensor& uniform_(Tensor& t, double lo, double hi, Generator& gen);
Tensor& normal_(Tensor& t, double mean, double std, Generator& gen);

// He et al. 2015: std = gain / sqrt(fan); uniform bound = gain * sqrt(3 / fan).
Tensor& kaiming_normal_(Tensor& t, Generator& gen, FanMode mode = FanMode::fan_in,
                        Nonlinearity nl = Nonlinearity::relu, double negative_slope = 0.01);
Tensor& kaiming_uniform_(Tensor& t, Generator& gen, FanMode mode = FanMode::fan_in,
                         Nonlinearity nl = Nonlinearity::relu, double negative_slope = 0.01);
// Glorot & Bengio 2010: std = gain * sqrt(2 / (fan_in + fan_out)); bound = gain * sqrt(6 / (...)).
Tensor& xavier_uniform_(Tensor& t, Generator& gen, double gain = 1.0);
Tensor& xavier_normal_(Tensor& t, Generator& gen, double gain = 1.0);

// The 1-D bilinear interpolation kernel of FCN's surgery.upsample_filt: factor = (k+1)/2,
// center = factor-1 (k odd) or factor-0.5 (k even), f[i] = 1 - |i - center| / factor.
// k = 4 -> [0.25, 0.75, 0.75, 0.25].
std::vector<double> bilinear_filter_1d(int k);
// FCN's bilinear upsampling init of a transposed-convolution weight (C_in, C_out, k, k):
// w[i][i] = outer(f, f) for every channel i (class c upsamples into class c), zero elsewhere.
// Needs C_in == C_out (or C_out == 1: a depthwise weight, every channel gets the filter).
Tensor& bilinear_upsample_(Tensor& t);

}  // namespace fcnlab::init
