// safetensors.cpp — the reader: header validation exactly as the reference reader
// (reference/weights.md §1.3, plus duplicate keys and non-string metadata), then loading into
// fcnlab tensors with memcpy (the file gives no alignment guarantee). The writer is in
// safetensors_write.cpp.
#include "engine/serialize/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

namespace fcnlab {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host needs byte swaps here");

namespace {

struct DTypeInfo {
  StDType type;
  const char* name;
  int bits;
};
constexpr DTypeInfo kDTypes[] = {
    {StDType::BOOL, "BOOL", 8},          {StDType::F4, "F4", 4},
    {StDType::F6_E2M3, "F6_E2M3", 6},    {StDType::F6_E3M2, "F6_E3M2", 6},
    {StDType::U8, "U8", 8},              {StDType::I8, "I8", 8},
    {StDType::F8_E5M2, "F8_E5M2", 8},    {StDType::F8_E4M3, "F8_E4M3", 8},
    {StDType::F8_E8M0, "F8_E8M0", 8},    {StDType::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
    {StDType::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
    {StDType::I16, "I16", 16},           {StDType::U16, "U16", 16},
    {StDType::F16, "F16", 16},           {StDType::BF16, "BF16", 16},
    {StDType::I32, "I32", 32},           {StDType::U32, "U32", 32},
    {StDType::F32, "F32", 32},           {StDType::C64, "C64", 64},
    {StDType::F64, "F64", 64},           {StDType::I64, "I64", 64},
    {StDType::U64, "U64", 64},
};

constexpr uint64_t kMaxHeaderSize = 100000000;  // the reference's MAX_HEADER_SIZE

std::string known_dtype_list() {
  std::string s;
  for (const auto& d : kDTypes) {
    if (!s.empty()) s += ", ";
    s += d.name;
  }
  return s;
}

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string offsets_str(const SafetensorsEntry& e) {
  std::string s = "[";
  s += std::to_string(e.begin);
  s += ", ";
  s += std::to_string(e.end);
  return s + "]";
}

// ---- where the bytes come from: a file (read piece by piece) or a memory buffer ----
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset; throws if the source has fewer.
  virtual void read(uint64_t offset, void* dst, size_t n) = 0;
  std::string where;  // "safetensors file 'x.safetensors'" for messages
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(const void* data, size_t size, const std::string& name)
      : data_(static_cast<const uint8_t*>(data)), size_(size) {
    where = "safetensors buffer '" + name + "'";
  }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t n) override {
    FCNLAB_CHECK(offset <= size_ && n <= size_ - offset, where, ": read of ", n,
                 " bytes at offset ", offset, " is past the end (", size_, " bytes)");
    if (n) std::memcpy(dst, data_ + offset, n);
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) {
    where = "safetensors file '" + path + "'";
    std::error_code ec;
    FCNLAB_CHECK(std::filesystem::exists(path, ec), where, ": no such file");
    FCNLAB_CHECK(std::filesystem::is_regular_file(path, ec), where, ": not a regular file");
    f_ = std::fopen(path.c_str(), "rb");
    FCNLAB_CHECK(f_, where, ": cannot open (", std::strerror(errno), ")");
    FCNLAB_CHECK(fseeko(f_, 0, SEEK_END) == 0, where, ": cannot seek (", std::strerror(errno), ")");
    off_t end = ftello(f_);
    FCNLAB_CHECK(end >= 0, where, ": cannot tell its size (", std::strerror(errno), ")");
    size_ = static_cast<uint64_t>(end);
  }
  ~FileSource() override {
    if (f_) std::fclose(f_);
  }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t n) override {
    if (n == 0) return;
    FCNLAB_CHECK(fseeko(f_, static_cast<off_t>(offset), SEEK_SET) == 0, where,
                 ": cannot seek to offset ", offset, " (", std::strerror(errno), ")");
    size_t got = std::fread(dst, 1, n, f_);
    FCNLAB_CHECK(got == n, where, ": expected ", n, " bytes at offset ", offset, ", read only ",
                 got, " (did the file change while being read?)");
  }

 private:
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0;
};

// Strict UTF-8 (as Rust's from_utf8): no overlong forms, no surrogates, nothing past U+10FFFF.
// Returns the offset of the first bad byte, or npos.
size_t find_invalid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else return i;
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string::npos;
}

// Parses JSON and reports the first key that appears twice in one object (nlohmann would
// silently keep the last one).
nlohmann::json parse_rejecting_duplicates(const std::string& text, const std::string& where) {
  struct Level {
    std::set<std::string> keys;
    std::string name;      // the key this object sits under in its parent ("" for the root)
    std::string last_key;  // the latest key read in this object
  };
  std::vector<Level> stack;
  std::string duplicate;  // message for the first duplicate found
  auto callback = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) {
      stack.push_back({{}, stack.empty() ? "" : stack.back().last_key, ""});
    } else if (ev == E::object_end) {
      if (!stack.empty()) stack.pop_back();
    } else if (ev == E::key && !stack.empty()) {
      Level& lv = stack.back();
      lv.last_key = parsed.get<std::string>();
      if (!lv.keys.insert(lv.last_key).second && duplicate.empty())
        duplicate = stack.size() == 1
                        ? "duplicate tensor name '" + lv.last_key + "' in the header"
                        : "duplicate key '" + lv.last_key + "' inside '" + lv.name + "'";
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::exception& e) {
    FCNLAB_FAIL(where, ": header is not valid JSON (", e.what(), ")");
  }
  FCNLAB_CHECK(duplicate.empty(), where, ": ", duplicate, " (keys must be unique)");
  return j;
}

uint64_t read_u64_le(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

// A non-negative integer field; `what` names it in the message.
std::vector<uint64_t> uint_array(const nlohmann::json& v, const std::string& what) {
  FCNLAB_CHECK(v.is_array(), what, " must be an array of non-negative integers, got ", v.type_name());
  std::vector<uint64_t> out;
  for (const auto& x : v) {
    FCNLAB_CHECK(x.is_number_unsigned(), what, " must be an array of non-negative integers, got ",
                 x.dump());
    out.push_back(x.get<uint64_t>());
  }
  return out;
}

SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& v,
                             const std::string& where) {
  const std::string t = where + ": tensor '" + name + "'";
  FCNLAB_CHECK(v.is_object(), t, ": expected an object {\"dtype\", \"shape\", \"data_offsets\"}, got ",
               v.type_name());
  // Unknown extra fields are allowed, as in the reference (no deny_unknown_fields).
  for (const char* field : {"dtype", "shape", "data_offsets"})
    FCNLAB_CHECK(v.contains(field), t, ": missing field '", field, "'");
  SafetensorsEntry e;
  e.name = name;
  const auto& dt = v.at("dtype");
  FCNLAB_CHECK(dt.is_string(), t, ": field 'dtype' must be a string, got ", dt.type_name());
  FCNLAB_CHECK(st_dtype_from_name(dt.get<std::string>(), &e.dtype), t, ": unknown dtype '",
               dt.get<std::string>(), "' (expected one of ", known_dtype_list(), ")");
  e.shape = uint_array(v.at("shape"), t + ": field 'shape'");
  std::vector<uint64_t> off = uint_array(v.at("data_offsets"), t + ": field 'data_offsets'");
  FCNLAB_CHECK(off.size() == 2, t, ": field 'data_offsets' must be [BEGIN, END], got ",
               off.size(), " numbers");
  e.begin = off[0];
  e.end = off[1];
  return e;
}

// The reference's Metadata::validate: a sorted walk that makes the ranges tile [0, end)
// exactly, and each range hold prod(shape) * bits / 8 bytes. Returns the buffer end.
uint64_t validate_layout(std::vector<SafetensorsEntry>& tensors, const std::string& where) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.name < b.name;
  });
  uint64_t start = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const auto& e : tensors) {
    const std::string t = where + ": tensor '" + e.name + "': invalid data_offsets " + offsets_str(e);
    FCNLAB_CHECK(e.end >= e.begin, t, ": end is before begin (reversed range)");
    if (e.begin != start) {
      if (!prev) FCNLAB_FAIL(t, ": non-zero start, the first tensor must begin at offset 0");
      if (e.begin > start)
        FCNLAB_FAIL(t, ": gap of ", e.begin - start, " bytes after tensor '", prev->name,
                    "' (which ends at ", start, "); tensors must be contiguous");
      FCNLAB_FAIL(t, ": overlapping with tensor '", prev->name, "' (which ends at ", start,
                  "); tensors must not overlap");
    }
    start = e.end;
    prev = &e;

    const std::string ts = where + ": tensor '" + e.name + "'";
    const uint64_t bits = static_cast<uint64_t>(st_dtype_bits(e.dtype));
    uint64_t count = 1;
    for (uint64_t d : e.shape)
      FCNLAB_CHECK(!__builtin_mul_overflow(count, d, &count), ts, ": shape ", shape_str(e.shape),
                   " overflows a 64-bit element count");
    uint64_t nbits = 0;
    FCNLAB_CHECK(!__builtin_mul_overflow(count, bits, &nbits), ts, ": shape ", shape_str(e.shape),
                 " of dtype ", st_dtype_name(e.dtype), " overflows a 64-bit size");
    FCNLAB_CHECK(nbits % 8 == 0, ts, ": shape ", shape_str(e.shape), " of dtype ",
                 st_dtype_name(e.dtype), " is ", nbits, " bits, not a whole number of bytes");
    FCNLAB_CHECK(e.end - e.begin == nbits / 8, ts, ": size does not match shape: data_offsets ",
                 offsets_str(e), " hold ", e.end - e.begin, " bytes, but shape ",
                 shape_str(e.shape), " of dtype ", st_dtype_name(e.dtype), " needs ", nbits / 8,
                 " bytes");
  }
  return start;
}

SafetensorsHeader read_header(ByteSource& src) {
  const std::string& w = src.where;
  const uint64_t size = src.size();
  FCNLAB_CHECK(size >= 8, w, ": too small, ", size,
               " bytes (expected at least the 8-byte header length)");
  uint8_t nb[8];
  src.read(0, nb, 8);
  const uint64_t n = read_u64_le(nb);
  FCNLAB_CHECK(n <= kMaxHeaderSize, w, ": header too large, its length field says ", n,
               " bytes (at most ", kMaxHeaderSize, " allowed)");
  uint64_t header_end = 0;
  FCNLAB_CHECK(!__builtin_add_overflow(uint64_t{8}, n, &header_end) && header_end <= size, w,
               ": header beyond the end of the file: 8 + ", n, " bytes of header, but the file is ",
               size, " bytes");
  std::string text(static_cast<size_t>(n), '\0');
  src.read(8, text.data(), text.size());
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
    FCNLAB_FAIL(w, ": header is not valid UTF-8 (byte ", hex, " at header offset ", bad, ")");
  }
  // JSON never holds a raw NUL; nlohmann would take one as the end of input and ignore the rest.
  const size_t nul = text.find('\0');
  FCNLAB_CHECK(nul == std::string::npos, w, ": header is not valid JSON (NUL byte at header offset ",
               nul, ")");
  const nlohmann::json j = parse_rejecting_duplicates(text, w);
  FCNLAB_CHECK(j.is_object(), w, ": header is not a JSON object (expected {name: {dtype, shape, "
               "data_offsets}, ...}), got ", j.type_name());

  SafetensorsHeader h;
  h.header_bytes = n;
  h.data_start = header_end;
  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;  // the reference reads null as "no metadata"
      FCNLAB_CHECK(value.is_object(), w, ": __metadata__ must be an object of string to string, got ",
                   value.type_name());
      for (const auto& [mk, mv] : value.items()) {
        FCNLAB_CHECK(mv.is_string(), w, ": __metadata__ value of '", mk,
                     "' must be a string, got non-string ", mv.type_name(), " ", mv.dump());
        h.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    h.tensors.push_back(parse_entry(key, value, w));
  }
  const uint64_t buffer_end = validate_layout(h.tensors, w);
  uint64_t file_end = 0;
  const bool overflow = __builtin_add_overflow(header_end, buffer_end, &file_end);
  FCNLAB_CHECK(!overflow && file_end <= size, w, ": truncated, header and tensor data need ",
               overflow ? "more than 2^64" : std::to_string(file_end), " bytes but the file has ",
               size);
  FCNLAB_CHECK(file_end == size, w, ": ", size - file_end,
               " trailing bytes after the last tensor (data ends at byte ", file_end,
               ", the file has ", size, "); the data must end exactly at the end of the file");
  return h;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    float f = std::ldexp(static_cast<float>(mant), -24);
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(f));
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));  // rebias 15 -> 127
}

float bf16_to_float(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// The fcnlab dtype a file dtype loads as, or false if fcnlab cannot hold it.
bool fcnlab_dtype_for(StDType t, DType* out) {
  switch (t) {
    case StDType::F32: case StDType::F16: case StDType::BF16: *out = DType::f32; return true;
    case StDType::F64: *out = DType::f64; return true;
    case StDType::I32: *out = DType::i32; return true;
    case StDType::U8: *out = DType::u8; return true;
    default: return false;
  }
}

SafetensorsContents load_all(ByteSource& src) {
  SafetensorsHeader h = read_header(src);
  const std::string& w = src.where;
  // Check every tensor before reading any data, so an unsupported file fails fast.
  for (const auto& e : h.tensors) {
    DType dt = DType::f32;
    FCNLAB_CHECK(fcnlab_dtype_for(e.dtype, &dt), w, ": tensor '", e.name, "': dtype ",
                 st_dtype_name(e.dtype), " not supported by fcnlab (it loads F32, F64, I32, U8, "
                 "and F16/BF16 converted to f32)");
    FCNLAB_CHECK(e.shape.size() <= static_cast<size_t>(Shape::kMaxDims), w, ": tensor '", e.name,
                 "': shape ", shape_str(e.shape), " has ", e.shape.size(),
                 " dimensions; fcnlab tensors have at most ", Shape::kMaxDims);
    for (uint64_t d : e.shape)
      FCNLAB_CHECK(d <= static_cast<uint64_t>(INT64_MAX), w, ": tensor '", e.name, "': dimension ",
                   d, " is too large");
  }
  SafetensorsContents out;
  out.metadata = std::move(h.metadata);
  for (const auto& e : h.tensors) {
    DType dt = DType::f32;
    fcnlab_dtype_for(e.dtype, &dt);
    std::vector<int64_t> dims(e.shape.begin(), e.shape.end());
    Tensor t = Tensor::empty(Shape(dims), dt, Device::cpu());
    const uint64_t bytes = e.end - e.begin;
    const uint64_t at = h.data_start + e.begin;
    if (e.dtype == StDType::F16 || e.dtype == StDType::BF16) {
      std::vector<uint16_t> raw(static_cast<size_t>(bytes / 2));
      src.read(at, raw.data(), static_cast<size_t>(bytes));
      float* p = t.data<float>();
      const bool half = e.dtype == StDType::F16;
      for (size_t i = 0; i < raw.size(); ++i) p[i] = half ? half_to_float(raw[i]) : bf16_to_float(raw[i]);
    } else {
      src.read(at, t.raw_data(), static_cast<size_t>(bytes));
    }
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace

const char* st_dtype_name(StDType t) { return kDTypes[static_cast<size_t>(t)].name; }
int st_dtype_bits(StDType t) { return kDTypes[static_cast<size_t>(t)].bits; }

bool st_dtype_from_name(const std::string& name, StDType* out) {
  for (const auto& d : kDTypes)
    if (name == d.name) {
      *out = d.type;
      return true;
    }
  return false;
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  FileSource src(path);
  return read_header(src);
}

SafetensorsContents load_safetensors(const std::string& path) {
  FileSource src(path);
  return load_all(src);
}

SafetensorsContents load_safetensors_buffer(const void* data, size_t size, const std::string& source) {
  FCNLAB_CHECK(data || size == 0, "safetensors buffer '", source, "': null data pointer");
  MemorySource src(data, size, source);
  return load_all(src);
}

}  // namespace fcnlab
