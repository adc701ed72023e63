// The built-in DICOM reader on hand-built Part-10 files: implicit and explicit VR little
// endian, 8/16 bits with BitsStored masking, MONOCHROME1 inversion, nested sequences of
// undefined length skipped, JPEG baseline in two fragments, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "data/dicom.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;

namespace {

struct DicomBuilder {
  std::vector<uint8_t> b;
  bool explicit_vr = true;
  DicomBuilder() {
    b.assign(128, 0);
    for (char c : std::string("DICM")) b.push_back(uint8_t(c));
  }
  void u16(uint32_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
  }
  void u32(uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  }
  void header(uint16_t g, uint16_t e, const char* vr, uint32_t len) {
    u16(g);
    u16(e);
    if (explicit_vr || g == 0x0002) {
      b.push_back(uint8_t(vr[0]));
      b.push_back(uint8_t(vr[1]));
      std::string v = vr;
      if (v == "OB" || v == "OW" || v == "SQ" || v == "UN") {
        u16(0);
        u32(len);
      } else {
        u16(len);
      }
    } else {
      u32(len);
    }
  }
  void elem(uint16_t g, uint16_t e, const char* vr, std::vector<uint8_t> v, uint8_t pad = ' ') {
    if (v.size() % 2) v.push_back(pad);
    header(g, e, vr, uint32_t(v.size()));
    b.insert(b.end(), v.begin(), v.end());
  }
  void text(uint16_t g, uint16_t e, const char* vr, const std::string& s) {
    elem(g, e, vr, std::vector<uint8_t>(s.begin(), s.end()), std::string(vr) == "UI" ? 0 : ' ');
  }
  void us(uint16_t g, uint16_t e, uint16_t v) { elem(g, e, "US", {uint8_t(v), uint8_t(v >> 8)}); }
  void raw_tag(uint16_t g, uint16_t e, uint32_t len) {
    u16(g);
    u16(e);
    u32(len);
  }
  // (0008,1140) SQ of undefined length with one undefined-length item holding a nested SQ
  void nested_sequence() {
    header(0x0008, 0x1140, "SQ", 0xFFFFFFFF);
    raw_tag(0xFFFE, 0xE000, 0xFFFFFFFF);
    text(0x0008, 0x1150, "UI", "1.2.3");
    header(0x0008, 0x1199, "SQ", 0xFFFFFFFF);
    raw_tag(0xFFFE, 0xE000, 4);
    u32(0x12345678);  // a defined-length item's content
    raw_tag(0xFFFE, 0xE0DD, 0);
    raw_tag(0xFFFE, 0xE00D, 0);
    raw_tag(0xFFFE, 0xE0DD, 0);
  }
  void image_attrs(int rows, int cols, int alloc, int stored, const std::string& photometric) {
    text(0x0008, 0x0018, "UI", "1.2.276.0.7230010.3.1.4.8323329.5597.1517875188.959090");
    nested_sequence();
    us(0x0028, 0x0002, 1);
    text(0x0028, 0x0004, "CS", photometric);
    us(0x0028, 0x0010, uint16_t(rows));
    us(0x0028, 0x0011, uint16_t(cols));
    us(0x0028, 0x0100, uint16_t(alloc));
    us(0x0028, 0x0101, uint16_t(stored));
    us(0x0028, 0x0103, 0);
  }
};

std::vector<uint8_t> uncompressed(const char* ts, bool explicit_vr, int alloc, int stored,
                                  const std::string& photometric,
                                  const std::vector<uint16_t>& px, int rows, int cols) {
  DicomBuilder d;
  d.text(0x0002, 0x0010, "UI", ts);
  d.explicit_vr = explicit_vr;
  d.image_attrs(rows, cols, alloc, stored, photometric);
  std::vector<uint8_t> data;
  for (uint16_t v : px) {
    data.push_back(uint8_t(v));
    if (alloc == 16) data.push_back(uint8_t(v >> 8));
  }
  d.elem(0x7FE0, 0x0010, alloc == 16 ? "OW" : "OB", data, 0);
  return d.b;
}

}  // namespace

TEST_CASE("data: DICOM implicit VR 16-bit with BitsStored 12, sequences skipped") {
  // 0xF123: the top 4 bits are not stored and must be masked off
  std::vector<uint16_t> px = {0, 1, 0x0FFF, 0xF123, 100, 2000};
  auto f = uncompressed("1.2.840.10008.1.2", false, 16, 12, "MONOCHROME2", px, 2, 3);
  DicomImage d = decode_dicom(f.data(), f.size(), "a.dcm");
  CHECK(d.image.width == 3);
  CHECK(d.image.height == 2);
  CHECK(d.bits_stored == 12);
  CHECK(d.sop_instance_uid == "1.2.276.0.7230010.3.1.4.8323329.5597.1517875188.959090");
  CHECK(d.image.pixels == std::vector<uint16_t>{0, 1, 0x0FFF, 0x0123, 100, 2000});
  GrayImage g = dicom_to_gray8(d);
  CHECK(g.pixels[2] == 255);
  CHECK(g.pixels[4] == 6);  // 100 * 255 / 4095 = 6.2
}

TEST_CASE("data: DICOM explicit VR 8-bit MONOCHROME1 is inverted") {
  std::vector<uint16_t> px = {0, 10, 200, 255};
  auto f = uncompressed("1.2.840.10008.1.2.1", true, 8, 8, "MONOCHROME1", px, 2, 2);
  test::TempDir dir("dcm");
  write_file_bytes(dir / "b.dcm", f);
  DicomImage d = read_dicom(dir / "b.dcm");
  CHECK(d.photometric == "MONOCHROME1");
  CHECK(d.image.pixels == std::vector<uint16_t>{255, 245, 55, 0});
  CHECK(dicom_to_gray8(d).pixels == std::vector<uint8_t>{255, 245, 55, 0});
}

TEST_CASE("data: DICOM JPEG baseline in two fragments decodes through stb") {
  GrayImage img(16, 8);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) img.at(y, x) = uint8_t(x * 16);
  std::vector<uint8_t> jpg;
  stbi_write_jpg_to_func(
      [](void* ctx, void* data, int n) {
        auto* v = static_cast<std::vector<uint8_t>*>(ctx);
        v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + n);
      },
      &jpg, 16, 8, 1, img.pixels.data(), 95);
  if (jpg.size() % 2) jpg.push_back(0);  // fragments have even length (0 after EOI is ignored)
  DicomBuilder d;
  d.text(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.4.50");
  d.image_attrs(8, 16, 8, 8, "MONOCHROME2");
  d.header(0x7FE0, 0x0010, "OB", 0xFFFFFFFF);
  d.raw_tag(0xFFFE, 0xE000, 0);  // empty basic offset table
  size_t half = jpg.size() / 2 & ~size_t(1);
  d.raw_tag(0xFFFE, 0xE000, uint32_t(half));
  d.b.insert(d.b.end(), jpg.begin(), jpg.begin() + long(half));
  d.raw_tag(0xFFFE, 0xE000, uint32_t(jpg.size() - half));
  d.b.insert(d.b.end(), jpg.begin() + long(half), jpg.end());
  d.raw_tag(0xFFFE, 0xE0DD, 0);
  DicomImage dc = decode_dicom(d.b.data(), d.b.size(), "j.dcm");
  int w, h, c;
  stbi_uc* ref = stbi_load_from_memory(jpg.data(), int(jpg.size()), &w, &h, &c, 1);
  REQUIRE(ref != nullptr);
  std::vector<uint16_t> want(ref, ref + 16 * 8);
  stbi_image_free(ref);
  CHECK(dc.image.pixels == want);
  CHECK(dc.bits_stored == 8);
  CHECK(std::abs(int(dc.image.pixels[5]) - 80) <= 8);  // and close to the original ramp
}

TEST_CASE("data: unsupported, truncated and non-DICOM files are errors naming the file") {
  std::vector<uint16_t> px = {1, 2, 3, 4};
  auto lossless = uncompressed("1.2.840.10008.1.2.4.70", true, 16, 16, "MONOCHROME2", px, 2, 2);
  CHECK_THROWS_WITH_AS(decode_dicom(lossless.data(), lossless.size(), "l.dcm"),
                       doctest::Contains("l.dcm: DICOM transfer syntax '1.2.840.10008.1.2.4.70' "
                                         "is not supported: fcnlab is built without"),
                       Error);
  auto f = uncompressed("1.2.840.10008.1.2.1", true, 16, 16, "MONOCHROME2", px, 2, 2);
  f.resize(f.size() - 3);
  CHECK_THROWS_WITH_AS(decode_dicom(f.data(), f.size(), "t.dcm"),
                       doctest::Contains("t.dcm: truncated DICOM"), Error);
  std::vector<uint8_t> junk(200, 7);
  CHECK_THROWS_WITH_AS(decode_dicom(junk.data(), junk.size(), "j.dcm"),
                       doctest::Contains("j.dcm: not a DICOM Part-10 file"), Error);
  auto rgb = uncompressed("1.2.840.10008.1.2.1", true, 8, 8, "RGB", px, 2, 2);
  CHECK_THROWS_WITH_AS(decode_dicom(rgb.data(), rgb.size(), "c.dcm"),
                       doctest::Contains("photometric interpretation 'RGB'"), Error);
}
