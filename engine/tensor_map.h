// tensor_map.h — named tensors, the common currency of state_dicts, optimizers and checkpoints.
#pragma once
#include <map>
#include <string>

#include "engine/tensor.h"

namespace fcnlab {

// Dotted names ("conv1_1.weight", "fc6.bias") to tensors, sorted by name.
using TensorMap = std::map<std::string, Tensor>;

}  // namespace fcnlab
