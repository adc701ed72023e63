// Every model of the zoo on the CUDA backend against the CPU: the output and every parameter's
// gradient of a tiny-width model (random weights everywhere, so no layer hides behind a zero
// score layer). Under simt this runs the hand kernels of conv, grouped conv, transposed conv,
// pooling, LRN, crop, concat and sum in the compositions the FCNs use.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "models/models.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {

// Random weights of a sensible scale (1/sqrt(fan_in)), the same for every call with a seed;
// fixed upsampling keeps its bilinear filter.
void randomize(GraphModel& g, uint64_t seed) {
  Generator gen(seed);
  for (auto& p : g.named_parameters()) {
    if (!p.tensor.requires_grad()) continue;
    const auto& s = p.tensor.shape();
    const double fan = s.ndim() >= 2 ? static_cast<double>(p.tensor.numel() / s[0]) : 1.0;
    p.tensor.copy_(Tensor::normal(s, 0, 1 / std::sqrt(fan), gen));
  }
}

}  // namespace

TEST_CASE("every model gives the same scores and parameter gradients on cuda as on the CPU") {
  // fcn8s-atonce holds every layer kind of fcn32s/16s/8s (plus the skip scales), so the other
  // three VGG16 FCNs would only repeat its kernels at the emulator's cost.
  for (const std::string name : {"fcn8s-atonce", "fcn-alexnet", "fcn-googlenet", "unet-vgg16"}) {
    INFO(name);
    const ModelOptions o{.classes = 2, .in_channels = 1, .width = 0.0625, .dropout = false, .seed = 5};
    auto cpu = make_model(name, o), dev = make_model(name, o);
    randomize(*cpu, 11);
    randomize(*dev, 11);
    dev->to(Device::cuda());
    Generator gen(2);
    // GoogLeNet's four 3x3 stride-2 pools need 48 pixels; the others run smaller.
    const int64_t h = name == "fcn-googlenet" ? 48 : 36;
    Tensor x = Tensor::normal({1, 1, h, h + 3}, 0, 1, gen);
    Tensor y_cpu = cpu->forward(x), y_dev = dev->forward(x.to(Device::cuda()));
    CHECK(y_dev.device() == Device::cuda());
    CHECK_CLOSE(y_dev.to(Device::cpu()), y_cpu, 1e-4, 1e-4);
    Tensor r = Tensor::uniform(y_cpu.shape(), -1, 1, gen);
    sum(mul(y_cpu, r)).backward();
    sum(mul(y_dev, r.to(Device::cuda()))).backward();
    for (const auto& p : cpu->named_parameters()) {
      if (!p.tensor.requires_grad()) continue;
      INFO(p.name);
      Tensor gd = dev->parameter(p.name).grad();
      REQUIRE(gd.defined());
      CHECK_CLOSE(gd.to(Device::cpu()), p.tensor.grad(), 1e-3, 1e-3);
    }
  }
}
