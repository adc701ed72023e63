// graph.h — a model as a list of named layers, the way the reference Caffe nets are written:
// each layer has a name ("conv1_1", "pool5", "score_fr", "fuse_pool4"), a kind and the names of
// the layers it reads. The graph runs forward in order, can hand back any layer's output
// (fcnlab-inspect --dump / --feature-maps), time each layer (--time), and — without computing
// anything — give each layer's output shape, parameters, receptive field, stride, depth in
// parameter layers and multiply-accumulates for an input size (--model, --paper-table).
//
// Naming: a layer with parameters is a child module of the same name, so its parameters are
// "conv1_1.weight", "fc6.bias", "upscore2.weight" — the state_dict reads like the paper.
// Caffe's ReLUs run in place and so have no output of their own; here a ReLU is its own layer
// ("relu1_1") and "conv1_1" is the convolution's output before it.
//
// Geometry follows Caffe (python/caffe/coord_map.py): every layer maps input-image coordinates
// to its own by x_layer = a * x_input + b. A crop with no explicit offset takes the offset that
// aligns its input with its reference (FCN-32s: 19; FCN-16s: 5, 27; FCN-8s: 5, 9, 31).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/tensor_map.h"

namespace fcnlab {

enum class LayerKind { input, conv, deconv, relu, max_pool, dropout, lrn, crop, sum, concat, scale };
const char* layer_kind_name(LayerKind k);  // "Input", "Conv2d", "ConvTranspose2d", ...

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::input;
  std::vector<int> inputs;          // indices of earlier layers (crop: {x, reference})
  std::shared_ptr<Module> module;   // conv, deconv, max_pool, dropout, lrn: the child module
  int64_t offset_h = 0, offset_w = 0;  // crop: the window's offset in inputs[0]
  double factor = 1.0;              // scale: the constant factor (FCN-8s at-once: 0.01, 0.0001)
  bool backbone = false;            // part of the pretrained classifier (frozen by freeze_backbone)
  // Caffe coordinate map from the network input: x_here = a * x_input + b (per axis).
  double a_h = 1, b_h = 0, a_w = 1, b_w = 0;
};

// What one layer does at a given input size (GraphModel::stats).
struct LayerStats {
  std::string name;
  std::string type;         // "Conv2d 3x3 s1 p100", "MaxPool2d 2x2 s2 ceil", "Crop +19+19", ...
  std::vector<std::string> inputs;
  Shape out;                // (N, C, H, W)
  int64_t params = 0;       // parameter elements of this layer
  bool fixed = false;       // parameters that never train (fixed bilinear upsampling)
  int64_t rf = 1;           // receptive field (input pixels, along H) of one output unit
  double stride = 1;        // input pixels per output pixel (along H); upsampling divides it
  int depth = 0;            // conv layers (no upsampling) on the longest path from the input
  int64_t macs = 0;         // multiply-accumulates; a transposed conv counted dense, as executed
};

class GraphModel : public Module {
 public:
  // Starts the graph with the input layer "data" of in_channels channels.
  GraphModel(std::string type, int64_t in_channels);
  std::string type_name() const override { return type_; }
  int64_t in_channels() const { return in_channels_; }

  // ---- building: each appends one layer reading earlier layers by name; returns `name`.
  std::string conv(const std::string& name, const std::string& input, int64_t out_channels,
                   int kernel, const Conv2dOptions& o, bool bias, Generator& gen);
  std::string deconv(const std::string& name, const std::string& input,
                     std::shared_ptr<ConvTranspose2d> layer);
  std::string relu(const std::string& name, const std::string& input);
  std::string max_pool(const std::string& name, const std::string& input, const MaxPool2dOptions& o);
  std::string dropout(const std::string& name, const std::string& input, double p, uint64_t seed);
  std::string lrn(const std::string& name, const std::string& input, const LrnOptions& o);
  // Crop `input` to `reference`'s H, W at the given offsets; nullopt = Caffe's aligning offset
  // from the coordinate maps (an error when the maps cannot be aligned by an integer offset).
  std::string crop(const std::string& name, const std::string& input, const std::string& reference,
                   std::optional<int64_t> offset = std::nullopt);
  std::string sum(const std::string& name, const std::vector<std::string>& inputs);
  std::string concat(const std::string& name, const std::vector<std::string>& inputs);
  std::string scale(const std::string& name, const std::string& input, double factor);
  // The layer forward() returns (default: the last one added).
  void set_output(const std::string& name);
  const std::string& output_name() const;
  // The coarse score layer Table 1 describes (rf, stride, depth): score_fr for the FCNs.
  void set_score_layer(const std::string& name) { score_layer_ = index(name); }
  const std::string& score_layer() const;
  // Marks every layer added so far as backbone (the pretrained classifier's layers).
  void mark_backbone();
  // requires_grad false on every backbone layer's parameters (true to unfreeze).
  void freeze_backbone(bool frozen = true);

  // ---- lookup
  const std::vector<Layer>& layers() const { return layers_; }
  bool has_layer(const std::string& name) const;
  // The index of a layer; an unknown name throws, listing the names that exist.
  int index(const std::string& name) const;
  const Layer& layer(const std::string& name) const { return layers_[index(name)]; }
  // Channels of a layer's output (from the definition; no input size needed).
  int64_t channels(const std::string& name) const;

  // ---- running. x: (N, in_channels, H, W) -> the output layer's tensor.
  Tensor forward(const Tensor& x) override;
  // The same forward, also returning the named layers' outputs (unknown names throw before
  // anything runs). Outputs no later layer needs are released as soon as possible.
  Tensor forward(const Tensor& x, const std::vector<std::string>& capture, TensorMap& captured);
  // The same forward, calling observe(layer, output) after each layer (timing, printing).
  Tensor forward(const Tensor& x, const std::function<void(const Layer&, const Tensor&)>& observe);

  // ---- geometry, computed from the definition alone (nothing runs): one entry per layer.
  // Throws when the input is too small for a layer (naming the layer and the sizes).
  std::vector<LayerStats> stats(int64_t n, int64_t h, int64_t w) const;

 private:
  int add_layer(Layer l, const std::vector<std::string>& inputs);
  Tensor run(const Tensor& x, const std::vector<int>& keep,
             const std::function<void(const Layer&, const Tensor&)>* observe,
             std::vector<Tensor>* kept);

  std::string type_;
  int64_t in_channels_;
  std::vector<Layer> layers_;
  int output_ = 0;
  int score_layer_ = -1;
};

}  // namespace fcnlab
