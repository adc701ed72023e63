// model_io_graph.cpp — the parts of model_io.h that need the model zoo: rebuilding a net from
// a checkpoint, the head's input layer, and the forward / predict helpers shared by the
// trainer's validation, fcnlab-evaluate and fcnlab-predict.
#include <algorithm>
#include <cmath>
#include <exception>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "train/model_io.h"

namespace fcnlab::train {

LoadedModel load_model_checkpoint(const std::string& path, Device device) {
  Checkpoint ck = load_checkpoint(path);
  LoadedModel m;
  m.meta = checkpoint_model_meta(ck, path);
  m.raw_meta = ck.meta;
  try {
    m.net = make_model(m.meta.model, m.meta.options);
  } catch (const std::exception& e) {
    FCNLAB_FAIL(path, ": cannot rebuild the model it names (", m.meta.describe(), "): ", e.what());
  }
  if (m.meta.has_head) {
    FCNLAB_CHECK(m.net->has_layer(m.meta.head_layer), path, ": the classification head reads layer '",
                 m.meta.head_layer, "', which ", m.meta.model, " does not have");
    m.head = std::make_shared<ClassifierHead>(
        layer_channels(*m.net, m.meta.head_layer, m.meta.size), m.meta.options.seed + 1);
  }
  load_model_weights(ck, path, *m.net, m.head.get());
  m.net->eval();
  m.net->to(device);
  if (m.head) {
    m.head->eval();
    m.head->to(device);
  }
  return m;
}

std::string default_head_layer(const GraphModel& net) {
  int score = -1;
  try {
    score = net.index(net.score_layer());
  } catch (const std::exception&) {
    score = net.index(net.output_name());
  }
  const Layer& l = net.layers()[score];
  FCNLAB_CHECK(!l.inputs.empty(), net.type_name(), ": layer '", l.name,
               "' reads no layer; no default input for a classification head");
  return net.layers()[l.inputs[0]].name;
}

int64_t layer_channels(const GraphModel& net, const std::string& name, int size) {
  const int idx = net.index(name);
  std::vector<LayerStats> stats = net.stats(1, size, size);
  return stats.at(idx).out[1];
}

Forward forward_model(GraphModel& net, ClassifierHead* head, const std::string& head_layer,
                      const Tensor& images) {
  Forward f;
  if (!head) {
    f.scores = net(images);
    return f;
  }
  TensorMap captured;
  f.scores = net.forward(images, {head_layer}, captured);
  f.head_logits = (*head)(captured.at(head_layer));
  return f;
}

namespace {

// (N, C, H, W) f32 host tensor mirrored along W.
Tensor hflip_host(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const int64_t rows = x.numel() / x.size(3), w = x.size(3);
  const float* s = x.data<float>();
  float* d = y.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < w; ++c) d[r * w + c] = s[r * w + (w - 1 - c)];
  return y;
}

// Foreground probability 1 - p(background), host (N*H*W), and the head's sigmoid (N);
// flipped: the scores are of a mirrored batch, mirror them back.
void probabilities(const Forward& f, bool flipped, std::vector<float>& prob,
                   std::vector<double>& head_prob) {
  NoGrad ng;
  Tensor p = softmax(f.scores).to(Device::cpu());
  const int64_t n = p.size(0), k = p.size(1), h = p.size(2), w = p.size(3);
  FCNLAB_CHECK(k >= 2, "predict_batch: the model gives ", k, " class score(s); need >= 2");
  prob.assign(static_cast<size_t>(n * h * w), 0.0f);
  const float* src = p.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t xs = flipped ? w - 1 - x : x;
        prob[(i * h + y) * w + x] = 1.0f - src[((i * k + 0) * h + y) * w + xs];
      }
  head_prob.clear();
  if (f.head_logits.defined()) {
    Tensor logits = f.head_logits.to(Device::cpu());
    for (int64_t i = 0; i < n; ++i) head_prob.push_back(1.0 / (1.0 + std::exp(-logits.flat(i))));
  }
}

void fill_seg_scores(BatchPrediction& b) {
  b.seg_score.assign(static_cast<size_t>(b.n), 0.0);
  const int64_t hw = b.h * b.w;
  for (int64_t i = 0; i < b.n; ++i) {
    const float* p = b.prob.data() + i * hw;
    b.seg_score[i] = hw ? *std::max_element(p, p + hw) : 0.0;
  }
}

}  // namespace

BatchPrediction prediction_from_forward(const Forward& f) {
  check_dims(f.scores, 4, "prediction_from_forward", "scores");
  BatchPrediction b;
  b.n = f.scores.size(0);
  b.h = f.scores.size(2);
  b.w = f.scores.size(3);
  probabilities(f, false, b.prob, b.head_score);
  fill_seg_scores(b);
  return b;
}

BatchPrediction predict_batch(GraphModel& net, ClassifierHead* head, const std::string& head_layer,
                              const Tensor& images, bool hflip_tta) {
  NoGrad ng;
  check_dims(images, 4, "predict_batch", "images");
  Forward f = forward_model(net, head, head_layer, images);
  FCNLAB_CHECK(f.scores.size(2) == images.size(2) && f.scores.size(3) == images.size(3),
               "predict_batch: the model's scores ", f.scores.shape().str(),
               " are not at the input size ", images.shape().str());
  BatchPrediction b;
  b.n = images.size(0);
  b.h = images.size(2);
  b.w = images.size(3);
  probabilities(f, false, b.prob, b.head_score);
  if (hflip_tta) {
    const Device dev = images.device();
    Tensor flipped = hflip_host(images.to(Device::cpu())).to(dev);
    std::vector<float> prob2;
    std::vector<double> head2;
    probabilities(forward_model(net, head, head_layer, flipped), true, prob2, head2);
    for (size_t i = 0; i < b.prob.size(); ++i) b.prob[i] = 0.5f * (b.prob[i] + prob2[i]);
    for (size_t i = 0; i < b.head_score.size(); ++i)
      b.head_score[i] = 0.5 * (b.head_score[i] + head2[i]);
  }
  fill_seg_scores(b);
  return b;
}

}  // namespace fcnlab::train
