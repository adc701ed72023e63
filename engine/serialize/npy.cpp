// npy.cpp — see npy.h. The header is a Python literal; rather than a general evaluator, a small
// parser accepts exactly what NumPy (and other writers: cnpy, Julia's NPZ) produce: a dict with
// the three keys in any order, single- or double-quoted strings, True/False, and a tuple of ints.
#include "engine/serialize/npy.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "engine/error.h"
#include "engine/serialize/atomic_file.h"

namespace fcnlab {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// A cursor over the header text; every error says where in the header it happened.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    FCNLAB_FAIL(name_, ": malformed .npy header at character ", pos_, ": ", what, " (header: ",
                s_, ")");
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r'))
      ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c, const char* what) {
    if (!peek(c)) fail(std::string("expected '") + c + "' " + what);
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted string");
    const char q = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\') fail("escapes are not expected in a .npy header string");
      ++pos_;
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    return s_.substr(start, pos_++ - start);
  }
  bool boolean() {
    skip_space();
    for (const char* word : {"True", "False"}) {
      const size_t n = std::strlen(word);
      if (s_.compare(pos_, n, word) == 0) {
        pos_ += n;
        return word[0] == 'T';
      }
    }
    fail("expected True or False");
  }
  int64_t integer() {
    skip_space();
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int d = s_[pos_] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - d) / 10) fail("shape entry too large");
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape'");
    return v;
  }
  // "()", "(3,)", "(2, 3)", "(2, 3,)"
  std::vector<int64_t> shape_tuple() {
    expect('(', "to open the 'shape' tuple");
    std::vector<int64_t> dims;
    bool single_needs_comma = false;
    while (!peek(')')) {
      dims.push_back(integer());
      if (peek(',')) {
        ++pos_;
        single_needs_comma = false;
      } else {
        single_needs_comma = dims.size() == 1;
        if (!peek(')')) fail("expected ',' or ')' in 'shape'");
      }
    }
    // Python: "(3)" is the int 3, not a tuple.
    if (single_needs_comma) fail("'shape' (n) is not a tuple; NumPy writes (n,)");
    ++pos_;
    return dims;
  }
  bool at_end() {
    skip_space();
    return pos_ == s_.size();
  }

 private:
  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

struct Header {
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
};

DType dtype_from_descr(const std::string& d, const std::string& name) {
  if (d == "<f4") return DType::f32;
  if (d == "<f8") return DType::f64;
  if (d == "<i4") return DType::i32;
  if (d == "|u1" || d == "<u1") return DType::u8;
  std::string why;
  if (!d.empty() && d[0] == '>') why = " (big-endian; save it little-endian: a.astype('<f4'))";
  FCNLAB_FAIL(name, ": .npy 'descr' is '", d, "'", why,
              "; fcnlab reads '<f4' (float32), '<f8' (float64), '<i4' (int32) and '|u1' (uint8)");
}

Header parse_header(const std::string& text, const std::string& name) {
  HeaderParser p(text, name);
  Header h;
  std::set<std::string> seen;
  p.expect('{', "at the start of the header dict");
  while (!p.peek('}')) {
    const std::string key = p.string_literal();
    if (!seen.insert(key).second) p.fail("key '" + key + "' appears twice");
    p.expect(':', "after a key");
    if (key == "descr") {
      h.dtype = dtype_from_descr(p.string_literal(), name);
    } else if (key == "fortran_order") {
      if (p.boolean())
        FCNLAB_FAIL(name, ": .npy array is in Fortran order; fcnlab reads C order "
                          "(save np.ascontiguousarray(a))");
    } else if (key == "shape") {
      h.shape = p.shape_tuple();
    } else {
      p.fail("unexpected key '" + key + "'; a .npy header has 'descr', 'fortran_order', 'shape'");
    }
    if (!p.peek(',')) break;
    p.expect(',', "between entries");
  }
  p.expect('}', "to close the header dict");
  if (!p.at_end()) p.fail("unexpected text after the header dict");
  for (const char* k : {"descr", "fortran_order", "shape"})
    if (!seen.count(k)) p.fail(std::string("the key '") + k + "' is missing");
  FCNLAB_CHECK(static_cast<int>(h.shape.size()) <= Shape::kMaxDims, name, ": .npy array has ",
               h.shape.size(), " dimensions; fcnlab tensors have at most ", Shape::kMaxDims);
  return h;
}

uint32_t read_le(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

const char* npy_descr(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i32: return "<i4";
    case DType::u8: return "|u1";
  }
  return "?";
}

Tensor parse_npy(const uint8_t* bytes, size_t size, const std::string& name) {
  FCNLAB_CHECK(size >= kMagicLen + 2 && std::memcmp(bytes, kMagic, kMagicLen) == 0, name,
               ": not a .npy file (it must start with \\x93NUMPY)");
  const int major = bytes[6], minor = bytes[7];
  FCNLAB_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, name, ": .npy version ",
               major, ".", minor, " is not supported (1.0, 2.0 and 3.0 are)");
  const int len_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicLen + 2 + static_cast<size_t>(len_bytes);
  FCNLAB_CHECK(size >= prefix, name, ": .npy file truncated in its header length field");
  const size_t header_len = read_le(bytes + 8, len_bytes);
  FCNLAB_CHECK(size - prefix >= header_len, name, ": .npy file truncated: the header announces ",
               header_len, " bytes, only ", size - prefix, " follow");
  std::string text(reinterpret_cast<const char*>(bytes + prefix), header_len);
  FCNLAB_CHECK(!text.empty() && text.back() == '\n', name,
               ": .npy header does not end with a newline");
  const Header h = parse_header(text, name);

  const Shape shape(h.shape);
  const size_t item = dtype_size(h.dtype);
  const size_t have = size - prefix - header_len;
  // Overflow-safe: a shape whose byte count exceeds the file is caught without multiplying out.
  size_t need = item;
  for (int64_t d : h.shape) {
    if (d != 0 && need > have / static_cast<size_t>(d)) {
      need = std::numeric_limits<size_t>::max();
      break;
    }
    need *= static_cast<size_t>(d);
  }
  if (std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end()) need = 0;  // empty array
  FCNLAB_CHECK(need != std::numeric_limits<size_t>::max() && need <= have, name,
               ": .npy file truncated: shape ", shape.str(), " of ", npy_descr(h.dtype),
               " needs more data than the ", have, " bytes after the header");
  FCNLAB_CHECK(need == have, name, ": .npy file has ", have - need,
               " bytes after the array data (shape ", shape.str(), " of ", npy_descr(h.dtype),
               " is ", need, " bytes)");
  Tensor t = Tensor::empty(shape, h.dtype);
  if (need) std::memcpy(t.raw_data(), bytes + prefix + header_len, need);
  return t;
}

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FCNLAB_CHECK(f.good(), path, ": cannot open .npy file (missing or unreadable)");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  FCNLAB_CHECK(!f.bad(), path, ": read error");
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_npy(const Tensor& tensor) {
  FCNLAB_CHECK(tensor.defined(), "encode_npy: undefined tensor");
  const Tensor t = tensor.device().is_cpu() ? tensor : tensor.to(Device::cpu());
  std::string shape = "(";
  for (int i = 0; i < t.dim(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(t.size(i));
  }
  shape += t.dim() == 1 ? ",)" : ")";  // Python's one-element tuple
  std::string header = std::string("{'descr': '") + npy_descr(t.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that magic + version + length + header (with its '\n') is a multiple
  // of 64, as NumPy does (the data then starts aligned for memory mapping).
  const size_t prefix = kMagicLen + 2 + 2;
  const size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  FCNLAB_CHECK(header.size() <= 0xffff, "encode_npy: header too long (", header.size(), " bytes)");
  std::vector<uint8_t> out;
  out.reserve(total + t.nbytes());
  out.insert(out.end(), kMagic, kMagic + kMagicLen);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* p = static_cast<const uint8_t*>(t.raw_data());
  out.insert(out.end(), p, p + t.nbytes());
  return out;
}

void save_npy(const std::string& path, const Tensor& t) {
  const std::vector<uint8_t> bytes = encode_npy(t);
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace fcnlab
