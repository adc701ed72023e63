// config.cpp — the field table behind flags and config keys, the TOML subset, validation.
#include "train/config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <variant>

#include "data/phantom.h"
#include "engine/error.h"

namespace fcnlab::train {

using nlohmann::json;

namespace {

using FieldPtr = std::variant<std::string*, int*, uint64_t*, double*, bool*, std::vector<double>*>;

struct Field {
  const char* name;  // flag name without "--"; config key
  const char* help;
  FieldPtr ptr;
};

std::vector<Field> fields(TrainConfig& c) {
  return {
      {"data", "the SIIM-ACR PNG release folder (png_images/, png_masks/, CSVs) or the original DICOM release (dicom-images-train/, train-rle.csv)", &c.data},
      {"phantoms", "generate N phantom images into OUT/phantoms and train on them", &c.phantoms},
      {"phantom-size", "side of the generated phantoms (default: --size)", &c.phantom_size},
      {"phantom-contrast", "lesion conspicuity of the generated phantoms: 1 = subtle, like hard real cases; c multiplies the air gap's darkening and the pleural line", &c.phantom_contrast},
      {"val-fraction", "share of the train CSV held out for validation (stratified)", &c.val_fraction},
      {"model", "fcn32s | fcn16s | fcn8s | fcn8s-atonce | fcn-alexnet | fcn-googlenet | unet-vgg16", &c.model},
      {"width", "channel multiplier of every layer (1 = the paper's net)", &c.width},
      {"pretrained", "backbone weights to start from (.safetensors or .pth)", &c.pretrained},
      {"freeze-backbone", "keep the pretrained backbone fixed", &c.freeze_backbone},
      {"head", "train a joint image-level classification head", &c.head},
      {"head-weight", "weight of the head's BCE loss", &c.head_weight},
      {"size", "square input side in pixels", &c.size},
      {"epochs", "training epochs", &c.epochs},
      {"batch", "images per micro-batch", &c.batch},
      {"accum", "micro-batches per optimizer step (gradient accumulation)", &c.accum},
      {"optimizer", "sgd | adam | adamw", &c.optimizer},
      {"lr", "base learning rate", &c.lr},
      {"momentum", "SGD momentum", &c.momentum},
      {"weight-decay", "weight decay (L2 for sgd/adam, decoupled for adamw)", &c.weight_decay},
      {"schedule", "learning-rate schedule: constant | step | poly | cosine", &c.schedule},
      {"warmup", "linear warm-up, in optimizer steps", &c.warmup},
      {"clip", "clip the gradient norm to this (0: off)", &c.clip},
      {"loss", "ce | dice | ce+dice", &c.loss},
      {"dice", "image | batch: soft Dice per image, averaged (every empty image pushes its whole mask to 0), or one Dice over the batch's pixels (steadier when most images are empty)", &c.dice},
      {"class-weights", "cross-entropy weight per class, e.g. 1 5", &c.class_weights},
      {"pos-oversample", "share of positive images per epoch, in (0, 1) (0: natural)", &c.pos_oversample},
      {"augment", "flip, shift-scale-rotate, brightness/contrast/gamma", &c.augment},
      {"steps-per-epoch", "cap on micro-batches per epoch (0: the whole split)", &c.steps_per_epoch},
      {"patience", "early stopping after this many epochs without a better val Dice (0: off)", &c.patience},
      {"device", "cpu | cuda", &c.device},
      {"kernels", "hand | cudnn: the CUDA kernels for conv/softmax/GEMM", &c.kernels},
      {"workers", "data-loading threads (0: automatic: cuda half the cores, 2 to 8; cpu 2)", &c.workers},
      {"seed", "seed of init, data order, augmentation and dropout", &c.seed},
      {"out", "output folder", &c.out},
      {"resume", "continue the run of this last.safetensors", &c.resume},
      {"strict", "a corrupt image is fatal (default: skipped and counted)", &c.strict},
      {"stop-after", "stop after this epoch as though interrupted (0: never)", &c.stop_after},
  };
}

std::string normalize_key(std::string k) {
  for (char& ch : k)
    if (ch == '_') ch = '-';
  return k;
}

std::string type_word(const FieldPtr& p) {
  return std::visit(
      [](auto* q) -> std::string {
        using T = std::remove_pointer_t<decltype(q)>;
        if constexpr (std::is_same_v<T, std::string>) return "a string";
        else if constexpr (std::is_same_v<T, bool>) return "true or false";
        else if constexpr (std::is_same_v<T, double>) return "a number";
        else if constexpr (std::is_same_v<T, std::vector<double>>) return "a list of numbers";
        else return "an integer";
      },
      p);
}

void set_from_json(const Field& f, const json& v, const std::string& where) {
  auto bad = [&]() {
    FCNLAB_FAIL(where, ": '", f.name, "' must be ", type_word(f.ptr), ", got ", v.dump());
  };
  std::visit(
      [&](auto* q) {
        using T = std::remove_pointer_t<decltype(q)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!v.is_string()) bad();
          *q = v.get<std::string>();
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) bad();
          *q = v.get<bool>();
        } else if constexpr (std::is_same_v<T, double>) {
          if (!v.is_number()) bad();
          *q = v.get<double>();
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          if (!v.is_array()) bad();
          q->clear();
          for (const auto& e : v) {
            if (!e.is_number()) bad();
            q->push_back(e.get<double>());
          }
        } else {
          if (!v.is_number_integer() || (std::is_unsigned_v<T> && v.get<int64_t>() < 0)) bad();
          *q = v.get<T>();
        }
      },
      f.ptr);
}

}  // namespace

std::vector<std::string> config_keys() {
  TrainConfig c;
  std::vector<std::string> keys;
  for (const auto& f : fields(c)) keys.push_back(f.name);
  return keys;
}

json TrainConfig::to_json() const {
  TrainConfig copy = *this;
  json j = json::object();
  for (const auto& f : fields(copy)) std::visit([&](auto* q) { j[f.name] = *q; }, f.ptr);
  return j;
}

void add_train_options(CLI::App& app, TrainConfig& c, std::string& config_file) {
  // A flag given twice: the last one wins (as in argparse), so a wrapper script's defaults can
  // be overridden by appending flags.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--config", config_file,
                 "JSON or TOML file holding any of these options (the command line wins)");
  for (const auto& f : fields(c)) {
    const std::string flag = std::string("--") + f.name;
    std::visit(
        [&](auto* q) {
          using T = std::remove_pointer_t<decltype(q)>;
          if constexpr (std::is_same_v<T, bool>)
            app.add_flag(flag, *q, f.help);
          else if constexpr (std::is_same_v<T, std::vector<double>>)
            app.add_option(flag, *q, f.help)
                ->expected(1, 64)
                ->delimiter(',')
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
          else
            app.add_option(flag, *q, f.help);
        },
        f.ptr);
  }
}

std::set<std::string> given_options(const CLI::App& app) {
  std::set<std::string> given;
  TrainConfig dummy;
  for (const auto& f : fields(dummy))
    if (app.count(std::string("--") + f.name) > 0) given.insert(f.name);
  return given;
}

void apply_json(const json& j, TrainConfig& c, const std::set<std::string>& skip,
                const std::string& where) {
  FCNLAB_CHECK(j.is_object(), where, ": expected an object of options at the top level, got ",
               j.type_name());
  std::vector<Field> table = fields(c);
  for (const auto& [key, value] : j.items()) {
    const std::string k = normalize_key(key);
    const Field* f = nullptr;
    for (const auto& cand : table)
      if (k == cand.name) f = &cand;
    if (!f) {
      std::string valid;
      for (const auto& cand : table) valid += (valid.empty() ? "" : ", ") + std::string(cand.name);
      FCNLAB_FAIL(where, ": unknown option '", key, "' (valid: ", valid, ")");
    }
    if (skip.count(k)) continue;
    set_from_json(*f, value, where);
  }
}

// ---------------------------------------------------------------- TOML subset

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Removes a '#' comment that is not inside a string.
std::string strip_comment(const std::string& s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quote) {
      if (s[i] == '\\' && quote == '"') ++i;
      else if (s[i] == quote) quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '#') {
      return s.substr(0, i);
    }
  }
  return s;
}

json toml_scalar(const std::string& v, const std::string& at) {
  FCNLAB_CHECK(!v.empty(), at, ": a value is missing after '='");
  if (v.front() == '"' || v.front() == '\'') {
    FCNLAB_CHECK(v.size() >= 2 && v.back() == v.front(), at, ": unterminated string ", v);
    std::string s = v.substr(1, v.size() - 2);
    if (v.front() == '"') {  // basic strings: the common escapes
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          char e = s[++i];
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          out += s[i];
        }
      }
      s = out;
    }
    return s;
  }
  if (v == "true") return true;
  if (v == "false") return false;
  std::string num;
  for (char ch : v)
    if (ch != '_') num += ch;  // TOML allows 1_000
  try {
    size_t used = 0;
    if (num.find_first_of(".eE") == std::string::npos && num != "inf" && num != "nan") {
      long long i = std::stoll(num, &used);
      if (used == num.size()) return i;
    } else {
      double d = std::stod(num, &used);
      if (used == num.size()) return d;
    }
  } catch (const std::exception&) {
  }
  FCNLAB_FAIL(at, ": cannot read the value ", v,
              " (expected a quoted string, a number, true/false or a [list])");
}

}  // namespace

json parse_toml_subset(const std::string& text, const std::string& where) {
  json out = json::object();
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string at = where + ":" + std::to_string(line_no);
    std::string line = trim(strip_comment(raw));
    if (line.empty()) continue;
    FCNLAB_CHECK(line.front() != '[', at, ": TOML tables (", line,
                 ") are not supported in fcnlab-train configs; put every option at the top level");
    const size_t eq = line.find('=');
    FCNLAB_CHECK(eq != std::string::npos, at, ": expected 'key = value', got '", line, "'");
    std::string key = trim(line.substr(0, eq));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front())
      key = key.substr(1, key.size() - 2);
    FCNLAB_CHECK(!key.empty(), at, ": a key is missing before '='");
    FCNLAB_CHECK(!out.contains(key), at, ": '", key, "' is set twice");
    std::string value = trim(line.substr(eq + 1));
    if (!value.empty() && value.front() == '[') {
      FCNLAB_CHECK(value.back() == ']', at, ": a list must open and close on one line: ", value);
      json arr = json::array();
      std::string body = trim(value.substr(1, value.size() - 2));
      std::istringstream items(body);
      std::string item;
      while (std::getline(items, item, ',')) {
        item = trim(item);
        if (item.empty()) continue;  // a trailing comma
        arr.push_back(toml_scalar(item, at));
      }
      out[key] = arr;
    } else {
      out[key] = toml_scalar(value, at);
    }
  }
  return out;
}

json read_config_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FCNLAB_CHECK(f.good(), "--config '", path, "': cannot open the file");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  auto ends_with = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends_with(".toml")) return parse_toml_subset(text, path);
  FCNLAB_CHECK(ends_with(".json"), "--config '", path,
               "': expected a .json or .toml file (the extension says which)");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    FCNLAB_FAIL("--config '", path, "': not valid JSON: ", e.what());
  }
}

// ---------------------------------------------------------------- validation

void validate_config(const TrainConfig& c, const std::set<std::string>& given) {
  auto is_given = [&](const char* n) { return given.count(n) > 0; };
  const bool resuming = !c.resume.empty();
  if (!resuming) {
    FCNLAB_CHECK(!(c.data.empty() && c.phantoms == 0),
                 "no training data: give --data DIR (the PNG release) or --phantoms N");
  }
  FCNLAB_CHECK(c.data.empty() || c.phantoms == 0,
               "--data and --phantoms contradict each other: give one of them");
  FCNLAB_CHECK(c.phantoms >= 0, "--phantoms must be >= 0, got ", c.phantoms);
  FCNLAB_CHECK(c.phantoms == 0 || c.phantoms >= 10, "--phantoms ", c.phantoms,
               ": need at least 10 images for a train/validation split");
  FCNLAB_CHECK(c.phantoms == 0 || (c.phantom_size > 0 ? c.phantom_size : c.size) >= 32,
               "--phantoms are drawn at least 32 pixels wide: give --phantom-size 32 or more (it ",
               "defaults to --size, ", c.size, ")");
  FCNLAB_CHECK(c.phantoms > 0 || !is_given("phantom-size"),
               "--phantom-size applies to --phantoms only");
  FCNLAB_CHECK(c.phantoms > 0 || !is_given("phantom-contrast"),
               "--phantom-contrast applies to --phantoms only");
  FCNLAB_CHECK(c.phantom_contrast >= data::kPhantomContrastMin &&
                   c.phantom_contrast <= data::kPhantomContrastMax,
               "--phantom-contrast must be in [", data::kPhantomContrastMin, ", ",
               data::kPhantomContrastMax, "], got ", c.phantom_contrast);
  FCNLAB_CHECK(c.val_fraction > 0 && c.val_fraction < 1, "--val-fraction must be in (0, 1), got ",
               c.val_fraction);
  // The model name is checked where the model is built (make_model lists the valid names).
  FCNLAB_CHECK(c.width > 0 && c.width <= 4, "--width must be in (0, 4], got ", c.width);
  FCNLAB_CHECK(!c.freeze_backbone || !c.pretrained.empty() || resuming,
               "--freeze-backbone without --pretrained would freeze a randomly initialised backbone");
  FCNLAB_CHECK(c.pretrained.empty() || !resuming,
               "--pretrained and --resume contradict each other: a resumed run continues from its ",
               "own checkpoint");
  FCNLAB_CHECK(c.head_weight >= 0, "--head-weight must be >= 0, got ", c.head_weight);
  FCNLAB_CHECK(c.head || !is_given("head-weight"), "--head-weight applies with --head only");
  FCNLAB_CHECK(c.size >= 16 && c.size <= 4096, "--size must be in [16, 4096], got ", c.size);
  FCNLAB_CHECK(c.epochs >= 1, "--epochs must be >= 1, got ", c.epochs);
  FCNLAB_CHECK(c.batch >= 1, "--batch must be >= 1, got ", c.batch);
  FCNLAB_CHECK(c.accum >= 1, "--accum must be >= 1, got ", c.accum);
  FCNLAB_CHECK(c.optimizer == "sgd" || c.optimizer == "adam" || c.optimizer == "adamw",
               "--optimizer must be sgd, adam or adamw, got '", c.optimizer, "'");
  FCNLAB_CHECK(c.lr > 0 && std::isfinite(c.lr), "--lr must be > 0, got ", c.lr);
  FCNLAB_CHECK(c.momentum >= 0 && c.momentum < 1, "--momentum must be in [0, 1), got ", c.momentum);
  FCNLAB_CHECK(c.optimizer == "sgd" || !is_given("momentum"), "--momentum applies to --optimizer ",
               "sgd only (", c.optimizer, " has its own betas)");
  FCNLAB_CHECK(c.weight_decay >= 0, "--weight-decay must be >= 0, got ", c.weight_decay);
  FCNLAB_CHECK(c.schedule == "constant" || c.schedule == "step" || c.schedule == "poly" ||
                   c.schedule == "cosine",
               "--schedule must be constant, step, poly or cosine, got '", c.schedule, "'");
  FCNLAB_CHECK(c.warmup >= 0, "--warmup must be >= 0, got ", c.warmup);
  FCNLAB_CHECK(c.clip >= 0, "--clip must be >= 0, got ", c.clip);
  FCNLAB_CHECK(c.loss == "ce" || c.loss == "dice" || c.loss == "ce+dice",
               "--loss must be ce, dice or ce+dice, got '", c.loss, "'");
  FCNLAB_CHECK(c.dice == "image" || c.dice == "batch", "--dice must be image or batch, got '",
               c.dice, "'");
  FCNLAB_CHECK(c.loss != "ce" || !is_given("dice"),
               "--dice chooses how the Dice loss is taken; --loss ce has none");
  FCNLAB_CHECK(c.class_weights.empty() || c.loss != "dice",
               "--class-weights weigh the cross-entropy; --loss dice has none");
  FCNLAB_CHECK(c.class_weights.empty() || c.class_weights.size() == 2,
               "--class-weights needs one weight per class (2: background, pneumothorax), got ",
               c.class_weights.size());
  for (double w : c.class_weights)
    FCNLAB_CHECK(w >= 0 && std::isfinite(w), "--class-weights must be finite and >= 0, got ", w);
  FCNLAB_CHECK(c.pos_oversample == 0 || (c.pos_oversample > 0 && c.pos_oversample < 1),
               "--pos-oversample must be in (0, 1) (0: off), got ", c.pos_oversample);
  FCNLAB_CHECK(c.steps_per_epoch >= 0, "--steps-per-epoch must be >= 0, got ", c.steps_per_epoch);
  FCNLAB_CHECK(c.patience >= 0, "--patience must be >= 0, got ", c.patience);
  FCNLAB_CHECK(c.device == "cpu" || c.device == "cuda" || c.device.rfind("cuda:", 0) == 0,
               "--device must be cpu or cuda, got '", c.device, "'");
#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  FCNLAB_CHECK(c.device == "cpu", "--device ", c.device,
               ": this build of fcnlab has no CUDA kernels (configure with FCNLAB_GPU=cuda)");
#endif
  FCNLAB_CHECK(c.kernels == "hand" || c.kernels == "cudnn", "--kernels must be hand or cudnn, got '",
               c.kernels, "'");
  FCNLAB_CHECK(c.kernels == "hand" || c.device != "cpu",
               "--kernels cudnn chooses CUDA kernels; it contradicts --device cpu");
  FCNLAB_CHECK(c.workers >= 0 && c.workers <= 64, "--workers must be in [0, 64] (0: automatic), got ", c.workers);
  FCNLAB_CHECK(!c.out.empty(), "--out must name a folder");
  FCNLAB_CHECK(c.stop_after >= 0, "--stop-after must be >= 0, got ", c.stop_after);
}

// ---------------------------------------------------------------- resume configuration

TrainConfig resolve_resume(const json& stored, const TrainConfig& cli,
                           const std::set<std::string>& given, const std::string& path) {
  static const std::set<std::string> changeable = {"epochs",  "out",      "workers",
                                                   "device",  "kernels",  "patience",
                                                   "stop-after", "strict", "resume"};
  TrainConfig c;
  apply_json(stored, c, {}, path + " (stored configuration)");
  const json mine = cli.to_json(), theirs = c.to_json();
  std::string contradictions;
  for (const auto& key : given) {
    if (changeable.count(key)) {
      apply_json(json{{key, mine.at(key)}}, c, {}, "--" + key);
    } else if (mine.at(key) != theirs.at(key)) {
      contradictions += (contradictions.empty() ? "" : "; ") + ("--" + key + " " + mine.at(key).dump() +
                        " vs the run's " + theirs.at(key).dump());
    }
  }
  FCNLAB_CHECK(contradictions.empty(), "--resume ", path,
               ": these options contradict the run being resumed (a resumed run keeps its ",
               "configuration; only epochs, out, workers, device, kernels, patience, stop-after ",
               "and strict may change): ", contradictions);
  c.resume = cli.resume;
  if (!given.count("out")) c.out = std::filesystem::path(path).parent_path().string();
  if (c.out.empty()) c.out = ".";
  return c;
}

int resolved_workers(const TrainConfig& c, unsigned cores) {
  if (c.workers > 0) return c.workers;
  if (c.device != "cuda") return 2;
  return static_cast<int>(std::clamp<unsigned>(cores / 2, 2, 8));
}

}  // namespace fcnlab::train
