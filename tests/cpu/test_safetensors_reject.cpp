// safetensors reader: each malformed file is rejected, and the message names the source, the
// tensor or field, and what was wrong (one case per rule of reference/weights.md §1.3, plus
// duplicate keys and non-string metadata, which the reference leaves to the reader).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/serialize/safetensors.h"

using namespace fcnlab;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes u64_le(uint64_t v) {
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

// A length field n, then spaces up to `total` bytes.
Bytes length_then_spaces(uint64_t n, size_t total) {
  Bytes b(total, ' ');
  for (size_t i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
  return b;
}

// [N = header size][header][data_len zero bytes]
Bytes make_file(const std::string& header, size_t data_len) {
  Bytes b;
  b.reserve(8 + header.size() + data_len);
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  for (char c : header) b.push_back(static_cast<uint8_t>(c));
  b.resize(b.size() + data_len, 0);
  return b;
}

// "{e1,e2,...}"
std::string obj(std::initializer_list<std::string> entries) {
  std::string s = "{";
  for (const auto& e : entries) {
    if (s.size() > 1) s += ',';
    s += e;
  }
  s += '}';
  return s;
}

// The message of the Error that loading these bytes throws ("" if it loads).
std::string error_of(const Bytes& b) {
  try {
    load_safetensors_buffer(b.data(), b.size(), "bad.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t begin, uint64_t end) {
  std::string s = "\"";
  s += name;
  s += "\":{\"dtype\":\"";
  s += dtype;
  s += "\",\"shape\":";
  s += shape;
  s += ",\"data_offsets\":[";
  s += std::to_string(begin);
  s += ',';
  s += std::to_string(end);
  s += "]}";
  return s;
}

// Checks that the message names the source and contains each phrase.
#define CHECK_REJECTED(bytes, ...)                                   \
  do {                                                               \
    const std::string msg_ = error_of(bytes);                        \
    INFO("message: ", msg_);                                         \
    CHECK(msg_.find("'bad.safetensors'") != std::string::npos);     \
    for (const char* phrase_ : {__VA_ARGS__})                        \
      CHECK(msg_.find(phrase_) != std::string::npos);                \
  } while (0)

}  // namespace

TEST_CASE("safetensors rejects: too small, header too large, header beyond the file") {
  CHECK_REJECTED(Bytes{}, "too small", "0 bytes");
  CHECK_REJECTED(Bytes(7, 0), "too small", "7 bytes");
  const Bytes large = length_then_spaces(100000001, 64);
  CHECK_REJECTED(large, "header too large", "100000001", "100000000");
  CHECK_REJECTED(u64_le(~uint64_t{0}), "header too large");
  const Bytes beyond = length_then_spaces(100, 28);
  CHECK_REJECTED(beyond, "header beyond the end of the file", "100", "28 bytes");
  // N = 100000000 exactly is allowed by the size rule, so it fails only for lack of bytes.
  CHECK_REJECTED(u64_le(100000000), "header beyond the end of the file");
}

TEST_CASE("safetensors rejects: invalid UTF-8, invalid JSON, not an object, wrong shapes") {
  // 0xC0 0xAF is an overlong '/', 0xED 0xA0 0x80 a surrogate: both invalid UTF-8.
  CHECK_REJECTED(make_file("{\"a\xC0\xAF\":{}}", 0), "not valid UTF-8", "0xC0", "offset 3");
  CHECK_REJECTED(make_file("{\"\xED\xA0\x80\":1}", 0), "not valid UTF-8");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",", 0), "not valid JSON");
  CHECK_REJECTED(make_file(std::string("{}\0", 3), 0), "not valid JSON");
  CHECK_REJECTED(make_file("[1, 2]", 0), "not a JSON object", "array");
  CHECK_REJECTED(make_file("\"x\"  ", 0), "not a JSON object", "string");
  CHECK_REJECTED(make_file("{\"a\":[0,4]}", 4), "tensor 'a'", "expected an object");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'a'",
                 "missing field 'data_offsets'");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                 "field 'dtype' must be a string");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                 "tensor 'a'", "field 'shape'", "non-negative integers");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4),
                 "field 'shape'");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,2,4]}}", 4),
                 "field 'data_offsets' must be [BEGIN, END]");
}

TEST_CASE("safetensors rejects: unknown dtype") {
  CHECK_REJECTED(make_file(obj({entry("w", "F33", "[1]", 0, 4)}), 4), "tensor 'w'",
                 "unknown dtype 'F33'", "expected one of BOOL");
  CHECK_REJECTED(make_file(obj({entry("w", "f32", "[1]", 0, 4)}), 4), "unknown dtype 'f32'");
}

TEST_CASE("safetensors rejects offsets: gap, overlap, non-zero start, reversed") {
  const std::string a = entry("a", "F32", "[4]", 0, 16);
  CHECK_REJECTED(make_file(obj({a, entry("b", "F32", "[4]", 20, 36)}), 36),
                 "tensor 'b'", "invalid data_offsets [20, 36]", "gap of 4 bytes", "'a'");
  CHECK_REJECTED(make_file(obj({a, entry("b", "F32", "[4]", 8, 24)}), 24),
                 "tensor 'b'", "invalid data_offsets [8, 24]", "overlapping with tensor 'a'");
  CHECK_REJECTED(make_file(obj({entry("a", "F32", "[4]", 8, 24)}), 24), "tensor 'a'",
                 "non-zero start");
  CHECK_REJECTED(make_file(obj({a, entry("b", "F32", "[0]", 16, 8)}), 16),
                 "tensor 'b'", "reversed");
  // The reference's test_json_attack: many tensors all at [0, 16].
  std::vector<std::string> all;
  for (int i = 0; i < 10; ++i) {
    std::string name = "t";
    name += std::to_string(i);
    all.push_back(entry(name, "F32", "[4]", 0, 16));
  }
  CHECK_REJECTED(make_file(obj({all[0], all[1], all[2], all[3], all[4], all[5], all[6], all[7],
                                all[8], all[9]}),
                           16),
                 "invalid data_offsets [0, 16]", "overlapping");
}

TEST_CASE("safetensors rejects: size not matching shape, sub-byte sizes, overflow") {
  CHECK_REJECTED(make_file(obj({entry("w", "F32", "[2,2]", 0, 12)}), 12), "tensor 'w'",
                 "size does not match shape", "hold 12 bytes", "needs 16");
  CHECK_REJECTED(make_file(obj({entry("w", "F4", "[3]", 0, 1)}), 1), "tensor 'w'",
                 "not a whole number of bytes");
  CHECK_REJECTED(make_file(obj({entry("w", "F32", "[4294967296,4294967296]", 0, 4)}), 4),
                 "tensor 'w'", "overflows");
  CHECK_REJECTED(make_file(obj({entry("w", "F64", "[4611686018427387904]", 0, 4)}), 4),
                 "tensor 'w'", "overflows a 64-bit size");
  // A zero-sized tensor must have an empty range.
  CHECK_REJECTED(make_file(obj({entry("w", "F32", "[2,0]", 0, 4)}), 4), "size does not match");
}

TEST_CASE("safetensors rejects: trailing bytes and truncation") {
  const std::string h = obj({entry("w", "F32", "[2]", 0, 8)});
  CHECK(error_of(make_file(h, 8)).empty());
  CHECK_REJECTED(make_file(h, 9), "1 trailing bytes", "must end exactly at the end of the file");
  CHECK_REJECTED(make_file(h, 7), "truncated", "need ");
  CHECK_REJECTED(make_file(h, 0), "truncated");
  // The file path variant names the path too.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("fcnlab_trunc_" + std::to_string(::getpid()))).string();
  {
    const Bytes b = make_file(h, 5);
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  std::string want = "safetensors file '";
  want += path;
  want += "': truncated";
  CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(want.c_str()), Error);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains("no such file"), Error);
  CHECK_THROWS_WITH_AS(load_safetensors(std::filesystem::temp_directory_path().string()),
                       doctest::Contains("not a regular file"), Error);
}

TEST_CASE("safetensors rejects: duplicate names and keys") {
  const std::string a = entry("a", "F32", "[1]", 0, 4);
  CHECK_REJECTED(make_file(obj({a, entry("a", "F32", "[1]", 4, 8)}), 8),
                 "duplicate tensor name 'a'");
  CHECK_REJECTED(make_file("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
                 "duplicate tensor name '__metadata__'");
  CHECK_REJECTED(make_file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
                 "duplicate key 'k' inside '__metadata__'");
  CHECK_REJECTED(make_file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"U8\",\"shape\":[1],"
                           "\"data_offsets\":[0,4]}}", 4),
                 "duplicate key 'dtype' inside 'a'");
}

TEST_CASE("safetensors rejects: non-string metadata") {
  CHECK_REJECTED(make_file("{\"__metadata__\":{\"epoch\":3}}", 0), "__metadata__ value of 'epoch'",
                 "must be a string", "number");
  CHECK_REJECTED(make_file("{\"__metadata__\":{\"cfg\":{\"lr\":\"0.1\"}}}", 0),
                 "__metadata__ value of 'cfg'", "must be a string");
  CHECK_REJECTED(make_file("{\"__metadata__\":[\"a\"]}", 0), "__metadata__ must be an object");
  CHECK(error_of(make_file("{\"__metadata__\":{\"epoch\":\"3\"}}", 0)).empty());
}
