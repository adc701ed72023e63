// pretrained.h — --pretrained: backbone weights into a freshly built GraphModel.
// Accepted files:
//   - fcnlab names (an fcnlab-train checkpoint, or any .safetensors / .pth whose keys are the
//     net's own, "conv1_1.weight"): every backbone parameter is taken by name;
//   - torchvision VGG16 (vgg16-397923af.pth: features.{0,2,...,28}, classifier.{0,3,6}): the
//     13 convolutions and classifier.0 / classifier.3 go, in order, to the net's 15 backbone
//     convolutions (conv1_1 ... conv5_3, fc6, fc7), the classifiers reshaped to convolutions
//     (FCN's "convolutionalization"); classifier.6 (the 1000 ImageNet classes) is not used.
// A 1-channel net takes conv1_1 summed over RGB (a gray image fed to all three channels gives
// the same response). Shapes that do not fit (e.g. --width other than 1) are an error naming
// the layer and both shapes; nothing is loaded then.
#pragma once
#include <string>

#include "models/graph.h"

namespace fcnlab::train {

// Returns a one-line report ("pretrained: 30 tensors from vgg16-397923af.pth (torchvision VGG16)").
std::string load_pretrained_backbone(GraphModel& net, const std::string& path);

}  // namespace fcnlab::train
