// pretrained.cpp — backbone weights by name or by torchvision VGG16 order (see pretrained.h).
#include "train/pretrained.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "engine/error.h"
#include "engine/serialize/checkpoint.h"
#include "engine/serialize/pth.h"
#include "engine/serialize/safetensors.h"

namespace fcnlab::train {

namespace {

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

TensorMap read_weights(const std::string& path) {
  FCNLAB_CHECK(std::filesystem::is_regular_file(path), "--pretrained '", path, "': no such file");
  if (ends_with(path, ".pth") || ends_with(path, ".pt")) return load_pth(path);
  FCNLAB_CHECK(ends_with(path, ".safetensors"), "--pretrained '", path,
               "': expected a .safetensors or .pth file");
  SafetensorsContents st = load_safetensors(path);
  // An fcnlab checkpoint keeps the weights under model/.
  TensorMap model;
  for (const auto& [name, t] : st.tensors)
    if (name.rfind("model/", 0) == 0) model[name.substr(6)] = t;
  return model.empty() ? st.tensors : model;
}

// src into dst's shape: equal shapes, a classifier matrix as a convolution (same numel), or
// RGB conv1_1 summed into a 1-channel one. Returns an undefined tensor when none fits.
Tensor fit(const Tensor& src, const Tensor& dst) {
  if (src.shape() == dst.shape()) return src.to(DType::f32);
  if (src.numel() == dst.numel()) return src.to(DType::f32).reshape(dst.shape().vec());
  if (src.dim() == 4 && dst.dim() == 4 && src.size(1) == 3 && dst.size(1) == 1 &&
      src.size(0) == dst.size(0) && src.size(2) == dst.size(2) && src.size(3) == dst.size(3)) {
    Tensor s = src.to(DType::f32);
    Tensor out = Tensor::zeros(dst.shape());
    const int64_t o = src.size(0), k = src.size(2) * src.size(3);
    for (int64_t i = 0; i < o; ++i)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t j = 0; j < k; ++j)
          out.data<float>()[i * k + j] += s.data<float>()[(i * 3 + c) * k + j];
    return out;
  }
  return Tensor();
}

}  // namespace

std::string load_pretrained_backbone(GraphModel& net, const std::string& path) {
  const TensorMap src = read_weights(path);
  const std::string file = std::filesystem::path(path).filename().string();
  // The backbone's parameter layers in graph order.
  std::vector<const Layer*> backbone;
  for (const auto& l : net.layers())
    if (l.backbone && (l.kind == LayerKind::conv || l.kind == LayerKind::deconv)) backbone.push_back(&l);
  FCNLAB_CHECK(!backbone.empty(), "--pretrained: ", net.type_name(), " has no backbone layers");

  // (destination parameter, source tensor) pairs, all checked before anything is copied.
  std::vector<std::pair<std::string, Tensor>> plan;
  std::string kind;
  auto add = [&](const std::string& dst_name, const std::string& src_name) {
    Tensor dst = net.parameter(dst_name);
    Tensor s = fit(src.at(src_name), dst);
    FCNLAB_CHECK(s.defined(), "--pretrained '", path, "': ", src_name, " ",
                 src.at(src_name).shape().str(), " does not fit ", dst_name, " ",
                 dst.shape().str(), " (pretrained weights fit --width 1 only)");
    plan.emplace_back(dst_name, s);
  };
  const bool by_name = src.count(backbone.front()->name + ".weight") > 0;
  if (by_name) {
    kind = "by layer name";
    for (const Layer* l : backbone)
      for (const char* p : {".weight", ".bias"}) {
        const std::string n = l->name + p;
        if (net.has_parameter(n)) {
          FCNLAB_CHECK(src.count(n), "--pretrained '", path, "': has no tensor ", n);
          add(n, n);
        }
      }
  } else if (src.count("features.0.weight")) {
    kind = "torchvision layout";
    std::map<int, std::string> features, classifier;  // index -> prefix, ordered
    for (const auto& [name, t] : src) {
      if (!ends_with(name, ".weight")) continue;
      const std::string stem = name.substr(0, name.size() - 7);
      if (stem.rfind("features.", 0) == 0) features[std::stoi(stem.substr(9))] = stem;
      if (stem.rfind("classifier.", 0) == 0) classifier[std::stoi(stem.substr(11))] = stem;
    }
    std::vector<std::string> order;
    for (const auto& [i, s] : features) order.push_back(s);
    for (const auto& [i, s] : classifier) order.push_back(s);
    FCNLAB_CHECK(order.size() >= backbone.size(), "--pretrained '", path, "': ", order.size(),
                 " weight layers for the ", backbone.size(), " backbone layers of ", net.type_name());
    for (size_t i = 0; i < backbone.size(); ++i) {
      add(backbone[i]->name + ".weight", order[i] + ".weight");
      if (net.has_parameter(backbone[i]->name + ".bias") && src.count(order[i] + ".bias"))
        add(backbone[i]->name + ".bias", order[i] + ".bias");
    }
  } else {
    FCNLAB_FAIL("--pretrained '", path, "': its tensor names (", src.begin()->first,
                ", ...) are neither this net's (", backbone.front()->name,
                ".weight) nor torchvision's (features.0.weight)");
  }
  for (auto& [name, t] : plan) net.parameter(name).copy_(t);
  return "pretrained: " + std::to_string(plan.size()) + " tensors from " + file + " (" + kind +
         ") into the " + std::to_string(backbone.size()) + " backbone layers";
}

}  // namespace fcnlab::train
