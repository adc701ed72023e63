// models.cpp — the registry of models.h and the pieces the definitions share.
#include "models/models.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/error.h"
#include "engine/nn/init.h"
#include "models/builders.h"

namespace fcnlab {

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"fcn32s",      "fcn16s",        "fcn8s",
                                                 "fcn8s-atonce", "fcn-alexnet", "fcn-googlenet",
                                                 "unet-vgg16"};
  return names;
}

int64_t scaled_channels(int64_t c, double width) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(c) * width));
}

std::shared_ptr<GraphModel> make_model(const std::string& name, const ModelOptions& o) {
  FCNLAB_CHECK(o.classes >= 1, "model '", name, "': classes must be >= 1, got ", o.classes);
  FCNLAB_CHECK(o.in_channels >= 1, "model '", name, "': input channels must be >= 1, got ",
               o.in_channels);
  FCNLAB_CHECK(std::isfinite(o.width) && o.width > 0 && o.width <= 4, "model '", name,
               "': width must be in (0, 4], got ", o.width);
  std::optional<init::SkipRandomInit> skip;
  if (!o.random_init) skip.emplace();
  std::shared_ptr<GraphModel> g;
  if (name == "fcn32s" || name == "fcn16s" || name == "fcn8s" || name == "fcn8s-atonce")
    g = models::build_fcn_vgg16(name, o);
  else if (name == "fcn-alexnet")
    g = models::build_fcn_alexnet(o);
  else if (name == "fcn-googlenet")
    g = models::build_fcn_googlenet(o);
  else if (name == "unet-vgg16")
    g = models::build_unet_vgg16(o);
  else {
    std::string known;
    for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    FCNLAB_FAIL("unknown model '", name, "'; known models: ", known);
  }
  if (o.freeze_backbone) g->freeze_backbone(true);
  return g;
}

namespace models {

std::string conv_relu(GraphModel& g, const std::string& name, const std::string& relu_name,
                      const std::string& input, int64_t out, int kernel, const Conv2dOptions& o,
                      Generator& gen) {
  g.conv(name, input, out, kernel, o, true, gen);
  return g.relu(relu_name, name);
}

std::string score_layer(GraphModel& g, const std::string& name, const std::string& input,
                        int64_t classes, Generator& gen) {
  g.conv(name, input, classes, 1, Conv2dOptions{}, true, gen);
  g.parameter(name + ".weight").zero_();
  g.parameter(name + ".bias").zero_();
  return name;
}

std::string upsample(GraphModel& g, const std::string& name, const std::string& input,
                     int64_t classes, int kernel, int stride) {
  auto up = std::make_shared<ConvTranspose2d>(classes, classes, kernel,
                                              ConvTranspose2dOptions::make(stride, 0), false);
  up->init_bilinear().set_fixed(true);
  return g.deconv(name, input, up);
}

}  // namespace models
}  // namespace fcnlab
