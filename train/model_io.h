// model_io.h — segmentation-model checkpoints as fcnlab-train writes them and fcnlab-predict /
// fcnlab-evaluate read them, and the one function that turns a batch of images into
// foreground probabilities and image-level scores, so that training-time validation, evaluation
// and prediction compute exactly the same numbers.
//
// A model checkpoint is an engine checkpoint (engine/serialize/checkpoint.h, one safetensors
// file) whose tensors are
//   model/<name>        the GraphModel's state_dict ("model/conv1_1.weight", ...)
//   model/head.<name>   the optional ClassifierHead ("model/head.fc.weight", ...)
//   optim/<name>        optimizer state (training checkpoints; absent in weights-only files)
// and whose meta JSON holds
//   "model":     ModelMeta::to_json() — what is needed to rebuild the net and use it
//   "optimizer": Optimizer::state_json() (when an optimizer was saved)
//   anything the caller passes as `extra` (the trainer: epoch, config, metrics, RNG state).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/transforms.h"
#include "engine/device.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/serialize/checkpoint.h"
#include "models/models.h"
#include "train/classifier_head.h"

namespace fcnlab::train {

// Everything about a trained model that is not a tensor.
struct ModelMeta {
  std::string model;          // a make_model name: "fcn8s", "unet-vgg16", ...
  ModelOptions options;       // classes, in_channels, width, dropout, seed (freeze not stored)
  int size = 512;             // the square input side it was trained at (predict resizes to it)
  data::Normalization normalization = data::Normalization::imagenet();
  bool clahe = false;         // CLAHE before resizing (LoaderConfig::clahe*)
  double clahe_clip = 2.0;
  int clahe_tiles = 8;
  // Segmentation post-processing, tuned on validation: a pixel is foreground when its
  // probability is > threshold (train/metrics.h's rule); a prediction with fewer than min_area foreground pixels (at
  // `size`) is emptied, and the image is called has_pneumo when its prediction is not empty.
  double threshold = 0.5;
  int64_t min_area = 0;
  // Optional jointly trained classifier head reading layer head_layer; the image is positive by
  // the head when sigmoid(logit) > head_threshold.
  bool has_head = false;
  std::string head_layer;
  double head_threshold = 0.5;

  nlohmann::json to_json() const;
  // Reads the object written by to_json(); `where` (a file name) prefixes every error, which
  // names the missing or malformed field.
  static ModelMeta from_json(const nlohmann::json& j, const std::string& where);
  // "fcn8s width 0.0625 (2 classes, 1 input channel)"
  std::string describe() const;
};

// Throws an Error naming `path`, both models and what differs when `stored` (read from the
// checkpoint at `path`) cannot be loaded into a net built as `wanted` (name, classes,
// in_channels, width; and the head's presence when check_head).
void check_same_architecture(const ModelMeta& stored, const ModelMeta& wanted,
                             const std::string& path, bool check_head = false);

// Writes atomically (a temp file renamed over `path`). head and optimizer may be null; the
// head's presence must agree with meta.has_head.
void save_model_checkpoint(const std::string& path, const Module& net, const Module* head,
                           const Optimizer* optimizer, const ModelMeta& meta,
                           const nlohmann::json& extra = nlohmann::json::object());

// The ModelMeta stored in a loaded checkpoint (an Error naming `path` when there is none:
// e.g. an fcnlab-toy-train file, or a file written by something else).
ModelMeta checkpoint_model_meta(const Checkpoint& ck, const std::string& path);

// Strictly copies a loaded checkpoint's weights into an existing net (and head, when given):
// missing, unexpected or mis-shaped tensors throw one Error naming `path` and every key.
// Nothing is checked about names here: call check_same_architecture first for the clear
// "checkpoint from another model" message.
void load_model_weights(const Checkpoint& ck, const std::string& path, Module& net, Module* head);

// A model rebuilt from a checkpoint, ready for inference (eval mode, on `device`).
struct LoadedModel {
  std::shared_ptr<GraphModel> net;
  std::shared_ptr<ClassifierHead> head;  // null unless meta.has_head
  ModelMeta meta;
  nlohmann::json raw_meta;  // the checkpoint's whole meta JSON (epoch, config, metrics, ...)
};
// Reads `path`, rebuilds the model by name and options (make_model), loads strictly. Errors
// name the file: not a checkpoint, no model metadata, weights that do not fit.
LoadedModel load_model_checkpoint(const std::string& path, Device device = Device::cpu());

// The layer a ClassifierHead reads by default: the layer the coarse score layer reads (fc7's
// output for the FCNs), or the output layer's first input when the model has no score layer.
std::string default_head_layer(const GraphModel& net);
// Channels of layer `name`'s output (from the graph's geometry; nothing runs).
int64_t layer_channels(const GraphModel& net, const std::string& name, int size);

// Scores of one forward pass. Differentiable when autograd is on (the trainer's step uses it).
struct Forward {
  Tensor scores;       // (N, K, H, W) on the model's device
  Tensor head_logits;  // (N), undefined without a head
};
Forward forward_model(GraphModel& net, ClassifierHead* head, const std::string& head_layer,
                      const Tensor& images);

// One batch's predictions on the host, as everybody scores them:
//   prob[i*H*W + p]  foreground probability 1 - softmax(scores)[background] (K >= 2)
//   seg_score[i]     max over the pixels of prob (the image-level score from segmentation)
//   head_score[i]    sigmoid of the head's logit (empty without a head)
// hflip_tta: also run the horizontally flipped batch and average the probabilities (and the
// head's probabilities). Runs under NoGrad; the net's mode is left as the caller set it.
struct BatchPrediction {
  int64_t n = 0, h = 0, w = 0;
  std::vector<float> prob;
  std::vector<double> seg_score;
  std::vector<double> head_score;
  const float* image_prob(int64_t i) const { return prob.data() + i * h * w; }
};
BatchPrediction predict_batch(GraphModel& net, ClassifierHead* head, const std::string& head_layer,
                              const Tensor& images, bool hflip_tta = false);
// The same numbers from a forward pass already made (the trainer's validation also needs the
// scores for its loss). No TTA.
BatchPrediction prediction_from_forward(const Forward& f);
inline BatchPrediction predict_batch(LoadedModel& m, const Tensor& images, bool hflip_tta = false) {
  return predict_batch(*m.net, m.head.get(), m.meta.head_layer, images, hflip_tta);
}

}  // namespace fcnlab::train
