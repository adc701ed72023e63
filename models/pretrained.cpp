// pretrained.cpp — the VGG16 ImageNet import of pretrained.h: key mapping and conversions,
// the model checks (VGG16 family, width 1, 1 or 3 input channels), file reading by extension
// and the SHA-256 check of known files.
#include "models/pretrained.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "engine/error.h"
#include "engine/progress.h"
#include "engine/serialize/safetensors.h"
#include "engine/serialize/sha256.h"

namespace fcnlab {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// conv1_1.weight [O, 3, kh, kw] -> [O, 1, kh, kw]: each filter summed over R, G, B, in double
// and rounded once (a gray input has R = G = B, so the response to it is unchanged).
Tensor sum_over_rgb(const Tensor& w) {
  const std::vector<double> v = w.to_vector();
  const int64_t o = w.size(0), k = w.size(2) * w.size(3);
  std::vector<float> out(static_cast<size_t>(o * k));
  for (int64_t i = 0; i < o; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t c = 0; c < 3; ++c) s += v[static_cast<size_t>((i * 3 + c) * k + j)];
      out[static_cast<size_t>(i * k + j)] = static_cast<float>(s);
    }
  return Tensor::from_vector(out, Shape{o, 1, w.size(2), w.size(3)});
}

// conv1_1 for a grey input normalised by g (pretrained.h GreyInput): weights w_c * std / s_c
// summed over c, and the bias shifted by sum over c, r, s of w_c (mean - m_c) / s_c; in double,
// rounded once.
std::pair<Tensor, Tensor> fold_rgb_for_grey(const Tensor& w, const Tensor& b, const GreyInput& g) {
  const std::vector<double> v = w.to_vector(), bias = b.to_vector();
  const int64_t o = w.size(0), k = w.size(2) * w.size(3);
  std::vector<float> wout(static_cast<size_t>(o * k)), bout(static_cast<size_t>(o));
  for (int64_t i = 0; i < o; ++i) {
    double shift = 0;
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t c = 0; c < 3; ++c) {
        const double wc = v[static_cast<size_t>((i * 3 + c) * k + j)];
        s += wc * double(g.std) / double(kImageNetStd[c]);
        shift += wc * (double(g.mean) - double(kImageNetMean[c])) / double(kImageNetStd[c]);
      }
      wout[static_cast<size_t>(i * k + j)] = static_cast<float>(s);
    }
    bout[static_cast<size_t>(i)] = static_cast<float>(bias[static_cast<size_t>(i)] + shift);
  }
  return {Tensor::from_vector(wout, Shape{o, 1, w.size(2), w.size(3)}),
          Tensor::from_vector(bout, Shape{o})};
}

// Elements that are NaN or infinite. torchvision's IMAGENET1K_FEATURES file, for one, ships a
// classifier of NaN: loading it would poison every forward pass without a word.
int64_t count_non_finite(const Tensor& t) {
  const Tensor c = t.device().is_cpu() ? t : t.to(Device::cpu());
  int64_t bad = 0;
  if (c.dtype() == DType::f32) {
    const float* p = c.data<float>();
    for (int64_t i = 0; i < c.numel(); ++i) bad += !std::isfinite(p[i]);
  } else {
    for (double v : c.to_vector()) bad += !std::isfinite(v);
  }
  return bad;
}

// A hint for unexpected keys that point at a common mix-up, or "".
std::string unexpected_hint(const std::vector<std::string>& unexpected) {
  for (const auto& k : unexpected) {
    if (k.find("running_mean") != std::string::npos || k.find("num_batches_tracked") != std::string::npos)
      return " (batch-norm statistics: a vgg16_bn file? fcnlab's VGG16 has no batch norm)";
    if (starts_with(k, "module."))
      return " (a DataParallel 'module.' prefix: save model.module.state_dict() instead)";
    if (starts_with(k, "model/") || starts_with(k, "conv1_1.") || starts_with(k, "fc6.") ||
        starts_with(k, "score"))
      return " (fcnlab names: this is fcnlab model weights, load it with --weights, not --pretrained)";
  }
  return "";
}

}  // namespace

std::string PretrainedReport::str() const {
  std::string s = "pretrained VGG16 (" + naming + " naming) from '" + source + "': " +
                  std::to_string(loaded.size()) + " tensors loaded\n";
  for (const auto& c : converted) s += "  converted: " + c + "\n";
  if (!ignored.empty()) s += "  ignored (the 1000-way ImageNet classifier): " + join(ignored) + "\n";
  if (!not_used.empty()) s += "  not used (this model has no fc6/fc7): " + join(not_used) + "\n";
  if (!kept.empty()) s += "  kept as built: " + join(kept) + "\n";
  if (!file_check.empty()) s += "  file: " + file_check + "\n";
  return s;
}

const std::vector<Vgg16Key>& vgg16_keys() {
  static const std::vector<Vgg16Key> keys = {
      {"conv1_1", "features.0", "features.0"},    {"conv1_2", "features.2", "features.2"},
      {"conv2_1", "features.5", "features.5"},    {"conv2_2", "features.7", "features.7"},
      {"conv3_1", "features.10", "features.10"},  {"conv3_2", "features.12", "features.12"},
      {"conv3_3", "features.14", "features.14"},  {"conv4_1", "features.17", "features.17"},
      {"conv4_2", "features.19", "features.19"},  {"conv4_3", "features.21", "features.21"},
      {"conv5_1", "features.24", "features.24"},  {"conv5_2", "features.26", "features.26"},
      {"conv5_3", "features.28", "features.28"},  {"fc6", "classifier.0", "pre_logits.fc1"},
      {"fc7", "classifier.3", "pre_logits.fc2"}};
  return keys;
}

const std::vector<std::string>& pretrained_model_names() {
  static const std::vector<std::string> names = {"fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce",
                                                 "unet-vgg16"};
  return names;
}

TensorMap map_vgg16_state_dict(const TensorMap& state, const TensorMap& target,
                               const std::string& source, PretrainedReport* report,
                               const GreyInput* grey) {
  PretrainedReport r;
  r.source = source;
  // timm's names for fc6/fc7/fc8 differ from torchvision's; the features are the same.
  bool timm = false, torchvision = false;
  for (const auto& [k, t] : state) {
    timm |= starts_with(k, "pre_logits.") || starts_with(k, "head.");
    torchvision |= starts_with(k, "classifier.");
  }
  const bool use_timm = timm && !torchvision;
  r.naming = use_timm ? "timm" : "torchvision";

  TensorMap out;
  std::set<std::string> used;
  std::vector<std::string> missing, mismatched;
  for (const auto& key : vgg16_keys()) {
    const std::string from = use_timm ? key.timm : key.torchvision;
    for (const char* part : {"weight", "bias"}) {
      const std::string src = from + "." + part, dst = std::string(key.fcnlab) + "." + part;
      auto s = state.find(src);
      auto d = target.find(dst);
      if (s != state.end()) used.insert(src);
      if (d == target.end()) {
        // U-Net-VGG16 has no fc6/fc7; any other absent layer means a model of another family.
        if (s != state.end() && (starts_with(dst, "fc6.") || starts_with(dst, "fc7.")))
          r.not_used.push_back(src);
        else if (!starts_with(dst, "fc6.") && !starts_with(dst, "fc7."))
          mismatched.push_back(src + ": the model has no parameter " + dst);
        continue;
      }
      if (s == state.end()) {
        missing.push_back(src);
        continue;
      }
      const Tensor& t = s->second;
      const Shape& want = d->second.shape();
      if (!t.defined() || !is_floating(t.dtype())) {
        mismatched.push_back(src + " is " + (t.defined() ? dtype_name(t.dtype()) : "undefined") +
                             ", expected floating point for " + dst);
        continue;
      }
      if (const int64_t bad = count_non_finite(t); bad > 0) {
        mismatched.push_back(src + " holds " + std::to_string(bad) + " NaN/infinite values (a file "
                             "whose " + (key.fcnlab[0] == 'f' ? "classifier is" : "features are") +
                             " not valid weights?)");
        continue;
      }
      if (t.shape() == want) {
        out[dst] = t;
      } else if (std::string(part) == "weight" && t.dim() == 2 && want.ndim() == 4 &&
                 t.size(0) == want[0] && t.size(1) == want[1] * want[2] * want[3]) {
        // A Linear over a (C, H, W) flatten is the convolution with that kernel: fc6, fc7.
        out[dst] = t.reshape(want.vec());
        r.converted.push_back(src + " " + t.shape().str() + " -> " + dst + " " + want.str() +
                              " (Linear as convolution)");
      } else if (dst == "conv1_1.weight" && t.dim() == 4 && want.ndim() == 4 && t.size(1) == 3 &&
                 want[1] == 1 && t.size(0) == want[0] && t.size(2) == want[2] &&
                 t.size(3) == want[3]) {
        if (grey) {  // the bias is shifted below, once both tensors are checked
          out[dst] = t;
          std::ostringstream note;
          note << " (folded from RGB for 1 input channel normalised by mean " << grey->mean
               << ", std " << grey->std << ": ImageNet's response to a grey image; bias shifted)";
          r.converted.push_back(src + " " + t.shape().str() + " -> " + dst + " " + want.str() + note.str());
        } else {
          out[dst] = sum_over_rgb(t);
          r.converted.push_back(src + " " + t.shape().str() + " -> " + dst + " " + want.str() +
                                " (summed over RGB for 1 input channel)");
        }
      } else {
        mismatched.push_back(src + " " + t.shape().str() + " does not fit " + dst + " " + want.str());
        continue;
      }
      r.loaded.push_back(src + " -> " + dst);
    }
  }
  // The ImageNet classifier (fc8) has no place in a segmentation net.
  const std::string head = use_timm ? "head.fc" : "classifier.6";
  for (const char* part : {"weight", "bias"})
    if (state.count(head + "." + part)) {
      used.insert(head + "." + part);
      r.ignored.push_back(head + "." + part);
    }
  std::vector<std::string> unexpected;
  for (const auto& [k, t] : state)
    if (!used.count(k)) unexpected.push_back(k);

  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "pretrained VGG16 weights '" + source + "' (" + r.naming +
                      " naming) do not fit the model; nothing was loaded.";
    if (!missing.empty()) msg += " missing keys: " + join(missing) + ";";
    if (!unexpected.empty()) msg += " unexpected keys: " + join(unexpected) + unexpected_hint(unexpected) + ";";
    if (!mismatched.empty()) msg += " shape mismatch: " + join(mismatched) + ";";
    msg.pop_back();
    FCNLAB_FAIL(msg);
  }
  // The grey fold needs conv1_1's RGB weight and its bias together.
  if (grey && out.count("conv1_1.weight") && out.at("conv1_1.weight").dim() == 4 &&
      out.at("conv1_1.weight").size(1) == 3 && target.at("conv1_1.weight").shape()[1] == 1) {
    auto [w, b] = fold_rgb_for_grey(out.at("conv1_1.weight"), out.at("conv1_1.bias"), *grey);
    out["conv1_1.weight"] = w;
    out["conv1_1.bias"] = b;
  }
  if (report) *report = std::move(r);
  return out;
}

PretrainedReport load_vgg16_pretrained(GraphModel& model, const TensorMap& state,
                                       const std::string& source, const GreyInput* grey) {
  const std::string type = model.type_name();
  const std::string served = join(pretrained_model_names());
  FCNLAB_CHECK(type != "FCN-AlexNet", "pretrained import into FCN-AlexNet: there are no public "
               "PyTorch weights in its CaffeNet layout (96 11x11 filters in conv1, groups 2 in "
               "conv2/conv4/conv5, LRN); torchvision's alexnet has 64 filters, no groups and no "
               "LRN, so it cannot be mapped. Pretrained import serves: ", served);
  FCNLAB_CHECK(type != "FCN-GoogLeNet", "pretrained import into FCN-GoogLeNet: there are no "
               "public PyTorch weights in the BVLC GoogLeNet layout (LRN, no batch norm); "
               "torchvision's googlenet uses batch norm, so it cannot be mapped. Pretrained "
               "import serves: ", served);
  bool vgg = true;
  for (const auto& key : vgg16_keys())
    if (!starts_with(key.fcnlab, "fc")) vgg = vgg && model.has_layer(key.fcnlab);
  FCNLAB_CHECK(vgg, "pretrained import into ", type, ": not a VGG16 model (no conv1_1 ... "
               "conv5_3); pretrained import serves: ", served);
  FCNLAB_CHECK(model.in_channels() == 1 || model.in_channels() == 3, "pretrained import into ",
               type, ": the model takes ", model.in_channels(), " input channels; VGG16 weights "
               "are RGB: use 3, or 1 (conv1_1 summed over RGB)");
  const int64_t filters = model.channels("conv1_1");
  FCNLAB_CHECK(filters == 64, "pretrained import into ", type, ": the model was built at width != 1 "
               "(conv1_1 has ", filters, " filters, ImageNet VGG16 has 64); build it with width 1");

  PretrainedReport r;
  TensorMap mapped = map_vgg16_state_dict(state, model.state_dict(), source, &r, grey);
  LoadReport lr = model.load_state_dict(mapped, /*strict=*/false);
  // map_vgg16_state_dict checked every name and shape against this very model.
  FCNLAB_CHECK(lr.unexpected.empty() && lr.mismatched.empty(), "pretrained import: internal "
               "error after mapping: ", lr.str());
  r.kept = lr.missing;
  return r;
}

const std::vector<KnownWeightFile>& known_pretrained_files() {
  static const std::vector<KnownWeightFile> files = {
      kVgg16Torchvision,
      {"vgg16.tv_in1k.safetensors",
       "https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors", -1,
       "57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8"}};
  return files;
}

namespace {

// SHA-256 of a file with a progress line (the torchvision file is 553 MB: a few seconds).
std::string sha256_with_progress(const std::string& path, int64_t size) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  FCNLAB_CHECK(f, "pretrained weights '", path, "': cannot open the file");
  constexpr int64_t kChunk = 16 << 20;
  Progress progress(std::max<int64_t>(1, (size + kChunk - 1) / kChunk), kChunk >> 20, "sha256", 8,
                    "MiB");
  Sha256 h;
  std::vector<char> buf(static_cast<size_t>(kChunk));
  int64_t step = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    h.update(buf.data(), n);
    progress.update(++step);
  }
  FCNLAB_CHECK(!std::ferror(f.get()), "pretrained weights '", path, "': read error");
  progress.finish();
  return h.finish_hex();
}

}  // namespace

TensorMap read_pretrained_file(const std::string& path, std::string* file_check) {
  namespace fs = std::filesystem;
  std::error_code ec;
  FCNLAB_CHECK(fs::is_regular_file(path, ec), "pretrained weights '", path, "': no such file");
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool is_pth = ext == ".pth" || ext == ".pt" || ext == ".bin";
  FCNLAB_CHECK(is_pth || ext == ".safetensors", "pretrained weights '", path, "': unknown extension '",
               ext, "'; expected .pth, .pt or .bin (PyTorch) or .safetensors");

  // A known file name must be that file: a truncated or substituted download is an error.
  const std::string base = fs::path(path).filename().string();
  std::string check;
  for (const auto& k : known_pretrained_files()) {
    if (base != k.name) continue;
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    FCNLAB_CHECK(k.size < 0 || size == k.size, "pretrained weights '", path, "': ", size,
                 " bytes, but the known file ", k.name, " has ", k.size,
                 " (an incomplete or different download? weights/fetch.sh fetches and verifies it)");
    const std::string got = sha256_with_progress(path, size);
    FCNLAB_CHECK(got == k.sha256, "pretrained weights '", path, "': SHA-256 ", got, ", but the known file ",
                 k.name, " has ", k.sha256, " (a damaged or different file; weights/fetch.sh "
                 "fetches and verifies it)");
    check = std::string("SHA-256 verified: ") + k.name;
  }
  if (check.empty()) {
    std::vector<std::string> names;
    for (const auto& k : known_pretrained_files()) names.push_back(k.name);
    check = "not a known file name (" + join(names) + "): SHA-256 not checked";
  }
  if (file_check) *file_check = check;
  return is_pth ? read_pth(path).tensors : load_safetensors(path).tensors;
}

PretrainedReport load_pretrained_file(GraphModel& model, const std::string& path,
                                      const GreyInput* grey) {
  std::string check;
  TensorMap state = read_pretrained_file(path, &check);
  PretrainedReport r = load_vgg16_pretrained(model, state, path, grey);
  r.file_check = check;
  return r;
}

}  // namespace fcnlab
