// checkpoint.h — fcnlab training checkpoints: model weights, optimizer state and free-form
// JSON metadata (epoch, step, config, metrics) in ONE safetensors file, so any safetensors
// tool can open it. Tensor names are "model/<name>" and "optim/<name>"; __metadata__ is
// {"format": "fcnlab-checkpoint", "version": "1", "meta": "<meta as JSON text>"}.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "engine/tensor_map.h"

namespace fcnlab {

struct Checkpoint {
  TensorMap model;      // parameters and buffers, by dotted name ("conv1_1.weight")
  TensorMap optimizer;  // optimizer state ("conv1_1.weight.momentum", "step", ...)
  nlohmann::json meta;  // anything JSON (null when absent)
};

inline constexpr const char* kCheckpointFormat = "fcnlab-checkpoint";
inline constexpr const char* kCheckpointVersion = "1";

// Writes atomically: an existing file at `path` is replaced only by a complete new one.
// CUDA tensors are copied to the host one at a time.
void save_checkpoint(const std::string& path, const Checkpoint& ck);

// Loads into CPU tensors. Throws fcnlab::Error naming the file if it is not a safetensors file,
// not an fcnlab checkpoint, of another version, or has a tensor outside model/ and optim/.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace fcnlab
