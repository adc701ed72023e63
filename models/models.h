// models.h — the model zoo by name: the FCNs of the paper on VGG16 (fcn32s, fcn16s, fcn8s,
// fcn8s-atonce), FCN-AlexNet on CaffeNet, FCN-GoogLeNet on the BVLC GoogLeNet main path, and a
// U-Net with a VGG16 encoder, each a GraphModel with the reference layer names.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/graph.h"

namespace fcnlab {

struct ModelOptions {
  int64_t classes = 2;        // 2 for pneumothorax, 21 for PASCAL VOC
  int64_t in_channels = 1;    // 1 for X-rays (pretrained conv1_1 summed over RGB), 3 for RGB
  double width = 1.0;         // channel multiplier: every layer's channels * width (>= 1 channel)
  bool freeze_backbone = false;  // backbone parameters start with requires_grad false
  bool dropout = true;        // the Dropout layers of fc6/fc7 (the deploy nets have none)
  uint64_t seed = 0;          // initialisation and dropout streams
  bool random_init = true;    // false: weights start at zero (layer tables, or weights loaded next)
};

// The names make_model accepts, in the order the help text lists them.
const std::vector<std::string>& model_names();
// Builds a model; an unknown name or an invalid option throws an Error listing what is valid.
std::shared_ptr<GraphModel> make_model(const std::string& name, const ModelOptions& o = {});
// A layer's channel count at a width multiplier: max(1, round(c * width)).
int64_t scaled_channels(int64_t c, double width);

}  // namespace fcnlab
