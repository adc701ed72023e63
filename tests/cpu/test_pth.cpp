// PyTorch .pth import: both containers against torch's own values (tests/fixtures/pth, written by
// make_fixtures.py with python3-torch 1.13), the unpickler's allow-list and limits, truncated /
// corrupt / foreign files, and SHA-256 (FIPS 180-4 vectors and fixture files vs Python hashlib).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/serialize/pth.h"
#include "engine/serialize/sha256.h"
#include "engine/serialize/unpickler.h"
#include "engine/serialize/zip_reader.h"

using namespace fcnlab;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(FCNLAB_SOURCE_DIR) + "/tests/fixtures/pth/";

const nlohmann::json& expected() {
  static const nlohmann::json j = [] {
    std::ifstream f(kDir + "expected.json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
  }();
  return j;
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), {}};
}

// A scratch file under the build tree, removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((fs::path(FCNLAB_BINARY_DIR) / ("test_pth_" + name)).string()) {}
  void write(const uint8_t* p, size_t n) const {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::string error_of(const std::string& path) {
  try {
    load_pth(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Every expected tensor present with the right dtype, shape and bit-exact values, and nothing else.
void check_group(const TensorMap& got, const nlohmann::json& group, const std::string& prefix = "") {
  size_t n = 0;
  for (auto it = got.begin(); it != got.end(); ++it)
    if (it->first.rfind(prefix, 0) == 0) ++n;
  CHECK(n == group.size());
  for (const auto& [key, e] : group.items()) {
    const std::string name = prefix + key;
    INFO("tensor ", name);
    auto it = got.find(name);
    REQUIRE(it != got.end());
    const Tensor& t = it->second;
    CHECK(std::string(dtype_name(t.dtype())) == e["dtype"].get<std::string>());
    CHECK(t.shape().vec() == e["shape"].get<std::vector<int64_t>>());
    const auto& values = e["values"];
    REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
    int64_t bad = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const auto& v = values[static_cast<size_t>(i)];
      bool ok = false;
      switch (t.dtype()) {
        case DType::f32: {
          uint32_t bits;
          std::memcpy(&bits, t.data<float>() + i, 4);
          ok = bits == std::stoul(v.get<std::string>(), nullptr, 16);
          break;
        }
        case DType::f64: {
          uint64_t bits;
          std::memcpy(&bits, t.data<double>() + i, 8);
          ok = bits == std::stoull(v.get<std::string>(), nullptr, 16);
          break;
        }
        case DType::i32: ok = t.data<int32_t>()[i] == v.get<int64_t>(); break;
        case DType::u8: ok = t.data<uint8_t>()[i] == v.get<int64_t>(); break;
      }
      bad += !ok;
    }
    CHECK(bad == 0);
  }
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 vectors, in one piece and in odd chunks") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(sha256_hex(two_blocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  Sha256 h;  // chunk sizes that straddle the 64-byte block and the 56-byte padding boundary
  for (size_t pos = 0, step = 1; pos < million.size(); pos += step, step = step % 97 + 1)
    h.update(million.data() + pos, std::min(step, million.size() - pos));
  CHECK(h.finish_hex() == sha256_hex(million));
}

TEST_CASE("sha256_file and verify_file agree with Python's hashlib on the fixtures") {
  for (const auto& [name, sha] : expected()["sha256"].items()) {
    INFO(name);
    CHECK(sha256_file(kDir + name) == sha.get<std::string>());
    int64_t size = static_cast<int64_t>(fs::file_size(kDir + name));
    CHECK_NOTHROW(verify_file(kDir + name, size, sha.get<std::string>()));
    CHECK_THROWS_WITH_AS(verify_file(kDir + name, size + 1, sha.get<std::string>()),
                         doctest::Contains("bytes, expected"), Error);
    CHECK_THROWS_WITH_AS(verify_file(kDir + name, size, std::string(64, '0')),
                         doctest::Contains((name + "' has SHA-256 " + sha.get<std::string>()).c_str()), Error);
  }
  CHECK_THROWS_WITH_AS(sha256_file(kDir + "no_such_file"), doctest::Contains("cannot open"), Error);
}

TEST_CASE("pth: every container and tensor encoding loads torch's values bit-exact") {
  // zip (v2 tensors), torch's legacy writer (v2), legacy with _rebuild_tensor (the
  // vgg16-397923af.pth encoding), legacy 0.1.x FloatTensor+BUILD, Parameters, pickle protocol 4,
  // and a zip re-packed by Python's zipfile (no alignment padding, no data descriptors).
  const std::pair<const char*, PthFormat> files[] = {
      {"small_zip.pt", PthFormat::zip},        {"small_legacy.pt", PthFormat::legacy},
      {"small_legacy_v1.pt", PthFormat::legacy}, {"small_legacy_build.pt", PthFormat::legacy},
      {"params_zip.pt", PthFormat::zip},       {"proto4_zip.pt", PthFormat::zip},
      {"rezip_stored.zip", PthFormat::zip}};
  for (const auto& [name, format] : files) {
    INFO("file ", name);
    PthFile f = read_pth(kDir + name);
    CHECK(f.format == format);
    CHECK(f.skipped.empty());
    check_group(f.tensors, expected()["small"]);
  }
}

TEST_CASE("pth: the fixture really covers strides, shared storages, offsets and conversions") {
  const auto& e = expected()["small"];
  CHECK(e["fc_t.weight"]["stride"] == nlohmann::json::array({1, 5}));  // transposed view
  CHECK(e["row.expanded"]["stride"] == nlohmann::json::array({0, 1}));  // broadcast view
  CHECK(e["shared.a"]["storage_offset"] == 2);
  CHECK(e["shared.b"]["storage_offset"] == 10);
  CHECK(e["half.f16"]["torch_dtype"] == "torch.float16");
  CHECK(e["brain.bf16"]["torch_dtype"] == "torch.bfloat16");
  CHECK(e["bn.num_batches_tracked"]["shape"].empty());  // 0-d int64
  TensorMap m = load_pth(kDir + "small_zip.pt");
  CHECK(m.at("fc_t.weight").shape() == Shape{5, 3});
  CHECK(m.at("shared.b").at({1, 0}) == 15 * 0.25 - 1.0);  // element 10 + 5 of arange*0.25-1
  CHECK(m.at("ids.i64").dtype() == DType::i32);
  CHECK(m.at("ids.i64").to_vector() == std::vector<double>{-2147483648.0, -3, 0, 2147483647.0});
  CHECK(m.at("half.f16").to_vector()[2] == 65504.0);
  CHECK(m.at("mask.bool").dtype() == DType::u8);
  CHECK(m.at("empty.w").shape() == Shape{0, 3});
  CHECK(m.at("five.d").dim() == 5);
}

TEST_CASE("pth: real nn.Module state_dicts (_metadata BUILD, num_batches_tracked) in both containers") {
  for (const char* name : {"module_zip.pt", "module_legacy.pt"}) {
    INFO("file ", name);
    TensorMap m = load_pth(kDir + name);
    check_group(m, expected()["module"]);
    CHECK(m.at("1.num_batches_tracked").item() == 5.0);
  }
}

TEST_CASE("pth: a checkpoint's nested dict is flattened with dots and metadata is skipped") {
  PthFile f = read_pth(kDir + "checkpoint_zip.pt");
  check_group(f.tensors, expected()["small"], "model.");
  CHECK(f.tensors.size() == expected()["small"].size());
  std::sort(f.skipped.begin(), f.skipped.end());
  CHECK(f.skipped == std::vector<std::string>{"best", "epoch", "lr", "note"});
}

TEST_CASE("pth: globals outside the allow-list are rejected by name") {
  std::string sys = error_of(kDir + "evil_system.pt");
  CHECK(sys.find("evil_system.pt") != std::string::npos);
  CHECK(sys.find("global 'posix.system' is not allowed") != std::string::npos);
  std::string mod = error_of(kDir + "evil_module.pt");
  CHECK(mod.find("global 'torch.nn.modules.linear.Linear' is not allowed") != std::string::npos);
  CHECK(mod.find("model.state_dict()") != std::string::npos);
}

TEST_CASE("pth: unsupported but recognised files get a clear error naming the file") {
  std::string big = error_of(kDir + "big_int64.pt");
  CHECK(big.find("big_int64.pt") != std::string::npos);
  CHECK(big.find("tensor 'steps' (int64): value 1099511627776 at flat index 1 does not fit") !=
        std::string::npos);
  CHECK(error_of(kDir + "expanded_huge.pt").find("tensor 'huge' has 8589934592 elements, more than "
                                                 "its storage") != std::string::npos);
  CHECK(error_of(kDir + "torchscript_zip.pt").find("TorchScript archive") != std::string::npos);
  std::string deflated = error_of(kDir + "rezip_deflated.zip");
  CHECK(deflated.find("rezip_deflated.zip") != std::string::npos);
  CHECK(deflated.find("is compressed (method 8, deflate)") != std::string::npos);
}

TEST_CASE("pth: not-a-pth, empty, missing and safetensors-looking files are rejected clearly") {
  TempFile text("text.pth");
  const std::string hello = "hello, this is not a checkpoint\n";
  text.write(reinterpret_cast<const uint8_t*>(hello.data()), hello.size());
  std::string e = error_of(text.path);
  CHECK(e.find("load_pth('" + text.path + "'): not a PyTorch file: it starts with 68 65 6c 6c") !=
        std::string::npos);
  TempFile empty("empty.pth");
  empty.write(nullptr, 0);
  CHECK(error_of(empty.path).find("file is empty") != std::string::npos);
  CHECK(error_of(kDir + "missing.pth").find("cannot open") != std::string::npos);
  CHECK(error_of(kDir).find("is a directory") != std::string::npos);
  TempFile st("fake.safetensors");
  const uint8_t sf[] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
  st.write(sf, sizeof sf);
  CHECK(error_of(st.path).find("looks like a safetensors file") != std::string::npos);
}

std::string error_of_bytes(const std::string& name, std::vector<uint8_t> bytes) {
  try {
    read_pth_bytes(name, std::move(bytes));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("pth: every truncation of a zip and of legacy streams is an error naming the file") {
  for (const char* name : {"small_zip.pt", "small_legacy.pt", "small_legacy_v1.pt"}) {
    INFO("file ", name);
    std::vector<uint8_t> bytes = slurp(kDir + name);
    int64_t missed = 0;  // every prefix, in memory
    for (size_t len = 0; len < bytes.size(); ++len) {
      std::string e = error_of_bytes(name, {bytes.begin(), bytes.begin() + static_cast<long>(len)});
      missed += e.find(std::string("load_pth('") + name + "')") == std::string::npos;
    }
    CHECK(missed == 0);
    // And through a real file, cut inside the last storage / the central directory.
    TempFile cut(std::string("cut_") + name);
    cut.write(bytes.data(), bytes.size() - 30);
    std::string e = error_of(cut.path);
    CHECK(e.find("load_pth('" + cut.path + "')") != std::string::npos);
    CHECK(e.find("truncated") != std::string::npos);
  }
}

TEST_CASE("pth: single-byte corruption anywhere either loads or throws Error, never crashes") {
  for (const char* name : {"small_zip.pt", "small_legacy.pt", "small_legacy_v1.pt"}) {
    std::vector<uint8_t> bytes = slurp(kDir + name);
    int64_t errors = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::vector<uint8_t> b = bytes;
      b[i] ^= (i % 3 == 0 ? 0xff : i % 3 == 1 ? 0x01 : 0x80);
      errors += !error_of_bytes(name, std::move(b)).empty();
    }
    INFO("file ", name, ": ", errors, " of ", bytes.size(), " corruptions were errors");
    CHECK(errors > 0);
  }
}

TEST_CASE("zip reader: torch's layout with 64-byte aligned records found via the local headers") {
  ZipReader z(kDir + "small_zip.pt");
  REQUIRE(z.find("archive/data.pkl"));
  REQUIRE(z.find("archive/version"));
  std::vector<uint8_t> v = z.read(*z.find("archive/version"));
  CHECK(std::string(v.begin(), v.end()) == "3\n");
  for (const ZipEntry& e : z.entries()) {
    INFO(e.name);
    CHECK(e.method == 0);
    CHECK(z.data_offset(e) % 64 == 0);
  }
  CHECK(!z.find("archive/constants.pkl"));
}

namespace {
pickle::Result unpickle_bytes(std::initializer_list<uint8_t> b) {
  std::vector<uint8_t> v(b);
  return pickle::unpickle(v.data(), v.size(), "test pickle");
}
std::string unpickle_error(std::initializer_list<uint8_t> b) {
  try {
    unpickle_bytes(b);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("unpickler: integers, strings, memo and containers follow Python's semantics") {
  // PROTO 2, MARK, BININT1 255, BININT2 65535, BININT -2, LONG1 (5 bytes = 2^31), LONG1 (1 byte = -1),
  // TUPLE, BINPUT 0, BINGET 0, TUPLE2, STOP
  auto r = unpickle_bytes({0x80, 2, '(', 'K', 0xff, 'M', 0xff, 0xff, 'J', 0xfe, 0xff, 0xff, 0xff,
                           0x8a, 5, 0, 0, 0, 0x80, 0, 0x8a, 1, 0xff, 't', 'q', 0, 'h', 0, 0x86, '.'});
  REQUIRE(r.value->kind == pickle::Kind::tuple);
  REQUIRE(r.value->items.size() == 2);
  CHECK(r.value->items[0] == r.value->items[1]);  // the memo aliases, it does not copy
  const auto& t = r.value->items[0]->items;
  REQUIRE(t.size() == 5);
  CHECK(t[0]->i == 255);
  CHECK(t[1]->i == 65535);
  CHECK(t[2]->i == -2);
  CHECK(t[3]->i == (int64_t{1} << 31));
  CHECK(t[4]->i == -1);
  CHECK(r.consumed == 30);
  // EMPTY_DICT, BINUNICODE "k", BINFLOAT 0.5 (big-endian), SETITEM, STOP
  auto d = unpickle_bytes({'}', 'X', 1, 0, 0, 0, 'k', 'G', 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 's', '.'});
  REQUIRE(d.value->pairs.size() == 1);
  CHECK(d.value->pairs[0].first->s == "k");
  CHECK(d.value->pairs[0].second->f == 0.5);
}

TEST_CASE("unpickler: unknown opcodes, globals, underflow, cycles and truncation are errors") {
  CHECK(unpickle_error({0x80, 2, 'I', '1', '\n', '.'}).find("unsupported pickle opcode 0x49 'I'") !=
        std::string::npos);
  CHECK(unpickle_error({'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'})
            .find("global 'os.system' is not allowed") != std::string::npos);
  CHECK(unpickle_error({'t', '.'}).find("needs a MARK") != std::string::npos);
  CHECK(unpickle_error({'(', '.'}).find("stack underflow") != std::string::npos);
  CHECK(unpickle_error({'h', 3, '.'}).find("memo entry 3 read before it was written") !=
        std::string::npos);
  CHECK(unpickle_error({0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}).find("does not fit 64 bits") !=
        std::string::npos);
  // d = {}; d['k'] = [d]  -> the dict is frozen inside the list, so no cycle can be made
  CHECK(unpickle_error({'}', 'q', 0, 'X', 1, 0, 0, 0, 'k', ']', 'h', 0, 'a', 's', '.'})
            .find("already inside another container") != std::string::npos);
  // 40 nested 1-tuples exceed the depth limit
  std::vector<uint8_t> deep = {')'};
  for (int i = 0; i < 40; ++i) deep.push_back(0x85);
  deep.push_back('.');
  CHECK_THROWS_WITH_AS(pickle::unpickle(deep.data(), deep.size(), "deep"),
                       doctest::Contains("nested deeper than"), Error);
  CHECK(unpickle_error({'c', 't', 'o', 'r', 'c', 'h', '\n', 'S', 'i', 'z', 'e', '\n', 'K', 2, 0x85,
                       0x85, 'R', '.'}) == "");  // torch.Size((2,)) of old files is the tuple (2,)
  CHECK(unpickle_error({'c', 't', 'o', 'r', 'c', 'h', '\n', 'S', 'i', 'z', 'e', '\n', 'N', 0x85,
                       'R', '.'}).find("torch.Size expects a tuple") != std::string::npos);
  CHECK_THROWS_AS(unpickle_bytes({'X', 200, 0, 0, 0, 'a', '.'}), pickle::Truncated);
  CHECK_THROWS_AS(unpickle_bytes({0x80, 2, 'N'}), pickle::Truncated);
}
