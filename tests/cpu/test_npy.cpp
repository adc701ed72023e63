// NumPy .npy: round trips of the four dtypes, files laid out byte by byte as NumPy writes them
// (versions 1.0, 2.0, 3.0, quoting and key order variants), and every malformed header or size
// rejected with a message that names the file and what was expected.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "engine/serialize/npy.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;

namespace {

using Bytes = std::vector<uint8_t>;

// A .npy file of `version` with the header dict text `dict` (padded to 64 bytes and ended by
// '\n', as NumPy does) followed by `data`.
Bytes make_npy(const std::string& dict, const Bytes& data, int version = 1, bool newline = true) {
  const size_t len_bytes = version == 1 ? 2 : 4;
  const size_t prefix = 8 + len_bytes;
  std::string header = dict;
  if (newline) {
    const size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
    header.append(total - prefix - header.size() - 1, ' ');
    header += '\n';
  }
  // Built as a string, then copied (GCC 12 warns falsely on pushes after a braced init).
  std::string s = "\x93NUMPY";
  s += static_cast<char>(version);
  s += '\0';
  for (size_t i = 0; i < len_bytes; ++i) s += static_cast<char>(header.size() >> (8 * i));
  s += header;
  s.append(data.begin(), data.end());
  return Bytes(s.begin(), s.end());
}

template <class T>
Bytes raw(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::string error_of(const Bytes& b, const std::string& name = "x.npy") {
  try {
    parse_npy(b.data(), b.size(), name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

const std::string kF32x23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

}  // namespace

TEST_CASE("npy: f32 round trip keeps shape and every bit, and the header is NumPy's") {
  test::TempDir dir("npy");
  Generator gen(11);
  Tensor t = Tensor::normal({2, 3, 4, 5}, 0, 1, gen);
  t.set_flat(7, -0.0);
  const std::string path = dir / "a.npy";
  save_npy(path, t);
  Tensor u = load_npy(path);
  REQUIRE(u.shape() == t.shape());
  REQUIRE(u.dtype() == DType::f32);
  CHECK(std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()) == 0);

  const Bytes b = encode_npy(t);
  CHECK(b.size() % 64 == t.nbytes() % 64);  // header padded to 64
  CHECK((b.size() - t.nbytes()) % 64 == 0);
  const std::string head(b.begin() + 10, b.begin() + 10 + (b[8] | (b[9] << 8)));
  CHECK(head.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }", 0) == 0);
  CHECK(head.back() == '\n');
  CHECK(b[6] == 1);
  CHECK(b[7] == 0);
  CHECK(dir.listing() == std::vector<std::string>{"a.npy"});  // no temp file left behind
}

TEST_CASE("npy: one-element tuple, scalar and empty shapes round trip") {
  for (const Shape& s : {Shape({7}), Shape({}), Shape({0, 3}), Shape({1, 1, 1, 1, 2})}) {
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < s.numel(); ++i) t.set_flat(i, static_cast<double>(i) - 3.5);
    Bytes b = encode_npy(t);
    Tensor u = parse_npy(b.data(), b.size(), "mem");
    CHECK(u.shape() == s);
    CHECK(u.to_vector() == t.to_vector());
  }
  const Bytes b = encode_npy(Tensor::zeros({7}));
  CHECK(std::string(b.begin() + 10, b.begin() + 70).find("'shape': (7,)") != std::string::npos);
}

TEST_CASE("npy: f64, i32 and u8 arrays read from NumPy's byte layout and round trip") {
  const std::vector<double> d = {1.5, -2.25, 1e300, 0};
  const Bytes bd = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", raw(d));
  Tensor a = parse_npy(bd.data(), bd.size(), "d");
  CHECK(a.dtype() == DType::f64);
  CHECK(a.to_vector() == d);

  const std::vector<int32_t> i = {-7, 0, 2147483647, 5, 6, 9};
  Bytes bi = make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", raw(i));
  Tensor ti = parse_npy(bi.data(), bi.size(), "i");
  CHECK(ti.dtype() == DType::i32);
  CHECK(ti.shape() == Shape({3, 2}));
  CHECK(ti.at({2, 0}) == 6);
  CHECK(ti.at({1, 0}) == 2147483647);

  const std::vector<uint8_t> u = {0, 255, 128};
  Bytes bu = make_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", u);
  Tensor tu = parse_npy(bu.data(), bu.size(), "u");
  CHECK(tu.dtype() == DType::u8);
  CHECK(tu.to_vector() == std::vector<double>{0, 255, 128});

  for (const Tensor& t : {a, ti, tu}) {
    Bytes b = encode_npy(t);
    Tensor back = parse_npy(b.data(), b.size(), "rt");
    CHECK(back.dtype() == t.dtype());
    CHECK(back.to_vector() == t.to_vector());
  }
}

TEST_CASE("npy: versions 2.0 and 3.0, double quotes, other key order, no trailing comma") {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  for (const std::string& dict :
       {kF32x23, std::string("{\"shape\": (2, 3), \"descr\": \"<f4\", \"fortran_order\": False}"),
        std::string("{'fortran_order':False,'shape':(2,3,),'descr':'<f4'}")})
    for (int version : {1, 2, 3}) {
      Bytes b = make_npy(dict, raw(v), version);
      Tensor t = parse_npy(b.data(), b.size(), "v");
      INFO(dict, " version ", version);
      CHECK(t.shape() == Shape({2, 3}));
      CHECK(t.at({1, 2}) == 6);
    }
}

TEST_CASE("npy: malformed files are rejected naming the file and what was expected") {
  const Bytes data = raw(std::vector<float>(6, 1.0f));
  struct Case {
    const char* what;
    Bytes bytes;
    const char* expect;
  };
  Bytes bad_magic = make_npy(kF32x23, data);
  bad_magic[1] = 'M';
  Bytes v4 = make_npy(kF32x23, data);
  v4[6] = 4;
  Bytes long_header = make_npy(kF32x23, {});
  long_header[8] = 0xff;
  long_header[9] = 0xff;
  const std::vector<Case> cases = {
      {"bad magic", bad_magic, "not a .npy file"},
      {"version 4.0", v4, "version 4.0 is not supported"},
      {"no header length", Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 5}, "truncated in its header length"},
      {"header longer than the file", long_header, "the header announces 65535 bytes"},
      {"no newline", make_npy(kF32x23, data, 1, false), "does not end with a newline"},
      {"missing key", make_npy("{'descr': '<f4', 'shape': (2, 3), }", data), "'fortran_order' is missing"},
      {"duplicate key", make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data),
       "key 'descr' appears twice"},
      {"unknown key", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", data),
       "unexpected key 'x'"},
      {"fortran order", make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data), "Fortran order"},
      {"big-endian", make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data), "big-endian"},
      {"object array", make_npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }", data),
       "'descr' is '|O'"},
      {"float16", make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", data), "'<f4' (float32)"},
      {"shape not a tuple", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", data),
       "is not a tuple"},
      {"negative shape", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", data),
       "expected a non-negative integer in 'shape'"},
      {"six dimensions", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2, 3), }", data),
       "6 dimensions"},
      {"True misspelt", make_npy("{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3), }", data),
       "expected True or False"},
      {"text after the dict", make_npy(kF32x23 + " 1", data), "unexpected text after the header dict"},
      {"not a dict", make_npy("('<f4', False, (2, 3))", data), "expected '{'"},
      {"data truncated", make_npy(kF32x23, Bytes(data.begin(), data.end() - 1)), "truncated: shape [2, 3] of <f4"},
      {"huge shape", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data),
       "truncated"},
      {"trailing bytes", [&] { Bytes b = make_npy(kF32x23, data); b.push_back(0); return b; }(),
       "1 bytes after the array data"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string msg = error_of(c.bytes, "dir/bad.npy");
    CHECK(msg.find("dir/bad.npy") != std::string::npos);
    CHECK_MESSAGE(msg.find(c.expect) != std::string::npos, msg);
  }
}

TEST_CASE("npy: a missing file is an error naming it, a failed save leaves nothing") {
  test::TempDir dir("npy_missing");
  try {
    load_npy(dir / "none.npy");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("none.npy: cannot open") != std::string::npos);
  }
  write_bytes(dir / "cut.npy", make_npy(kF32x23, {1, 2, 3}));
  CHECK_THROWS_WITH_AS(load_npy(dir / "cut.npy"), doctest::Contains("cut.npy: .npy file truncated"), Error);
  CHECK_THROWS_AS(save_npy(dir / "no/such/dir/x.npy", Tensor::zeros({2})), Error);
  CHECK(!std::filesystem::exists(dir / "no"));
}
