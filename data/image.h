// image.h — gray images and PNG input/output (decode through stb_image, encode through
// stb_image_write). Every PNG is reduced to one gray channel: RGB/RGBA by luma
// (77 R + 150 G + 29 B) / 256, alpha dropped. Before decoding, the chunk structure and CRCs
// are checked, so a corrupt or truncated file is an Error that names the file and the chunk.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab::data {

// An 8-bit gray image, row-major: pixels[y * width + x], shape (H, W).
struct GrayImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;

  GrayImage() = default;
  GrayImage(int w, int h, uint8_t fill = 0)
      : width(w), height(h), pixels(static_cast<size_t>(w) * h, fill) {}
  uint8_t& at(int y, int x) { return pixels[static_cast<size_t>(y) * width + x]; }
  uint8_t at(int y, int x) const { return pixels[static_cast<size_t>(y) * width + x]; }
  bool empty() const { return pixels.empty(); }
};

// A 16-bit gray image (16-bit PNGs, DICOM), same layout.
struct GrayImage16 {
  int width = 0, height = 0;
  std::vector<uint16_t> pixels;
};

// What a PNG holds, from its IHDR chunk.
struct PngInfo {
  int width = 0, height = 0;
  int bit_depth = 0;   // 1, 2, 4, 8 or 16
  int color_type = 0;  // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  int channels() const;
};

// Checks signature, chunk lengths, CRCs, IHDR first and IEND last; returns the header.
// `name` is used in error messages (normally the path).
PngInfo check_png(const uint8_t* bytes, size_t size, const std::string& name);

// Decoders. 16-bit data is reduced to 8 bits by the top byte; 8-bit data is widened by *257.
GrayImage decode_png_gray8(const uint8_t* bytes, size_t size, const std::string& name);
GrayImage16 decode_png_gray16(const uint8_t* bytes, size_t size, const std::string& name);
GrayImage read_png_gray8(const std::string& path);
GrayImage16 read_png_gray16(const std::string& path);
PngInfo read_png_info(const std::string& path);  // reads and checks the whole file, no decode

// Encoders (8-bit gray PNG; safe to call from many threads). `compress`: stb's zlib at its
// default level; otherwise stored (uncompressed) deflate blocks, ~10x faster to write and to
// read, and barely larger for noisy images.
std::vector<uint8_t> encode_png_gray8(const GrayImage& img, bool compress = true);
void write_png_gray8(const std::string& path, const GrayImage& img, bool compress = true);

// Whole-file helpers that name the file in their errors.
std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// CRC-32 (ISO 3309, as used by PNG) of a byte range.
uint32_t crc32(const uint8_t* bytes, size_t size, uint32_t crc = 0);

}  // namespace fcnlab::data
