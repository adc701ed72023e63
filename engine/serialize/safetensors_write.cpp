// safetensors_write.cpp — the writer, byte-compatible with the reference writer
// (reference/weights.md §1.2): tensors sorted by dtype alignment descending then name,
// offsets contiguous from 0, compact JSON with __metadata__ first and fields in the order
// dtype, shape, data_offsets, the header padded with spaces to a multiple of 8.
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/serialize/atomic_file.h"
#include "engine/serialize/safetensors.h"

namespace fcnlab {

namespace {

constexpr uint64_t kMaxHeaderSize = 100000000;  // what readers accept

StDType st_dtype_of(DType t) {
  switch (t) {
    case DType::f32: return StDType::F32;
    case DType::f64: return StDType::F64;
    case DType::i32: return StDType::I32;
    case DType::u8: return StDType::U8;
  }
  FCNLAB_FAIL("safetensors: unknown fcnlab dtype");
}

// A JSON string literal; names and metadata must be valid UTF-8.
std::string json_string(const std::string& s, const char* what) {
  try {
    return nlohmann::json(s).dump();
  } catch (const nlohmann::json::exception&) {
    FCNLAB_FAIL("safetensors: ", what, " is not valid UTF-8");
  }
}

struct Planned {
  const std::string* name;
  const Tensor* tensor;
  StDType dtype;
  uint64_t begin, end;
};

// Orders the tensors as the reference writer does and assigns their offsets.
std::vector<Planned> plan(const TensorMap& tensors) {
  std::vector<Planned> out;
  for (const auto& [name, t] : tensors) {
    FCNLAB_CHECK(name != "__metadata__", "safetensors: a tensor cannot be named '__metadata__'");
    FCNLAB_CHECK(t.defined(), "safetensors: tensor '", name, "' is undefined");
    out.push_back({&name, &t, st_dtype_of(t.dtype()), 0, 0});
  }
  // The dtype enum is declared in increasing alignment; larger first, then by name.
  std::stable_sort(out.begin(), out.end(), [](const Planned& a, const Planned& b) {
    if (a.dtype != b.dtype) return a.dtype > b.dtype;
    return *a.name < *b.name;
  });
  uint64_t offset = 0;
  for (auto& p : out) {
    p.begin = offset;
    offset += p.tensor->nbytes();
    p.end = offset;
  }
  return out;
}

// The header text, already padded with spaces to a multiple of 8 bytes.
std::string header_json(const std::vector<Planned>& planned, const SafetensorsMetadata& metadata) {
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) h += ',';
      first = false;
      h += json_string(k, ("metadata key '" + k + "'").c_str());
      h += ':';
      h += json_string(v, ("metadata value of '" + k + "'").c_str());
    }
    h += '}';
  }
  for (const auto& p : planned) {
    if (h.size() > 1) h += ',';
    h += json_string(*p.name, ("tensor name '" + *p.name + "'").c_str());
    h += ":{\"dtype\":\"";
    h += st_dtype_name(p.dtype);
    h += "\",\"shape\":[";
    const Shape& s = p.tensor->shape();
    for (int i = 0; i < s.ndim(); ++i) {
      if (i) h += ',';
      h += std::to_string(s[i]);
    }
    h += "],\"data_offsets\":[" + std::to_string(p.begin) + "," + std::to_string(p.end) + "]}";
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');  // the data then starts 8-aligned in the file
  FCNLAB_CHECK(h.size() <= kMaxHeaderSize, "safetensors: header of ", h.size(),
               " bytes exceeds the format's limit of ", kMaxHeaderSize);
  return h;
}

using Sink = std::function<void(const void*, size_t)>;

void emit(const TensorMap& tensors, const SafetensorsMetadata& metadata, const Sink& sink) {
  const std::vector<Planned> planned = plan(tensors);
  const std::string header = header_json(planned, metadata);
  uint8_t n[8];
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) n[i] = static_cast<uint8_t>(len >> (8 * i));
  sink(n, 8);
  sink(header.data(), header.size());
  for (const auto& p : planned) {
    // One tensor at a time, so a CUDA model never needs a full second copy in host memory.
    const Tensor cpu = p.tensor->to(Device::cpu());
    sink(cpu.raw_data(), cpu.nbytes());
  }
}

}  // namespace

std::vector<uint8_t> serialize_safetensors(const TensorMap& tensors,
                                           const SafetensorsMetadata& metadata) {
  std::vector<uint8_t> out;
  emit(tensors, metadata, [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const SafetensorsMetadata& metadata) {
  // Plan first: a bad name or dtype fails before any file is created.
  header_json(plan(tensors), metadata);
  write_file_atomic(path, [&](AtomicFile& f) {
    emit(tensors, metadata, [&](const void* p, size_t n) { f.write(p, n); });
  });
}

}  // namespace fcnlab
