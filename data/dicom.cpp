// dicom.cpp — the built-in DICOM Part-10 reader: walks the data set element by element
// (skipping sequences of any nesting, defined or undefined length) and keeps the few
// attributes needed to decode the pixels.
#include "data/dicom.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include <stb/stb_image.h>

#include "engine/error.h"
#include "engine/serialize/atomic_file.h"

namespace fcnlab::data {
namespace {

constexpr uint32_t kUndefined = 0xFFFFFFFFu;
constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
constexpr const char* kJpegBaseline = "1.2.840.10008.1.2.4.50";

uint32_t tag_of(uint16_t g, uint16_t e) { return (uint32_t(g) << 16) | e; }

struct Element {
  uint32_t tag = 0;
  uint32_t length = 0;
  size_t value = 0;  // offset of the value
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n, const std::string& name) : p_(p), n_(n), name_(name) {}
  size_t pos = 0;
  bool done() const { return pos >= n_; }
  void need(size_t k) const {
    FCNLAB_CHECK(pos + k <= n_, name_, ": truncated DICOM (needs ", k, " bytes at byte ", pos,
                 ", the file has ", n_, ")");
  }
  uint16_t u16() {
    need(2);
    uint16_t v = uint16_t(p_[pos] | (p_[pos + 1] << 8));
    pos += 2;
    return v;
  }
  uint32_t u32() {
    need(4);
    uint32_t v = uint32_t(p_[pos]) | (uint32_t(p_[pos + 1]) << 8) | (uint32_t(p_[pos + 2]) << 16) |
                 (uint32_t(p_[pos + 3]) << 24);
    pos += 4;
    return v;
  }
  uint32_t peek_tag() {
    size_t save = pos;
    uint16_t g = u16(), e = u16();
    pos = save;
    return tag_of(g, e);
  }
  Element element(bool explicit_vr) {
    Element el;
    uint16_t g = u16(), e = u16();
    el.tag = tag_of(g, e);
    if (g == 0xFFFE) {  // item / delimiters never carry a VR
      el.length = u32();
    } else if (explicit_vr) {
      need(2);
      char vr[3] = {char(p_[pos]), char(p_[pos + 1]), 0};
      pos += 2;
      static const char* long_vrs[] = {"OB", "OW", "OF", "SQ", "UT", "UN", "UC",
                                       "UR", "OD", "OL", "OV", "SV", "UV"};
      bool long_form = false;
      for (const char* l : long_vrs) long_form |= std::strcmp(vr, l) == 0;
      if (long_form) {
        u16();  // reserved
        el.length = u32();
      } else {
        el.length = u16();
      }
    } else {
      el.length = u32();
    }
    el.value = pos;
    if (el.length != kUndefined) {
      need(el.length);
    }
    return el;
  }
  // Skips an undefined-length sequence's items up to its delimiter.
  void skip_sequence(bool explicit_vr, int depth = 0) {
    FCNLAB_CHECK(depth < 64, name_, ": DICOM sequences nested too deeply at byte ", pos);
    while (true) {
      Element it = element(explicit_vr);
      if (it.tag == tag_of(0xFFFE, 0xE0DD)) return;  // sequence delimiter
      FCNLAB_CHECK(it.tag == tag_of(0xFFFE, 0xE000), name_, ": corrupt DICOM (expected an item in a "
                   "sequence at byte ", it.value - 8, ")");
      if (it.length != kUndefined) {
        pos += it.length;
        continue;
      }
      while (true) {  // elements of an undefined-length item
        if (peek_tag() == tag_of(0xFFFE, 0xE00D)) {
          element(explicit_vr);
          break;
        }
        Element e = element(explicit_vr);
        if (e.length == kUndefined)
          skip_sequence(explicit_vr, depth + 1);
        else
          pos += e.length;
      }
    }
  }
  std::string str(const Element& e) const {
    std::string s(reinterpret_cast<const char*>(p_ + e.value), e.length);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    size_t b = s.find_first_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b);
  }
  uint16_t us(const Element& e) const {
    FCNLAB_CHECK(e.length >= 2, name_, ": DICOM element (", std::hex, e.tag >> 16, ",",
                 e.tag & 0xFFFF, std::dec, ") should hold a 2-byte US value");
    return uint16_t(p_[e.value] | (p_[e.value + 1] << 8));
  }
  const uint8_t* at(size_t off) const { return p_ + off; }

 private:
  const uint8_t* p_;
  size_t n_;
  const std::string& name_;
};

}  // namespace

DicomImage decode_dicom(const uint8_t* bytes, size_t size, const std::string& name) {
  FCNLAB_CHECK(size >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0, name,
               ": not a DICOM Part-10 file (no 'DICM' after the 128-byte preamble)");
  Reader r(bytes, size, name);
  r.pos = 132;
  DicomImage d;
  // file meta information: always explicit VR little endian, group 0002
  while (!r.done() && (r.peek_tag() >> 16) == 0x0002) {
    Element e = r.element(true);
    FCNLAB_CHECK(e.length != kUndefined, name, ": corrupt DICOM meta header");
    if (e.tag == tag_of(0x0002, 0x0010)) d.transfer_syntax = r.str(e);
    r.pos += e.length;
  }
  const bool jpeg = d.transfer_syntax == kJpegBaseline;
  FCNLAB_CHECK(d.transfer_syntax == kImplicitLE || d.transfer_syntax == kExplicitLE || jpeg, name,
               ": DICOM transfer syntax '", d.transfer_syntax,
               "' is not supported: fcnlab is built without a full DICOM toolkit (DCMTK); the "
               "built-in reader handles implicit/explicit VR little endian and JPEG baseline");
  const bool explicit_vr = d.transfer_syntax != kImplicitLE;

  int rows = 0, cols = 0, bits_allocated = 0, samples = 1, pixel_repr = 0;
  bool have_pixels = false;
  size_t raw_offset = 0, raw_length = 0;
  std::vector<uint8_t> jpeg_stream;
  while (!r.done()) {
    Element e = r.element(explicit_vr);
    if (e.tag == tag_of(0x7FE0, 0x0010)) {
      have_pixels = true;
      if (e.length != kUndefined) {
        raw_offset = e.value;
        raw_length = e.length;
        r.pos += e.length;
      } else {  // encapsulated: offset table item, then fragments, then a delimiter
        bool first = true;
        while (true) {
          Element it = r.element(explicit_vr);
          if (it.tag == tag_of(0xFFFE, 0xE0DD)) break;
          FCNLAB_CHECK(it.tag == tag_of(0xFFFE, 0xE000) && it.length != kUndefined, name,
                       ": corrupt DICOM (bad pixel data fragment at byte ", it.value - 8, ")");
          if (!first) jpeg_stream.insert(jpeg_stream.end(), r.at(it.value), r.at(it.value) + it.length);
          first = false;
          r.pos += it.length;
        }
      }
      break;  // nothing after the pixels is needed
    }
    if (e.length == kUndefined) {
      r.skip_sequence(explicit_vr);
      continue;
    }
    switch (e.tag) {
      case 0x00280010: rows = r.us(e); break;
      case 0x00280011: cols = r.us(e); break;
      case 0x00280100: bits_allocated = r.us(e); break;
      case 0x00280101: d.bits_stored = r.us(e); break;
      case 0x00280002: samples = r.us(e); break;
      case 0x00280103: pixel_repr = r.us(e); break;
      case 0x00280004: d.photometric = r.str(e); break;
      case 0x00080018: d.sop_instance_uid = r.str(e); break;
      default: break;
    }
    r.pos += e.length;
  }
  FCNLAB_CHECK(have_pixels, name, ": DICOM file has no pixel data (7FE0,0010)");
  FCNLAB_CHECK(rows > 0 && cols > 0, name, ": DICOM Rows/Columns missing or zero (", rows, "x",
               cols, ")");
  FCNLAB_CHECK(samples == 1, name, ": DICOM with ", samples,
               " samples per pixel; only grayscale (1) is supported");
  FCNLAB_CHECK(d.photometric == "MONOCHROME1" || d.photometric == "MONOCHROME2", name,
               ": DICOM photometric interpretation '", d.photometric,
               "' (expected MONOCHROME1 or MONOCHROME2)");
  FCNLAB_CHECK(pixel_repr == 0, name, ": signed DICOM pixel data is not supported");
  d.image.width = cols;
  d.image.height = rows;
  const size_t n = size_t(rows) * size_t(cols);
  d.image.pixels.resize(n);
  if (jpeg) {
    FCNLAB_CHECK(!jpeg_stream.empty(), name, ": JPEG DICOM without encapsulated fragments");
    int w = 0, h = 0, comp = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> px(
        stbi_load_from_memory(jpeg_stream.data(), int(jpeg_stream.size()), &w, &h, &comp, 1),
        stbi_image_free);
    FCNLAB_CHECK(px != nullptr, name, ": cannot decode the DICOM's JPEG pixel data (",
                 stbi_failure_reason(), ")");
    FCNLAB_CHECK(w == cols && h == rows, name, ": JPEG is ", w, "x", h, " but the DICOM says ",
                 cols, "x", rows);
    for (size_t i = 0; i < n; ++i) d.image.pixels[i] = px.get()[i];
    d.bits_stored = 8;
  } else {
    FCNLAB_CHECK(bits_allocated == 8 || bits_allocated == 16, name,
                 ": DICOM BitsAllocated must be 8 or 16, got ", bits_allocated);
    if (d.bits_stored <= 0 || d.bits_stored > bits_allocated) d.bits_stored = bits_allocated;
    const size_t need = n * size_t(bits_allocated / 8);
    FCNLAB_CHECK(raw_length >= need, name, ": DICOM pixel data has ", raw_length,
                 " bytes, expected ", need, " for ", cols, "x", rows, " at ", bits_allocated,
                 " bits");
    const uint8_t* p = r.at(raw_offset);
    const uint32_t maskv = (1u << d.bits_stored) - 1;
    for (size_t i = 0; i < n; ++i)
      d.image.pixels[i] = uint16_t(
          (bits_allocated == 8 ? p[i] : uint32_t(p[2 * i] | (p[2 * i + 1] << 8))) & maskv);
  }
  if (d.photometric == "MONOCHROME1") {
    const uint16_t top = uint16_t((1u << d.bits_stored) - 1);
    for (uint16_t& v : d.image.pixels) v = uint16_t(top - v);
  }
  return d;
}

DicomImage read_dicom(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path);
  return decode_dicom(b.data(), b.size(), path);
}

GrayImage dicom_to_gray8(const DicomImage& d) {
  GrayImage g(d.image.width, d.image.height);
  const double top = double((1u << d.bits_stored) - 1);
  for (size_t i = 0; i < g.pixels.size(); ++i)
    g.pixels[i] = uint8_t(std::min(255.0, d.image.pixels[i] * 255.0 / top + 0.5));
  return g;
}

namespace {

constexpr const char* kSecondaryCapture = "1.2.840.10008.5.1.4.1.1.7";

// Explicit VR little endian elements, values padded to even length as DICOM requires.
class DicomWriter {
 public:
  std::vector<uint8_t> b;
  void u16(uint32_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
  }
  void u32(uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  }
  void element(uint16_t g, uint16_t e, const char* vr, std::vector<uint8_t> v, uint8_t pad) {
    if (v.size() % 2) v.push_back(pad);
    u16(g);
    u16(e);
    b.push_back(uint8_t(vr[0]));
    b.push_back(uint8_t(vr[1]));
    if (std::strcmp(vr, "OB") == 0) {  // long form: reserved 2 bytes, 4-byte length
      u16(0);
      u32(uint32_t(v.size()));
    } else {
      FCNLAB_CHECK(v.size() < 0x10000, "DICOM writer: value of (", g, ",", e, ") too long");
      u16(uint32_t(v.size()));
    }
    b.insert(b.end(), v.begin(), v.end());
  }
  void text(uint16_t g, uint16_t e, const char* vr, const std::string& s) {
    element(g, e, vr, std::vector<uint8_t>(s.begin(), s.end()), std::strcmp(vr, "UI") == 0 ? 0 : ' ');
  }
  void us(uint16_t g, uint16_t e, uint16_t v) { element(g, e, "US", {uint8_t(v), uint8_t(v >> 8)}, 0); }
};

}  // namespace

std::vector<uint8_t> encode_dicom_gray8(const GrayImage& img, const std::string& uid) {
  FCNLAB_CHECK(img.width > 0 && img.height > 0 && img.width < 65536 && img.height < 65536,
               "DICOM writer: image size ", img.width, "x", img.height, " (expected 1..65535)");
  FCNLAB_CHECK(img.pixels.size() == size_t(img.width) * size_t(img.height),
               "DICOM writer: ", img.pixels.size(), " pixels for ", img.width, "x", img.height);
  FCNLAB_CHECK(!uid.empty() && uid.size() <= 64 &&
                   uid.find_first_not_of("0123456789.") == std::string::npos,
               "DICOM writer: SOPInstanceUID '", uid, "' (expected digits and dots, at most 64)");
  DicomWriter meta;  // group 0002, preceded by its group length
  meta.element(0x0002, 0x0001, "OB", {0x00, 0x01}, 0);
  meta.text(0x0002, 0x0002, "UI", kSecondaryCapture);
  meta.text(0x0002, 0x0003, "UI", uid);
  meta.text(0x0002, 0x0010, "UI", kExplicitLE);
  meta.text(0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.10.1");  // implementation class
  DicomWriter out;
  out.b.assign(128, 0);
  for (char c : std::string("DICM")) out.b.push_back(uint8_t(c));
  std::vector<uint8_t> len;
  for (int s = 0; s < 32; s += 8) len.push_back(uint8_t(meta.b.size() >> s));
  out.element(0x0002, 0x0000, "UL", len, 0);
  out.b.insert(out.b.end(), meta.b.begin(), meta.b.end());
  out.text(0x0008, 0x0016, "UI", kSecondaryCapture);
  out.text(0x0008, 0x0018, "UI", uid);
  out.us(0x0028, 0x0002, 1);
  out.text(0x0028, 0x0004, "CS", "MONOCHROME2");
  out.us(0x0028, 0x0010, uint16_t(img.height));
  out.us(0x0028, 0x0011, uint16_t(img.width));
  out.us(0x0028, 0x0100, 8);
  out.us(0x0028, 0x0101, 8);
  out.us(0x0028, 0x0102, 7);
  out.us(0x0028, 0x0103, 0);
  out.element(0x7FE0, 0x0010, "OB", img.pixels, 0);
  return out.b;
}

void write_dicom_gray8(const std::string& path, const GrayImage& img, const std::string& uid) {
  std::vector<uint8_t> bytes = encode_dicom_gray8(img, uid);
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace fcnlab::data
