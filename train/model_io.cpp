// model_io.cpp — model checkpoints: ModelMeta as JSON, save, strict load into an existing net.
// (Rebuilding a net by name and the forward helpers are in model_io_graph.cpp.)
#include "train/model_io.h"

#include <cmath>
#include <sstream>

#include "engine/error.h"

namespace fcnlab::train {

using nlohmann::json;

namespace {

constexpr const char* kHeadPrefix = "head.";

// Field access with errors that name the file and the field.
const json& field(const json& j, const char* name, const std::string& where) {
  FCNLAB_CHECK(j.is_object() && j.contains(name), where, ": model metadata has no field '", name,
               "'");
  return j.at(name);
}
template <class T>
T get(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    FCNLAB_FAIL(where, ": model metadata field '", name, "' has the wrong type (", v.dump(), ")");
  }
}
template <class T>
T get_or(const json& j, const char* name, T fallback, const std::string& where) {
  return j.is_object() && j.contains(name) ? get<T>(j, name, where) : fallback;
}

std::string fmt_width(double w) {
  std::ostringstream os;
  os << w;
  return os.str();
}

}  // namespace

json ModelMeta::to_json() const {
  json n = {{"channels", normalization.channels},
            {"mean", {normalization.mean[0], normalization.mean[1], normalization.mean[2]}},
            {"std", {normalization.std[0], normalization.std[1], normalization.std[2]}}};
  return {{"name", model},
          {"classes", options.classes},
          {"in_channels", options.in_channels},
          {"width", options.width},
          {"dropout", options.dropout},
          {"seed", options.seed},
          {"size", size},
          {"normalization", n},
          {"clahe", clahe},
          {"clahe_clip", clahe_clip},
          {"clahe_tiles", clahe_tiles},
          {"threshold", threshold},
          {"min_area", min_area},
          {"has_head", has_head},
          {"head_layer", head_layer},
          {"head_threshold", head_threshold}};
}

ModelMeta ModelMeta::from_json(const json& j, const std::string& where) {
  FCNLAB_CHECK(j.is_object(), where, ": model metadata is not a JSON object");
  ModelMeta m;
  m.model = get<std::string>(j, "name", where);
  m.options.classes = get<int64_t>(j, "classes", where);
  m.options.in_channels = get<int64_t>(j, "in_channels", where);
  m.options.width = get<double>(j, "width", where);
  m.options.dropout = get_or<bool>(j, "dropout", true, where);
  m.options.seed = get_or<uint64_t>(j, "seed", 0, where);
  m.size = get<int>(j, "size", where);
  FCNLAB_CHECK(m.options.classes >= 2 && m.options.in_channels >= 1 && m.options.width > 0 &&
                   m.size > 0,
               where, ": model metadata out of range (classes ", m.options.classes,
               ", in_channels ", m.options.in_channels, ", width ", m.options.width, ", size ",
               m.size, ")");
  if (j.contains("normalization")) {
    const json& n = j.at("normalization");
    m.normalization.channels = get<int>(n, "channels", where);
    auto mean = get<std::vector<float>>(n, "mean", where);
    auto std = get<std::vector<float>>(n, "std", where);
    FCNLAB_CHECK(mean.size() == 3 && std.size() == 3, where,
                 ": model metadata normalization.mean/std must hold 3 values each");
    for (int c = 0; c < 3; ++c) {
      m.normalization.mean[c] = mean[c];
      m.normalization.std[c] = std[c];
    }
  }
  m.clahe = get_or<bool>(j, "clahe", false, where);
  m.clahe_clip = get_or<double>(j, "clahe_clip", 2.0, where);
  m.clahe_tiles = get_or<int>(j, "clahe_tiles", 8, where);
  m.threshold = get_or<double>(j, "threshold", 0.5, where);
  m.min_area = get_or<int64_t>(j, "min_area", 0, where);
  m.has_head = get_or<bool>(j, "has_head", false, where);
  m.head_layer = get_or<std::string>(j, "head_layer", "", where);
  m.head_threshold = get_or<double>(j, "head_threshold", 0.5, where);
  FCNLAB_CHECK(!m.has_head || !m.head_layer.empty(), where,
               ": model metadata says has_head but names no head_layer");
  return m;
}

std::string ModelMeta::describe() const {
  std::ostringstream os;
  os << model << " width " << fmt_width(options.width) << " (" << options.classes << " classes, "
     << options.in_channels << " input channel" << (options.in_channels == 1 ? "" : "s") << ")";
  return os.str();
}

void check_same_architecture(const ModelMeta& stored, const ModelMeta& wanted,
                             const std::string& path, bool check_head) {
  std::vector<std::string> diffs;
  if (stored.model != wanted.model) diffs.push_back("model " + stored.model + " vs " + wanted.model);
  if (stored.options.width != wanted.options.width)
    diffs.push_back("width " + fmt_width(stored.options.width) + " vs " +
                    fmt_width(wanted.options.width));
  if (stored.options.classes != wanted.options.classes)
    diffs.push_back("classes " + std::to_string(stored.options.classes) + " vs " +
                    std::to_string(wanted.options.classes));
  if (stored.options.in_channels != wanted.options.in_channels)
    diffs.push_back("in_channels " + std::to_string(stored.options.in_channels) + " vs " +
                    std::to_string(wanted.options.in_channels));
  if (check_head && stored.has_head != wanted.has_head)
    diffs.push_back(std::string("classification head ") + (stored.has_head ? "present" : "absent") +
                    " vs " + (wanted.has_head ? "present" : "absent"));
  if (diffs.empty()) return;
  std::string d;
  for (const auto& s : diffs) d += (d.empty() ? "" : "; ") + s;
  FCNLAB_FAIL(path, ": checkpoint holds ", stored.describe(), " but this run builds ",
              wanted.describe(), " (", d, ")");
}

void save_model_checkpoint(const std::string& path, const Module& net, const Module* head,
                           const Optimizer* optimizer, const ModelMeta& meta, const json& extra) {
  FCNLAB_CHECK((head != nullptr) == meta.has_head, "save_model_checkpoint(", path,
               "): meta.has_head is ", meta.has_head, " but a head was ",
               head ? "given" : "not given");
  Checkpoint ck;
  ck.model = net.state_dict();
  for (const auto& [name, t] : ck.model)
    FCNLAB_CHECK(name.rfind(kHeadPrefix, 0) != 0, "save_model_checkpoint(", path, "): the net has a ",
                 "tensor named '", name, "', which collides with the head's prefix");
  if (head)
    for (const auto& [name, t] : head->state_dict()) ck.model[kHeadPrefix + name] = t;
  ck.meta = extra.is_object() ? extra : json::object();
  ck.meta["model"] = meta.to_json();
  if (optimizer) {
    ck.optimizer = optimizer->state_dict();
    ck.meta["optimizer"] = optimizer->state_json();
  }
  save_checkpoint(path, ck);
}

ModelMeta checkpoint_model_meta(const Checkpoint& ck, const std::string& path) {
  FCNLAB_CHECK(ck.meta.is_object() && ck.meta.contains("model") && ck.meta.at("model").is_object(),
               path, ": not a model checkpoint written by fcnlab-train (its metadata has no ",
               "'model' object; e.g. an fcnlab-toy-train file)");
  return ModelMeta::from_json(ck.meta.at("model"), path);
}

// What load_state_dict(strict) would complain about, without loading anything ("" if it fits).
static std::string fit_problems(const Module& m, const TensorMap& state) {
  LoadReport r;
  const TensorMap mine = m.state_dict();
  for (const auto& [name, dst] : mine) {
    auto it = state.find(name);
    if (it == state.end())
      r.missing.push_back(name);
    else if (!it->second.defined() || it->second.shape() != dst.shape())
      r.mismatched.push_back(name + " expected " + dst.shape().str() + ", got " +
                             (it->second.defined() ? it->second.shape().str() : "undefined"));
  }
  for (const auto& [name, t] : state)
    if (!mine.count(name)) r.unexpected.push_back(name);
  return r.str();
}

void load_model_weights(const Checkpoint& ck, const std::string& path, Module& net, Module* head) {
  TensorMap net_state, head_state;
  for (const auto& [name, t] : ck.model) {
    if (name.rfind(kHeadPrefix, 0) == 0)
      head_state[name.substr(std::char_traits<char>::length(kHeadPrefix))] = t;
    else
      net_state[name] = t;
  }
  // Check both before loading either, so that a failure loads nothing.
  const std::string net_problems = fit_problems(net, net_state);
  FCNLAB_CHECK(net_problems.empty(), path, ": the model weights do not fit the net: ", net_problems);
  if (head) {
    FCNLAB_CHECK(!head_state.empty(), path, ": the checkpoint has no classification head weights");
    const std::string head_problems = fit_problems(*head, head_state);
    FCNLAB_CHECK(head_problems.empty(), path, ": the classification head weights do not fit: ",
                 head_problems);
  }
  net.load_state_dict(net_state, true);
  if (head) head->load_state_dict(head_state, true);
}

}  // namespace fcnlab::train
