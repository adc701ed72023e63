// safetensors reader/writer: round trips of every dtype fcnlab holds, the exact bytes the
// writer produces, a hand-written known-good file (as a Python writer makes it), F16/BF16
// conversion, and one rejection per rule of the reference reader (reference/weights.md §1.3).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>

#include "engine/serialize/safetensors.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

using Bytes = std::vector<uint8_t>;


Bytes u64_le(uint64_t v) {
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

// [N][header][data_len bytes of data 0, 1, 2, ...]: a file made by hand, with the header's
// true length (no padding) unless told otherwise.
Bytes make_file(const std::string& header, size_t data_len) {
  Bytes b;
  b.reserve(8 + header.size() + data_len);  // (growing the 8-byte vector trips a false -Warray-bounds)
  for (uint8_t byte : u64_le(header.size())) b.push_back(byte);
  b.insert(b.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

SafetensorsContents load_bytes(const Bytes& b) { return load_safetensors_buffer(b.data(), b.size(), "test.st"); }

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.device() == b.device() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

// Every dtype fcnlab holds, a scalar, a zero-sized tensor and awkward float values.
TensorMap sample_tensors() {
  TensorMap m;
  const float inf = std::numeric_limits<float>::infinity();
  m["conv1.weight"] = Tensor::from_vector<float>({1.5f, -0.0f, inf, -inf, 3.25e-39f, 7.f}, {1, 2, 3});
  m["conv1.weight"].data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  m["f64"] = Tensor::from_vector<double>({0.1, -1e300, 4.9e-324}, {3});
  m["labels"] = Tensor::from_vector<int32_t>({-2147483647 - 1, 0, 2147483647, -5}, {2, 2});
  m["mask"] = Tensor::from_vector<uint8_t>({0, 1, 255}, {3});
  m["scalar"] = Tensor::from_vector<float>({42.f}, Shape{});
  m["empty"] = Tensor::empty({2, 0}, DType::f32);
  m["empty_u8"] = Tensor::empty({0}, DType::u8);
  m["big5d"] = Tensor::arange(2 * 3 * 2 * 1 * 2, DType::f64).reshape({2, 3, 2, 1, 2});
  return m;
}

void check_same_maps(const TensorMap& got, const TensorMap& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [name, t] : want) {
    INFO("tensor ", name);
    REQUIRE(got.count(name) == 1);
    CHECK(same_bytes(got.at(name), t));
  }
}

}  // namespace

TEST_CASE("safetensors: every fcnlab dtype, a scalar and zero-sized tensors round-trip bit-exactly") {
  TempDir dir;
  const TensorMap m = sample_tensors();
  const SafetensorsMetadata md = {{"epoch", "3"}, {"quote\"and\\slash", "tab\tnewline\n\xc3\xa9"}};
  save_safetensors(dir.file("a.safetensors"), m, md);
  SafetensorsContents c = load_safetensors(dir.file("a.safetensors"));
  check_same_maps(c.tensors, m);
  CHECK(c.metadata == md);
  CHECK(c.tensors.at("scalar").dim() == 0);
  CHECK(c.tensors.at("empty").shape() == Shape{2, 0});

  // The memory-buffer reader sees the same bytes as the file.
  Bytes b = serialize_safetensors(m, md);
  CHECK(b == read_bytes(dir.file("a.safetensors")));
  SafetensorsContents c2 = load_bytes(b);
  check_same_maps(c2.tensors, m);
  CHECK(c2.metadata == md);

  // Only the target exists afterwards (no temp file left behind).
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("safetensors: the bytes of tiny files match the format exactly") {
  // Empty: N = 8, "{}" padded with 6 spaces (the reference's test_empty).
  Bytes empty = serialize_safetensors({});
  Bytes want_empty = u64_le(8);
  for (char ch : std::string("{}      ")) want_empty.push_back(static_cast<uint8_t>(ch));
  CHECK(empty == want_empty);
  CHECK(load_bytes(empty).tensors.empty());

  // One F32 [2] tensor: 54 header bytes + 2 spaces = 56 = 0x38; data 1.0f, 2.0f little-endian.
  TensorMap m;
  m["a"] = Tensor::from_vector<float>({1.f, 2.f}, {2});
  Bytes b = serialize_safetensors(m);
  const Bytes head = {0x38, 0, 0, 0, 0, 0, 0, 0};
  REQUIRE(b.size() == 8 + 56 + 8);
  CHECK(Bytes(b.begin(), b.begin() + 8) == head);
  CHECK(std::string(b.begin() + 8, b.begin() + 64) ==
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ");
  CHECK(Bytes(b.begin() + 64, b.end()) == Bytes{0, 0, 0x80, 0x3F, 0, 0, 0, 0x40});
}

TEST_CASE("safetensors: the writer orders by dtype alignment then name, metadata first, 8-aligned") {
  TensorMap m;
  m["z_u8"] = Tensor::from_vector<uint8_t>({1, 2, 3}, {3});
  m["b_i32"] = Tensor::from_vector<int32_t>({7}, {1});
  m["a_f32"] = Tensor::from_vector<float>({1.f}, Shape{});
  m["c_f32"] = Tensor::from_vector<float>({1.f, 2.f}, {1, 2});
  m["y_f64"] = Tensor::from_vector<double>({1.0}, {1});
  Bytes b = serialize_safetensors(m, {{"k", "v"}});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[static_cast<size_t>(i)];
  CHECK(n % 8 == 0);
  std::string header(b.begin() + 8, b.begin() + 8 + static_cast<long>(n));
  const std::string want =
      "{\"__metadata__\":{\"k\":\"v\"},"
      "\"y_f64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
      "\"a_f32\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
      "\"c_f32\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[12,20]},"
      "\"b_i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[20,24]},"
      "\"z_u8\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[24,27]}}";
  CHECK(header.substr(0, want.size()) == want);
  CHECK(header.size() == (want.size() + 7) / 8 * 8);
  CHECK(header.find_first_not_of(' ', want.size()) == std::string::npos);
  CHECK(b.size() == 8 + n + 27);
}

TEST_CASE("safetensors: a hand-written file laid out as a Python writer makes it loads") {
  // save_file({"weight": [[1,2],[3,4]], "bias": [0.5,-1]}, metadata={"format": "pt"}),
  // written out byte by byte: N = 152 (149 bytes of JSON + 3 spaces), then the two F32 tensors.
  const std::string json =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}   ";
  Bytes file = {0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  file.insert(file.end(), json.begin(), json.end());
  const Bytes data = {0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF,   // bias: 0.5, -1
                      0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40,   // weight: 1, 2
                      0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40};  //         3, 4
  file.insert(file.end(), data.begin(), data.end());
  REQUIRE(json.size() == 152);

  SafetensorsContents c = load_bytes(file);
  CHECK(c.metadata == SafetensorsMetadata{{"format", "pt"}});
  REQUIRE(c.tensors.size() == 2);
  CHECK(c.tensors.at("bias").to_vector() == std::vector<double>{0.5, -1.0});
  CHECK(c.tensors.at("weight").shape() == Shape{2, 2});
  CHECK(c.tensors.at("weight").to_vector() == std::vector<double>{1, 2, 3, 4});
  // And our writer produces exactly these bytes.
  CHECK(serialize_safetensors(c.tensors, c.metadata) == file);

  // Through a real file, reading the header alone too.
  TempDir dir;
  write_bytes(dir.file("py.safetensors"), file);
  SafetensorsHeader h = read_safetensors_header(dir.file("py.safetensors"));
  CHECK(h.header_bytes == 152);
  CHECK(h.data_start == 160);
  REQUIRE(h.tensors.size() == 2);
  CHECK(h.tensors[0].name == "bias");
  CHECK(h.tensors[1].end == 24);
  CHECK(load_safetensors(dir.file("py.safetensors")).tensors.at("weight").at({1, 0}) == 3.0);
}

TEST_CASE("safetensors: other writers' headers — unpadded, whitespace around, extra fields, null metadata") {
  // Unpadded header and a data start that is not 8-aligned: memcpy, no alignment assumption.
  Bytes a = make_file("{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 0);
  const double v = -2.75;
  const auto* vp = reinterpret_cast<const uint8_t*>(&v);
  a.insert(a.end(), vp, vp + 8);
  CHECK(load_bytes(a).tensors.at("x").item() == -2.75);
  // Leading whitespace (page-aligning writers), an unknown field, "__metadata__": null.
  Bytes b = make_file("\n\t {\"__metadata__\":null,\"x\":{\"dtype\":\"U8\",\"shape\":[2],"
                      "\"data_offsets\":[0,2],\"extra\":{\"ok\":1}}}\r\n  ",
                      2);
  SafetensorsContents c = load_bytes(b);
  CHECK(c.metadata.empty());
  CHECK(c.tensors.at("x").to_vector() == std::vector<double>{0, 1});
}

TEST_CASE("safetensors: F16 and BF16 load converted to f32") {
  // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), +inf, -0, 0x3555 = 0.333251953125.
  // BF16: 1, -3, 3.140625.
  Bytes f = make_file("{\"h\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[0,14]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[14,20]}}",
                      0);
  const Bytes data = {0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x7C,
                      0x00, 0x80, 0x55, 0x35, 0x80, 0x3F, 0x40, 0xC0, 0x49, 0x40};
  f.insert(f.end(), data.begin(), data.end());
  SafetensorsContents c = load_bytes(f);
  const Tensor& h = c.tensors.at("h");
  CHECK(h.dtype() == DType::f32);
  std::vector<double> hv = h.to_vector();
  CHECK(hv[0] == 1.0);
  CHECK(hv[1] == -2.0);
  CHECK(hv[2] == 65504.0);
  CHECK(hv[3] == std::ldexp(1.0, -24));
  CHECK(std::isinf(hv[4]));
  CHECK(hv[4] > 0);
  CHECK(hv[5] == 0.0);
  CHECK(std::signbit(hv[5]));
  CHECK(hv[6] == 0.333251953125);
  CHECK(c.tensors.at("b").to_vector() == std::vector<double>{1.0, -3.0, 3.140625});
  // F16 NaN stays NaN.
  Bytes n = make_file("{\"n\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]}}", 0);
  n.push_back(0x00);
  n.push_back(0x7E);
  CHECK(std::isnan(load_bytes(n).tensors.at("n").item()));
}

TEST_CASE("safetensors: known dtypes fcnlab cannot hold give a clear error, the header still reads") {
  TempDir dir;
  Bytes f = make_file("{\"flags\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
  CHECK_THROWS_WITH_AS(load_bytes(f), doctest::Contains("dtype BOOL not supported by fcnlab"), Error);
  Bytes g = make_file("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
  CHECK_THROWS_WITH_AS(load_bytes(g), doctest::Contains("tensor 'w': dtype I64 not supported by fcnlab"),
                       Error);
  write_bytes(dir.file("bool.safetensors"), f);
  SafetensorsHeader h = read_safetensors_header(dir.file("bool.safetensors"));
  REQUIRE(h.tensors.size() == 1);
  CHECK(h.tensors[0].dtype == StDType::BOOL);
  // Every name of the format is known, with its size in bits.
  StDType t;
  for (const char* name : {"BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
                           "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
                           "I32", "U32", "F32", "C64", "F64", "I64", "U64"}) {
    INFO(name);
    REQUIRE(st_dtype_from_name(name, &t));
    CHECK(std::string(st_dtype_name(t)) == name);
  }
  CHECK_FALSE(st_dtype_from_name("F33", &t));
  CHECK(st_dtype_bits(StDType::F4) == 4);
  CHECK(st_dtype_bits(StDType::F6_E3M2) == 6);
  CHECK(st_dtype_bits(StDType::C64) == 64);
  // A 6-d tensor is valid safetensors but more than fcnlab's 5 dimensions.
  Bytes six = make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1);
  CHECK_THROWS_WITH_AS(load_bytes(six), doctest::Contains("at most 5"), Error);
}

TEST_CASE("safetensors: the writer rejects what it cannot write") {
  TempDir dir;
  TensorMap bad;
  bad["__metadata__"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(serialize_safetensors(bad), doctest::Contains("__metadata__"), Error);
  TensorMap undef;
  undef["w"] = Tensor();
  CHECK_THROWS_WITH_AS(save_safetensors(dir.file("u.safetensors"), undef),
                       doctest::Contains("tensor 'w' is undefined"), Error);
  CHECK_FALSE(fs::exists(dir.file("u.safetensors")));
  CHECK(fs::is_empty(dir.path()));
  TensorMap badname;
  badname[std::string("bad\xff")] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(serialize_safetensors(badname), doctest::Contains("not valid UTF-8"), Error);
}
