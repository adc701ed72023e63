// inspect_cli.cpp — see inspect_cli.h. Flags are parsed by CLI11; everything after parsing is
// checked here (contradictions, sizes, layer names) before any file is read or written, so a
// mistake costs nothing. Outputs are written atomically, one file per layer.
#include "models/inspect_cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

#include <stb/stb_image.h>

#include "data/image.h"
#include "data/phantom.h"
#include "data/transforms.h"
#include "engine/autograd.h"
#include "engine/cli.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "engine/serialize/checkpoint.h"
#include "engine/serialize/npy.h"
#include "engine/serialize/pth.h"
#include "engine/serialize/safetensors.h"
#include "models/describe.h"
#include "models/feature_maps.h"
#include "models/models.h"
#include "models/pretrained.h"
#include "train/model_io.h"
#if defined(FCNLAB_GPU_SIMT) || defined(FCNLAB_GPU_CUDA)
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"
#endif

namespace fcnlab {

namespace {

// Every flag; "given" is what CLI11 counted, so that a default can be told from a choice.
struct Options {
  bool paper_table = false;
  std::string model;
  int64_t classes = 2;
  int64_t channels = 1;
  double width = 1.0;
  std::string size;  // "HxW" or "S"; empty: the input's size, else 500x500
  int64_t batch = 1;
  std::string weights, pretrained, input;
  std::vector<std::string> dump, feature_maps;
  std::string out;
  bool time = false;
  std::string device = "cpu";
  int trials = 5;
  uint64_t seed = 0;
  std::set<std::string> given;
  bool has(const std::string& flag) const { return given.count(flag) > 0; }
};

const char* const kModelFlags[] = {"--paper-table", "--model", "--weights", "--pretrained",
                                   "--input", "--dump", "--feature-maps", "--time"};

// A usage error: exit 2, like a flag CLI11 rejects.
struct UsageError : Error {
  using Error::Error;
};

std::string known_models() {
  std::string s;
  for (const auto& n : model_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void setup(CLI::App& app, Options& o) {
  app.add_flag("--paper-table", o.paper_table,
               "Table 1 of the FCN paper recomputed from fcnlab's definitions, beside the paper's");
  app.add_option("--model", o.model, "model name: " + known_models());
  app.add_option("--classes", o.classes, "number of classes (default 2; the paper: 21)")
      ->check(fcnlab::cli::in_range(1, 100000));
  app.add_option("--channels", o.channels, "input channels (default 1: X-rays; 3: RGB)")
      ->check(fcnlab::cli::in_range(1, 64));
  app.add_option("--width", o.width, "channel width multiplier (default 1)")
      ->check(fcnlab::cli::in_range(0.0, 4.0));
  app.add_option("--size", o.size, "input size HxW or S (default: the input's size, else 500x500)");
  app.add_option("--batch", o.batch, "batch size N (default 1)")
      ->check(fcnlab::cli::in_range(1, 4096));
  app.add_option("--weights", o.weights,
                 "weights to load strictly: an fcnlab checkpoint, or a .pth/.safetensors with "
                 "fcnlab names");
  app.add_option("--pretrained", o.pretrained,
                 "ImageNet VGG16 weights (torchvision or timm names) mapped into the backbone");
  app.add_option("--input", o.input,
                 "a .png (gray or RGB per --channels) or a .npy (N, C, H, W) float32; default: a "
                 "synthetic chest phantom");
  app.add_option("--dump", o.dump, "layers whose outputs to write as DIR/LAYER.npy")
      ->delimiter(',');
  app.add_option("--feature-maps", o.feature_maps,
                 "layers whose channels to draw as DIR/LAYER.png (first image of the batch)")
      ->delimiter(',');
  app.add_option("--out", o.out, "output folder for --dump and --feature-maps (created)");
  app.add_flag("--time", o.time, "per-layer forward time (a warm-up run, then the mean of --trials)");
  app.add_option("--device", o.device, "cpu or cuda (default cpu)");
  app.add_option("--trials", o.trials, "timed runs for --time (default 5)")
      ->check(fcnlab::cli::in_range(1, 10000));
  app.add_option("--seed", o.seed, "initialisation seed and phantom seed (default 0)");
}

std::pair<int64_t, int64_t> parse_size(const std::string& s) {
  auto number = [&](const std::string& t) -> int64_t {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("--size '" + s + "': expected HxW or S with positive whole numbers, e.g. 500x500");
    return std::stoll(t);
  };
  const size_t x = s.find('x');
  const int64_t h = number(s.substr(0, x));
  const int64_t w = x == std::string::npos ? h : number(s.substr(x + 1));
  if (h < 1 || w < 1) throw UsageError("--size '" + s + "': sides must be >= 1");
  return {h, w};
}

// ---- weights

enum class WeightFile { pth, safetensors };

WeightFile sniff_weights(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FCNLAB_CHECK(f.good(), path, ": cannot open weights file (missing or unreadable)");
  unsigned char b[9] = {0};
  f.read(reinterpret_cast<char*>(b), 9);
  // safetensors: a u64 header length, then the JSON header's '{' at byte 8 (checked first: the
  // length's low byte may be anything, 0x80 included). Else a zip container (torch >= 1.6) or a
  // pickle stream (legacy torch.save, 0x80 then the protocol) is a .pth; anything else goes to
  // the safetensors reader, whose error says what was expected.
  if (f.gcount() == 9 && b[8] == '{') return WeightFile::safetensors;
  if ((b[0] == 'P' && b[1] == 'K') || (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)) return WeightFile::pth;
  return WeightFile::safetensors;
}

// The model checkpoint's metadata when `path` is one written by fcnlab-train.
struct LoadedWeights {
  TensorMap tensors;
  std::optional<train::ModelMeta> meta;
  Checkpoint checkpoint;
  bool is_checkpoint = false;
};

LoadedWeights read_weights(const std::string& path) {
  LoadedWeights w;
  if (sniff_weights(path) == WeightFile::pth) {
    w.tensors = load_pth(path);
    return w;
  }
  const SafetensorsHeader h = read_safetensors_header(path);
  auto fmt = h.metadata.find("format");
  if (fmt != h.metadata.end() && fmt->second == kCheckpointFormat) {
    w.checkpoint = load_checkpoint(path);
    w.is_checkpoint = true;
    w.tensors = w.checkpoint.model;
    if (w.checkpoint.meta.is_object() && w.checkpoint.meta.contains("model"))
      w.meta = train::checkpoint_model_meta(w.checkpoint, path);
    return w;
  }
  w.tensors = load_safetensors(path).tensors;
  return w;
}

void load_strict(GraphModel& g, const LoadedWeights& w, const std::string& path) {
  if (w.meta) {  // an fcnlab-train checkpoint: net weights, the classifier head's left aside
    train::load_model_weights(w.checkpoint, path, g, nullptr);
    return;
  }
  try {
    g.load_state_dict(w.tensors, true);
  } catch (const Error& e) {
    FCNLAB_FAIL(path, ": the weights do not fit ", g.type_name(), " (strict load, nothing loaded): ",
                e.what());
  }
}

// ---- input

std::string lower_extension(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// How an image becomes model input: the trainer's steps (data::Loader::prepare without
// augmentation): CLAHE on the 8-bit gray image when a checkpoint says so, to [0, 1], resize,
// normalise. Defaults: no CLAHE, ImageNet statistics (what fcnlab-train uses by default).
struct Preprocess {
  data::Normalization norm = data::Normalization::imagenet();
  bool clahe = false;
  double clahe_clip = 2.0;
  int clahe_tiles = 8;
  data::FloatImage gray(const data::GrayImage& img) const {
    return data::to_float(clahe ? data::clahe(img, clahe_clip, clahe_tiles, clahe_tiles) : img);
  }
};

// (C, H, W) planes in [0, 1] from a PNG: gray for one channel, RGB for three.
std::vector<data::FloatImage> read_png_planes(const std::string& path, int64_t channels,
                                              const Preprocess& pre) {
  if (channels == 1) return {pre.gray(data::read_png_gray8(path))};
  FCNLAB_CHECK(channels == 3, path, ": a PNG input feeds 1 (gray) or 3 (RGB) channels; the model "
               "has ", channels, " (use a .npy input)");
  const std::vector<uint8_t> bytes = data::read_file_bytes(path);
  data::check_png(bytes.data(), bytes.size(), path);  // chunk and CRC check first
  int w = 0, h = 0, comp = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &comp, 3),
      stbi_image_free);
  FCNLAB_CHECK(px != nullptr, path, ": cannot decode PNG (", stbi_failure_reason(), ")");
  std::vector<data::FloatImage> planes(3, data::FloatImage(w, h));
  for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i)
    for (int c = 0; c < 3; ++c) planes[c].pixels[i] = px.get()[3 * i + c] / 255.0f;
  return planes;
}

struct Input {
  Tensor x;                 // (N, C, H, W) f32 on the CPU
  std::string description;  // one line for the report
};

// Planes (gray or RGB) resized to h x w, normalised as the trainer does, replicated N times.
Tensor planes_to_batch(std::vector<data::FloatImage> planes, int64_t n, int64_t c, int64_t h,
                       int64_t w, const data::Normalization& norm) {
  for (auto& p : planes)
    if (p.height != h || p.width != w) p = data::resize_image(p, static_cast<int>(w), static_cast<int>(h));
  Tensor x = Tensor::empty({n, c, h, w});
  float* dst = x.data<float>();
  const size_t hw = static_cast<size_t>(h * w);
  if (planes.size() == 1) {
    data::Normalization nc = norm;
    nc.channels = static_cast<int>(c);
    FCNLAB_CHECK(c <= 3, "a gray image feeds at most 3 channels (normalisation replicates it); the "
                 "model has ", c, " (use a .npy input)");
    data::write_normalized(planes[0], nc, dst);
  } else {
    for (int64_t k = 0; k < c; ++k) {
      const float m = norm.mean[static_cast<size_t>(k)], inv = 1.0f / norm.std[static_cast<size_t>(k)];
      for (size_t i = 0; i < hw; ++i) dst[static_cast<size_t>(k) * hw + i] = (planes[k].pixels[i] - m) * inv;
    }
  }
  for (int64_t i = 1; i < n; ++i) std::copy(dst, dst + c * hw, dst + i * c * hw);
  return x;
}

// "v in [0, 1], (v - 0.485) / 0.229": the statistics the model's channels actually use.
std::string norm_text(const data::Normalization& n, int64_t channels) {
  std::string mean, sd;
  for (int64_t c = 0; c < std::min<int64_t>(channels, 3); ++c) {
    char m[32], s[32];
    std::snprintf(m, sizeof m, "%s%.3f", c ? ", " : "", n.mean[static_cast<size_t>(c)]);
    std::snprintf(s, sizeof s, "%s%.3f", c ? ", " : "", n.std[static_cast<size_t>(c)]);
    mean += m;
    sd += s;
  }
  return "normalised (v - mean) / std, v in [0, 1], mean " + mean + ", std " + sd;
}

Input make_input(const Options& o, int64_t c, int64_t n, std::optional<std::pair<int64_t, int64_t>> size,
                 const Preprocess& pre) {
  const data::Normalization& norm = pre.norm;
  const std::string clahe = pre.clahe ? "CLAHE (as the checkpoint says), " : "";
  Input in;
  if (o.input.empty()) {
    const auto [h, w] = size.value_or(std::pair<int64_t, int64_t>{500, 500});
    const int side = static_cast<int>(std::max(h, w));
    data::Phantom ph = data::render_phantom(side, true, o.seed, 0);
    in.x = planes_to_batch({pre.gray(ph.image)}, n, c, h, w, norm);
    in.description = "a synthetic chest phantom with a pneumothorax (seed " +
                     std::to_string(o.seed) + "), " + std::to_string(h) + "x" + std::to_string(w) +
                     ", " + clahe + norm_text(norm, c);
    return in;
  }
  const std::string ext = lower_extension(o.input);
  if (ext == ".npy") {
    Tensor t = load_npy(o.input);
    FCNLAB_CHECK(t.dtype() == DType::f32 && t.dim() == 4, o.input,
                 ": an .npy input must be a float32 (N, C, H, W) array, got ", t.shape().str(), " ",
                 dtype_name(t.dtype()));
    FCNLAB_CHECK(t.size(1) == c, o.input, ": the array has ", t.size(1),
                 " channels, the model takes ", c);
    FCNLAB_CHECK(!size || (t.size(2) == size->first && t.size(3) == size->second), o.input,
                 ": the array is ", t.size(2), "x", t.size(3), " but --size asks for ", size->first,
                 "x", size->second, " (an .npy input is used as it is)");
    FCNLAB_CHECK(!o.has("--batch") || t.size(0) == n, o.input, ": the array holds ", t.size(0),
                 " images but --batch asks for ", n);
    in.x = t;
    in.description = o.input + " " + t.shape().str() + " float32, used as it is";
    return in;
  }
  FCNLAB_CHECK(ext == ".png", o.input, ": --input takes a .png or a .npy file");
  std::vector<data::FloatImage> planes = read_png_planes(o.input, c, pre);
  const int64_t h = size ? size->first : planes[0].height, w = size ? size->second : planes[0].width;
  in.description = o.input + " (" + std::to_string(planes[0].height) + "x" +
                   std::to_string(planes[0].width) + (planes.size() == 1 ? " gray" : " RGB") +
                   (size ? ", resized to " + std::to_string(h) + "x" + std::to_string(w) : "") +
                   "), " + (planes.size() == 1 ? clahe : "") + norm_text(norm, c);
  in.x = planes_to_batch(std::move(planes), n, c, h, w, norm);
  return in;
}

// ---- timing

void synchronize(Device d) {
#if defined(FCNLAB_GPU_SIMT) || defined(FCNLAB_GPU_CUDA)
  if (d.is_cuda()) kernels::cuda::synchronize();
#else
  (void)d;
#endif
}

// On a CUDA device, the kernel each convolution layer runs: conv2d's direct kernel, Winograd or
// implicit GEMM (kernels.h conv2d_forward_path_for), a transposed conv's Winograd (3x3, stride 1),
// phase-decomposed GEMM (stride > 1) or plain gather GEMM (conv2d_backward_data_path_for), or
// cuDNN when FCNLAB_KERNELS=cudnn. Empty for other layers and devices.
std::vector<std::string> kernel_names(const GraphModel& g, const std::vector<LayerStats>& st,
                                      const Tensor& x) {
  std::vector<std::string> names(st.size());
#if defined(FCNLAB_GPU_SIMT) || defined(FCNLAB_GPU_CUDA)
  if (!x.device().is_cuda()) return names;
  const bool cudnn = kernels::cuda::kernel_source() == kernels::cuda::KernelSource::cudnn;
  const auto& layers = g.layers();
  for (size_t i = 1; i < layers.size() && i < st.size(); ++i) {
    const Layer& l = layers[i];
    if (l.kind != LayerKind::conv && l.kind != LayerKind::deconv) continue;
    if (cudnn) {
      names[i] = "cuDNN";
    } else if (const auto* c = dynamic_cast<const Conv2d*>(l.module.get())) {
      const Shape in = st[static_cast<size_t>(l.inputs.at(0))].out;
      const auto path = kernels::cuda::conv2d_forward_path_for(in, c->weight.shape(), c->options, x.dtype());
      names[i] = path == kernels::cuda::ConvForwardPath::direct     ? "direct conv"
                 : path == kernels::cuda::ConvForwardPath::winograd ? "Winograd F(2x2,3x3)"
                                                                    : "implicit GEMM";
    } else if (const auto* t = dynamic_cast<const ConvTranspose2d*>(l.module.get())) {
      const ConvTranspose2dOptions& to = t->options;
      const Conv2dOptions co{to.stride_h, to.stride_w, to.pad_h, to.pad_w, to.dilation_h, to.dilation_w, to.groups};
      if (kernels::cuda::conv2d_backward_data_path_for(st[i].out, t->weight.shape(), co, x.dtype()) ==
          kernels::cuda::ConvBackwardDataPath::winograd)
        names[i] = "Winograd F(2x2,3x3) (adjoint)";
      else
        names[i] = kernels::cuda::conv2d_backward_data_phased(co) ? "phase GEMM (adjoint)" : "gather GEMM (adjoint)";
    }
  }
#else
  (void)g, (void)st, (void)x;
#endif
  return names;
}

void time_layers(GraphModel& g, const Tensor& x, int trials, std::ostream& out) {
  using Clock = std::chrono::steady_clock;
  const auto& layers = g.layers();
  std::vector<double> ms(layers.size(), 0.0);
  std::map<const Layer*, size_t> index;
  for (size_t i = 0; i < layers.size(); ++i) index[&layers[i]] = i;
  double total_ms = 0;
  // A warm-up, then `trials` runs timed layer by layer (a device sync after each layer, so the
  // time lands on the layer that spent it), then `trials` whole runs with one sync at the end:
  // the forward time without the per-layer syncs.
  Progress progress(2 * trials + 1, x.size(0), "time");
  for (int t = 0; t <= 2 * trials; ++t) {
    synchronize(x.device());
    const auto start = Clock::now();
    if (t <= trials) {
      auto last = start;
      g.forward(x, [&](const Layer& l, const Tensor&) {
        synchronize(x.device());
        const auto now = Clock::now();
        if (t > 0) ms[index.at(&l)] += std::chrono::duration<double, std::milli>(now - last).count();
        last = now;
      });
    } else {
      g.forward(x);
      synchronize(x.device());
      total_ms += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    progress.update(t + 1, t == 0 ? "warm-up" : t <= trials ? "per layer" : "whole");
  }
  progress.finish();
  for (double& m : ms) m /= trials;
  const std::vector<LayerStats> st = g.stats(x.size(0), x.size(2), x.size(3));
  const std::vector<std::string> kn = kernel_names(g, st, x);
  out << time_table(g, st, ms, total_ms / trials, trials, x.device().str(),
                    x.device().is_cuda() ? &kn : nullptr);
}

// ---- the mode

int run(const Options& o, std::ostream& out) {
  if (o.paper_table) {
    for (const auto& f : o.given)
      if (f != "--paper-table")
        throw UsageError("--paper-table takes no other flags (got " + f + "); it always uses "
                         "500x500, 21 classes, 3 channels");
    out << paper_table();
    return 0;
  }
  const bool actions = !o.dump.empty() || !o.feature_maps.empty() || o.time;
  if (actions && o.out.empty() && (!o.dump.empty() || !o.feature_maps.empty()))
    throw UsageError("--dump and --feature-maps need --out DIR");
  if (!o.out.empty() && o.dump.empty() && o.feature_maps.empty())
    throw UsageError("--out is only used by --dump and --feature-maps");
  if (o.has("--trials") && !o.time) throw UsageError("--trials is only used by --time");
  if (!o.weights.empty() && !o.pretrained.empty())
    throw UsageError("--weights and --pretrained both load weights; give one");
  const std::optional<std::pair<int64_t, int64_t>> size =
      o.size.empty() ? std::nullopt : std::optional(parse_size(o.size));
  const Device device = parse_device(o.device);

  // What to build: the checkpoint's model when --weights is an fcnlab-train checkpoint.
  LoadedWeights weights;
  if (!o.weights.empty()) weights = read_weights(o.weights);
  train::ModelMeta meta;
  meta.model = o.model;
  meta.options = ModelOptions{.classes = o.classes, .in_channels = o.channels, .width = o.width,
                              .seed = o.seed, .random_init = actions && o.weights.empty()};
  Preprocess pre;
  if (weights.meta) {
    train::ModelMeta wanted = *weights.meta;
    if (o.has("--model")) wanted.model = o.model;
    if (o.has("--classes")) wanted.options.classes = o.classes;
    if (o.has("--channels")) wanted.options.in_channels = o.channels;
    if (o.has("--width")) wanted.options.width = o.width;
    train::check_same_architecture(*weights.meta, wanted, o.weights);
    meta.model = weights.meta->model;
    meta.options.classes = weights.meta->options.classes;
    meta.options.in_channels = weights.meta->options.in_channels;
    meta.options.width = weights.meta->options.width;
    meta.options.random_init = false;
    pre.norm = weights.meta->normalization;
    pre.clahe = weights.meta->clahe;
    pre.clahe_clip = weights.meta->clahe_clip;
    pre.clahe_tiles = weights.meta->clahe_tiles;
  } else if (o.model.empty()) {
    throw UsageError("--model NAME is needed (known models: " + known_models() + ")");
  }
  if (!o.weights.empty()) meta.options.random_init = false;
  std::shared_ptr<GraphModel> g = make_model(meta.model, meta.options);  // unknown name: Error

  // Layer names and output files, checked before anything runs or is written.
  std::vector<std::string> capture;
  std::map<std::string, std::string> stems;  // file stem -> layer
  for (const auto* list : {&o.dump, &o.feature_maps})
    for (const auto& name : *list) {
      (void)g->index(name);  // throws, listing every layer
      if (std::find(capture.begin(), capture.end(), name) == capture.end()) capture.push_back(name);
      const std::string stem = layer_file_stem(name);
      auto [it, fresh] = stems.emplace(stem, name);
      FCNLAB_CHECK(fresh || it->second == name, "layers '", it->second, "' and '", name,
                   "' would both be written as ", stem, " ('/' becomes '_')");
    }

  if (!o.weights.empty()) {
    load_strict(*g, weights, o.weights);
    out << "weights: " << o.weights << " (" << weights.tensors.size() << " tensors, strict)\n";
  }
  if (!o.pretrained.empty()) {
    // ImageNet VGG16 into the backbone; score layers stay zero, upsampling bilinear, U-Net's
    // decoder as initialised (random when something runs). A one-channel conv1_1 is folded for
    // the normalisation the input gets here (models/pretrained.h GreyInput).
    const GreyInput grey{pre.norm.mean[0], pre.norm.std[0]};
    const PretrainedReport report = load_pretrained_file(*g, o.pretrained, &grey);
    out << report.str();
  }

  std::optional<std::pair<int64_t, int64_t>> run_size = size;
  if (!run_size && weights.meta && o.input.empty())
    run_size = std::pair<int64_t, int64_t>{weights.meta->size, weights.meta->size};
  if (!actions && o.input.empty()) {
    const auto [h, w] = run_size.value_or(std::pair<int64_t, int64_t>{500, 500});
    out << layer_table(*g, o.batch, h, w);
    return 0;
  }
  Input in = make_input(o, meta.options.in_channels, o.batch, run_size, pre);
  out << "model: " << meta.model << " (" << g->type_name() << "), " << meta.options.classes
      << " classes, " << meta.options.in_channels << " input channel(s), width " << meta.options.width
      << (o.weights.empty() ? ", random initialisation (seed " + std::to_string(o.seed) + ")" : "")
      << "\ninput: " << in.description << "\n";
  if (!actions) {
    out << layer_table(*g, in.x.size(0), in.x.size(2), in.x.size(3));
    return 0;
  }

  NoGrad no_grad;
  g->eval();
  if (device != Device::cpu()) g->to(device);
  const Tensor x = in.x.to(device);
  if (!capture.empty()) {
    // The observer keeps a handle on each wanted output (the graph drops its own as soon as no
    // later layer reads it) and reports progress layer by layer: a full-size model at 500x500
    // takes a while on a CPU.
    TensorMap captured;
    const std::set<std::string> wanted(capture.begin(), capture.end());
    Progress progress(static_cast<int64_t>(g->layers().size()), 0, "forward");
    int64_t done = 0;
    g->forward(x, [&](const Layer& l, const Tensor& y) {
      if (wanted.count(l.name)) captured[l.name] = y;
      progress.update(++done, l.name);
    });
    progress.finish();
    for (const auto& name : capture)
      FCNLAB_CHECK(captured.count(name), "layer '", name, "' comes after the model's output '",
                   g->output_name(), "' and is never computed");
    std::filesystem::create_directories(o.out);  // throws filesystem_error naming it
    for (const auto& name : o.dump) {
      const std::string path = (std::filesystem::path(o.out) / (layer_file_stem(name) + ".npy")).string();
      save_npy(path, captured.at(name));
      out << "wrote " << path << "  " << captured.at(name).shape().str() << " float32\n";
    }
    for (const auto& name : o.feature_maps) {
      // The first image of the batch: its (C, H, W) block leads the contiguous tensor.
      const Tensor t = captured.at(name).to(Device::cpu()).to(DType::f32);
      Tensor img0 = Tensor::empty({t.size(1), t.size(2), t.size(3)});
      std::copy(t.data<float>(), t.data<float>() + img0.numel(), img0.data<float>());
      const std::string caption = name + "  " + std::to_string(t.size(1)) + " CH " +
                                  std::to_string(t.size(2)) + "X" + std::to_string(t.size(3));
      const std::string path =
          (std::filesystem::path(o.out) / (layer_file_stem(name) + ".png")).string();
      write_feature_maps(path, img0, caption);
      out << "wrote " << path << "  " << t.size(1) << " channels of " << t.size(2) << "x"
          << t.size(3) << " (image 1 of " << t.size(0) << ")\n";
    }
  }
  if (o.time) time_layers(*g, x, o.trials, out);
  return 0;
}

}  // namespace

std::string layer_file_stem(const std::string& layer) {
  std::string s = layer;
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

bool is_model_inspect(const std::vector<std::string>& args) {
  for (const auto& a : args)
    for (const char* f : kModelFlags) {
      const std::string flag = f;
      if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
    }
  return false;
}

std::string model_inspect_usage() {
  return "  --paper-table   Table 1 of the FCN paper from fcnlab's definitions, beside the paper's\n"
         "  --model NAME [--classes K] [--channels C] [--width W] [--size HxW] [--batch N]\n"
         "                  per-layer table (type, output shape, params, rf, stride, MACs) and totals\n"
         "    [--weights FILE | --pretrained FILE]  fcnlab checkpoint, .pth or .safetensors (strict)\n"
         "    [--input FILE.png|FILE.npy]           default: a synthetic chest phantom\n"
         "    [--dump L1,L2 --out DIR]              DIR/L1.npy, ... ('/' in a layer name -> '_')\n"
         "    [--feature-maps L1,L2 --out DIR]      DIR/L1.png, ... channel grids\n"
         "    [--time [--device cpu|cuda] [--trials N]]  per-layer forward time\n"
         "  models: " + known_models() + "\n";
}

int model_inspect_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"fcnlab-inspect: look inside the FCN models", "fcnlab-inspect"};
  Options o;
  setup(app, o);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "fcnlab-inspect: error: " << e.what() << "\n" << model_inspect_usage();
    return 2;
  }
  for (const CLI::Option* opt : app.get_options())
    if (opt->count() > 0) o.given.insert(opt->get_name());  // "--model"
  try {
    return run(o, out);
  } catch (const UsageError& e) {
    err << "fcnlab-inspect: error: " << e.what() << "\n";
    return 2;
  } catch (const Error& e) {
    err << "fcnlab-inspect: error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    err << "fcnlab-inspect: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace fcnlab
