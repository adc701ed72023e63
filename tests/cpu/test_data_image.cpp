// PNG decode/encode: bit depths and colour types reduced to gray, and damaged files.
#include <doctest/doctest.h>

#include "data/image.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"
#include <utility>

using namespace fcnlab;
using namespace fcnlab::data;
using fcnlab::test::make_raw_png;
using fcnlab::test::TempDir;

TEST_CASE("data: 8-bit gray PNG round-trips through encode and decode") {
  GrayImage img(5, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) img.at(y, x) = uint8_t(y * 60 + x * 7);
  std::vector<uint8_t> png = encode_png_gray8(img);
  PngInfo info = check_png(png.data(), png.size(), "mem");
  CHECK(info.width == 5);
  CHECK(info.height == 3);
  CHECK(info.bit_depth == 8);
  CHECK(info.color_type == 0);
  GrayImage back = decode_png_gray8(png.data(), png.size(), "mem");
  CHECK(back.width == 5);
  CHECK(back.height == 3);
  CHECK(back.pixels == img.pixels);
  GrayImage16 wide = decode_png_gray16(png.data(), png.size(), "mem");
  CHECK(wide.pixels[7] == img.pixels[7] * 257);
}

TEST_CASE("data: 16-bit gray PNG keeps 16 bits or gives the top byte") {
  std::vector<uint16_t> s = {0x1234, 0xFFFF, 0x0000, 0x80FF};
  std::vector<uint8_t> png = make_raw_png(2, 2, 16, 0, s);
  GrayImage16 g16 = decode_png_gray16(png.data(), png.size(), "mem");
  CHECK(g16.pixels == std::vector<uint16_t>(s.begin(), s.end()));
  GrayImage g8 = decode_png_gray8(png.data(), png.size(), "mem");
  CHECK(g8.pixels == std::vector<uint8_t>{0x12, 0xFF, 0x00, 0x80});
}

TEST_CASE("data: gray+alpha, RGB and RGBA PNGs reduce to gray by luma, alpha dropped") {
  // gray+alpha 8-bit: the gray sample stays, whatever the alpha
  std::vector<uint8_t> ga = make_raw_png(2, 1, 8, 4, {10, 0, 200, 255});
  CHECK(decode_png_gray8(ga.data(), ga.size(), "ga").pixels == std::vector<uint8_t>{10, 200});
  // RGB 8-bit: (77 R + 150 G + 29 B) >> 8
  std::vector<uint8_t> rgb = make_raw_png(2, 1, 8, 2, {200, 100, 50, 255, 255, 255});
  CHECK(decode_png_gray8(rgb.data(), rgb.size(), "rgb").pixels ==
        std::vector<uint8_t>{(77 * 200 + 150 * 100 + 29 * 50) >> 8, 255});
  // RGBA 16-bit: luma in 16 bits, then the top byte
  std::vector<uint8_t> rgba = make_raw_png(1, 1, 16, 6, {0x4000, 0x8000, 0xC000, 0x1234});
  int y16 = (77 * 0x4000 + 150 * 0x8000 + 29 * 0xC000) >> 8;
  CHECK(decode_png_gray16(rgba.data(), rgba.size(), "rgba").pixels[0] == y16);
  CHECK(decode_png_gray8(rgba.data(), rgba.size(), "rgba").pixels[0] == (y16 >> 8));
}

TEST_CASE("data: corrupt and truncated PNG files are errors naming the file") {
  TempDir dir("png");
  GrayImage img(16, 16);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 13);
  std::vector<uint8_t> good = encode_png_gray8(img);
  write_file_bytes(dir / "good.png", good);
  CHECK(read_png_gray8(dir / "good.png").pixels == img.pixels);

  std::vector<uint8_t> truncated(good.begin(), good.begin() + long(good.size() / 2));
  write_file_bytes(dir / "truncated.png", truncated);
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "truncated.png"),
                       doctest::Contains("truncated.png: truncated PNG"), Error);
  // cut exactly after a whole chunk: no IEND
  std::vector<uint8_t> no_iend(good.begin(), good.end() - 12);
  write_file_bytes(dir / "noiend.png", no_iend);
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "noiend.png"),
                       doctest::Contains("noiend.png: truncated PNG"), Error);

  std::vector<uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x5A;  // inside IDAT
  write_file_bytes(dir / "flipped.png", flipped);
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "flipped.png"),
                       doctest::Contains("flipped.png: corrupt PNG (CRC mismatch in chunk IDAT"),
                       Error);

  write_file_bytes(dir / "text.png", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "text.png"),
                       doctest::Contains("text.png: not a PNG"), Error);
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "absent.png"),
                       doctest::Contains("absent.png: cannot open"), Error);

  // chunk structure and CRCs intact, but the zlib stream is garbage: stb's error, with the name
  std::vector<uint8_t> bad_zlib = make_raw_png(4, 4, 8, 0, std::vector<uint16_t>(16, 7));
  {
    // overwrite the zlib header of IDAT (at 8 + 25 + 8) and recompute that chunk's CRC
    size_t idat = 8 + 25;
    uint32_t len = (uint32_t(bad_zlib[idat]) << 24) | (uint32_t(bad_zlib[idat + 1]) << 16) |
                   (uint32_t(bad_zlib[idat + 2]) << 8) | bad_zlib[idat + 3];
    bad_zlib[idat + 8] = 0xFF;
    bad_zlib[idat + 9] = 0xFF;
    uint32_t crc = crc32(bad_zlib.data() + idat + 4, len + 4);
    for (int k = 0; k < 4; ++k) bad_zlib[idat + 8 + len + size_t(k)] = uint8_t(crc >> (24 - 8 * k));
  }
  write_file_bytes(dir / "badzlib.png", bad_zlib);
  CHECK_THROWS_WITH_AS(read_png_gray8(dir / "badzlib.png"),
                       doctest::Contains("badzlib.png: cannot decode PNG"), Error);
}

TEST_CASE("data: stored (uncompressed) PNG encoding decodes to the same pixels") {
  for (auto [w, h] : {std::pair{1, 1}, std::pair{7, 3}, std::pair{300, 300}}) {  // 300x300: 2 blocks
    GrayImage img(w, h);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 31 + i / 7);
    std::vector<uint8_t> png = encode_png_gray8(img, false);
    PngInfo info = check_png(png.data(), png.size(), "stored");
    CHECK(info.width == w);
    CHECK(info.bit_depth == 8);
    CHECK(decode_png_gray8(png.data(), png.size(), "stored").pixels == img.pixels);
    CHECK(png.size() > img.pixels.size());  // really stored
  }
}
