// pretrained.h — ImageNet VGG16 weights into an fcnlab model's backbone (no Python at run time).
//
// Accepted state_dict namings (../shared/reference/fcn.md §4, weights.md §5.4):
//   torchvision  features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.{weight,bias},
//                classifier.0 [4096, 25088], classifier.3 [4096, 4096], classifier.6 [1000, 4096]
//   timm         the same features.*, pre_logits.fc1 [4096, 512, 7, 7], pre_logits.fc2
//                [4096, 4096, 1, 1], head.fc [1000, 4096]
// Mapping: the 13 convolutions -> conv1_1 ... conv5_3; classifier.0 / pre_logits.fc1 -> fc6 and
// classifier.3 / pre_logits.fc2 -> fc7, a Linear reshaped into the convolution it equals (the
// flatten order is C, H, W, so the reshape is exact); the 1000-way ImageNet classifier is
// dropped (reported as ignored). A model with one input channel gets conv1_1 folded for its
// grey input's normalisation (GreyInput below: the same response as the RGB filter to R = G = B
// under ImageNet's normalisation), or summed over RGB when no normalisation is given. Everything else stays as
// built: score layers zero, upsampling bilinear, U-Net's decoder as initialised. U-Net-VGG16
// has no fc6/fc7: those keys are reported as not used.
//
// Nothing is loaded unless everything fits: missing keys, unexpected keys, shape mismatches and
// tensors holding NaN/infinity are gathered and thrown as one Error that lists each by name.
#pragma once
#include <string>
#include <vector>

#include "engine/serialize/pth.h"
#include "engine/tensor_map.h"
#include "models/graph.h"

namespace fcnlab {

// What an import did, for the user to read (fcnlab-train / fcnlab-inspect print str()).
struct PretrainedReport {
  std::string source;                  // the file (or what the caller named the state dict)
  std::string naming;                  // "torchvision" or "timm"
  std::string file_check;              // SHA-256 verdict: "verified against ..." or a note
  std::vector<std::string> loaded;     // "features.0.weight -> conv1_1.weight"
  std::vector<std::string> converted;  // reshapes and the RGB sum, with both shapes
  std::vector<std::string> ignored;    // the ImageNet classifier's keys
  std::vector<std::string> not_used;   // fc6/fc7 keys for a model without fc6/fc7 (U-Net)
  std::vector<std::string> kept;       // model parameters left as built (score, upscore, ...)
  // A few lines: naming, counts, conversions, ignored / not used keys, the file check.
  std::string str() const;
};

// One VGG16 convolution or fc layer and its names in the three conventions.
struct Vgg16Key {
  const char* fcnlab;       // "conv1_1", ..., "fc6", "fc7"
  const char* torchvision;  // "features.0", ..., "classifier.0", "classifier.3"
  const char* timm;         // "features.0", ..., "pre_logits.fc1", "pre_logits.fc2"
};
// The 15 layers in network order (13 convolutions, fc6, fc7).
const std::vector<Vgg16Key>& vgg16_keys();

// The models pretrained import serves: "fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce", "unet-vgg16".
const std::vector<std::string>& pretrained_model_names();

// How a one-channel model's input is normalised: x = (g - mean) / std for a grey pixel g in
// [0, 1]. With it, conv1_1 is folded exactly instead of summed: the torchvision/timm VGG16 expects
// each RGB channel normalised by ImageNet's statistics (mean m_c, std s_c), so for R = G = B = g
// its response is sum_c w_c (g - m_c) / s_c = [sum_c w_c std / s_c] x + sum_c w_c (mean - m_c) / s_c:
// weights scaled per channel before the sum, and a bias shift. Exact wherever the filter lies on
// the image (in the zero padding the two nets see different pixel values anyway).
struct GreyInput {
  float mean = 0.449f, std = 0.226f;  // fcnlab-train's normalisation of X-rays
};
// ImageNet's per-channel statistics, which the pretrained VGG16 files were trained with.
inline constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};

// Maps `state` onto the tensors of `target` (a model's state_dict: names and shapes) and returns
// the converted tensors under fcnlab names, ready for load_state_dict. Checks shapes against
// target only, so it works at any width (tests use tiny models). Throws one Error listing
// every missing / unexpected / mis-shaped key; `source` names the state dict in messages.
// A one-channel target gets conv1_1 folded for `grey` when given, else summed over RGB (the
// same response only if the input normalisation is the same for the three channels).
TensorMap map_vgg16_state_dict(const TensorMap& state, const TensorMap& target,
                               const std::string& source, PretrainedReport* report,
                               const GreyInput* grey = nullptr);

// Loads `state` into model's backbone. The model must be a VGG16 model (pretrained_model_names;
// FCN-AlexNet and FCN-GoogLeNet are an error saying why) built at width 1.
PretrainedReport load_vgg16_pretrained(GraphModel& model, const TensorMap& state,
                                       const std::string& source = "<state dict>",
                                       const GreyInput* grey = nullptr);

// Pretrained files whose SHA-256 is recorded (weights/README.md): vgg16-397923af.pth and
// vgg16.tv_in1k.safetensors (the name weights/fetch.sh gives timm's model.safetensors).
const std::vector<KnownWeightFile>& known_pretrained_files();

// Reads `path` by extension (.pth / .pt / .bin: PyTorch zip or legacy stream, told apart by
// the first bytes; .safetensors), checks a known file name against its SHA-256 (a known
// name with another hash or size is an Error; an unknown name is loaded with a note in
// file_check), then load_vgg16_pretrained.
PretrainedReport load_pretrained_file(GraphModel& model, const std::string& path,
                                      const GreyInput* grey = nullptr);

// The state dict a pretrained file holds (the reading and file check of load_pretrained_file).
TensorMap read_pretrained_file(const std::string& path, std::string* file_check = nullptr);

}  // namespace fcnlab
