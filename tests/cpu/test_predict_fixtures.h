// test_predict_fixtures.h — what the predict and evaluate tests share: a tiny FCN-8s checkpoint
// (width 1/16, untrained: these tests check the programs' plumbing and files; test_metrics*.cpp
// checks the numbers on hand-derived cases), a threshold that splits its output, file helpers.
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/transforms.h"
#include "engine/rng.h"
#include "models/models.h"
#include "train/inference.h"
#include "train/model_io.h"

namespace fcnlab::test {

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(slurp(path));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// What fcnlab-train would store for a tiny one-channel FCN-8s at side `size`.
inline train::ModelMeta tiny_meta(int size, uint64_t seed) {
  train::ModelMeta m;
  m.model = "fcn8s";
  m.options.classes = 2;
  m.options.in_channels = 1;
  m.options.width = 1.0 / 16;
  m.options.seed = seed;
  m.size = size;
  m.normalization = data::Normalization::dataset(0.5f, 0.25f, 1);
  return m;
}

// The net a tiny checkpoint holds. FCN score layers start at zero (the paper's
// initialisation), which would make every probability exactly 0.5; they get seeded noise so that
// the output varies over the image like a trained net's.
inline std::shared_ptr<GraphModel> tiny_net(const train::ModelMeta& meta) {
  auto net = make_model(meta.model, meta.options);
  Generator gen(meta.options.seed * 7919 + 17);
  for (Tensor p : net->parameters()) {
    float* v = p.data<float>();
    bool zero = true;
    for (int64_t i = 0; i < p.numel() && zero; ++i) zero = v[i] == 0.0f;
    if (!zero) continue;
    Tensor noise = Tensor::normal(p.shape(), 0.0, 0.5, gen);
    std::copy(noise.data<float>(), noise.data<float>() + p.numel(), v);
  }
  return net;
}

// The median foreground probability the (untrained) net gives on `images`, so that a
// checkpoint thresholded there predicts a non-trivial mask on them.
inline double median_probability(const train::ModelMeta& meta,
                                 const std::vector<data::GrayImage>& images, bool tta = false) {
  const train::ModelMeta& m = meta;
  auto net = tiny_net(m);
  net->eval();
  const int s = meta.size;
  Tensor x = Tensor::empty(Shape{static_cast<int64_t>(images.size()), 1, s, s});
  for (size_t i = 0; i < images.size(); ++i)
    train::prepare_model_input(images[i], m, s, x.data<float>() + i * s * s);
  train::BatchPrediction p = train::predict_batch(*net, nullptr, "", x, tta);
  std::vector<float> v = p.prob;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Saves the tiny net; with has_head, also a ClassifierHead on the default layer (fc7).
inline void save_tiny_checkpoint(const std::string& path, const train::ModelMeta& meta) {
  auto net = tiny_net(meta);
  if (!meta.has_head) {
    train::save_model_checkpoint(path, *net, nullptr, nullptr, meta);
    return;
  }
  train::ModelMeta m = meta;
  m.head_layer = train::default_head_layer(*net);
  train::ClassifierHead head(train::layer_channels(*net, m.head_layer, m.size), m.options.seed);
  train::save_model_checkpoint(path, *net, &head, nullptr, m);
}

}  // namespace fcnlab::test
