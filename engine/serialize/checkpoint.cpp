// checkpoint.cpp — maps a Checkpoint to one safetensors file and back (see checkpoint.h).
#include "engine/serialize/checkpoint.h"

#include "engine/serialize/safetensors.h"

namespace fcnlab {

namespace {

constexpr const char* kModelPrefix = "model/";
constexpr const char* kOptimPrefix = "optim/";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  TensorMap all;
  // Tensor handles only: the data is copied (and brought to the host) while writing.
  for (const auto& [name, t] : ck.model) all.emplace(kModelPrefix + name, t);
  for (const auto& [name, t] : ck.optimizer) all.emplace(kOptimPrefix + name, t);
  std::string meta;
  try {
    meta = ck.meta.dump();
  } catch (const nlohmann::json::exception& e) {
    FCNLAB_FAIL("checkpoint '", path, "': meta cannot be written as JSON (", e.what(), ")");
  }
  const SafetensorsMetadata md = {
      {"format", kCheckpointFormat}, {"version", kCheckpointVersion}, {"meta", meta}};
  save_safetensors(path, all, md);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafetensorsContents c = load_safetensors(path);
  const std::string w = "checkpoint '" + path + "'";
  auto field = [&](const char* key) -> const std::string* {
    auto it = c.metadata.find(key);
    return it == c.metadata.end() ? nullptr : &it->second;
  };
  const std::string* format = field("format");
  FCNLAB_CHECK(format && *format == kCheckpointFormat, w,
               ": a valid safetensors file but not an fcnlab checkpoint (expected __metadata__ "
               "\"format\": \"", kCheckpointFormat, "\", got ",
               format ? "\"" + *format + "\"" : std::string("no \"format\""),
               "); for plain weights use load_safetensors");
  const std::string* version = field("version");
  FCNLAB_CHECK(version && *version == kCheckpointVersion, w, ": checkpoint version ",
               version ? "\"" + *version + "\"" : std::string("missing"),
               ", this fcnlab reads version \"", kCheckpointVersion, "\"");

  Checkpoint ck;
  if (const std::string* meta = field("meta")) {
    try {
      ck.meta = nlohmann::json::parse(*meta);
    } catch (const nlohmann::json::exception& e) {
      FCNLAB_FAIL(w, ": __metadata__ \"meta\" is not valid JSON (", e.what(), ")");
    }
  }
  for (auto& [name, t] : c.tensors) {
    if (starts_with(name, kModelPrefix))
      ck.model.emplace(name.substr(6), std::move(t));
    else if (starts_with(name, kOptimPrefix))
      ck.optimizer.emplace(name.substr(6), std::move(t));
    else
      FCNLAB_FAIL(w, ": tensor '", name, "' is neither under \"model/\" nor \"optim/\"");
  }
  return ck;
}

}  // namespace fcnlab
