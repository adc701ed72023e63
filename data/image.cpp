// image.cpp — PNG decode/encode for gray images. The chunk walk in check_png exists because
// stb_image does not verify CRCs and may accept a damaged file; we want such files reported.
#include "data/image.h"

#include "engine/serialize/atomic_file.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <memory>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "engine/error.h"

namespace fcnlab::data {

int PngInfo::channels() const {
  switch (color_type) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
  }
  return 0;
}

uint32_t crc32(const uint8_t* bytes, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

}  // namespace

PngInfo check_png(const uint8_t* bytes, size_t size, const std::string& name) {
  FCNLAB_CHECK(size >= 8, name, ": not a PNG (", size, " bytes, shorter than the signature)");
  FCNLAB_CHECK(std::memcmp(bytes, kSignature, 8) == 0, name,
               ": not a PNG (the first 8 bytes are not the PNG signature)");
  PngInfo info;
  size_t pos = 8;
  bool seen_ihdr = false, seen_idat = false;
  while (true) {
    FCNLAB_CHECK(pos + 8 <= size, name, ": truncated PNG (file ends at byte ", size,
                 " inside a chunk header; no IEND chunk)");
    uint32_t len = be32(bytes + pos);
    char type[5] = {char(bytes[pos + 4]), char(bytes[pos + 5]), char(bytes[pos + 6]),
                    char(bytes[pos + 7]), 0};
    FCNLAB_CHECK(len <= 0x7FFFFFFFu, name, ": corrupt PNG (chunk at byte ", pos,
                 " has length ", len, ")");
    FCNLAB_CHECK(pos + 12 + size_t(len) <= size, name, ": truncated PNG (chunk ", type,
                 " at byte ", pos, " needs ", 12 + size_t(len), " bytes, only ", size - pos,
                 " left)");
    uint32_t stored = be32(bytes + pos + 8 + len);
    uint32_t actual = crc32(bytes + pos + 4, size_t(len) + 4);
    FCNLAB_CHECK(stored == actual, name, ": corrupt PNG (CRC mismatch in chunk ", type,
                 " at byte ", pos, ")");
    if (!seen_ihdr) {
      FCNLAB_CHECK(std::strcmp(type, "IHDR") == 0 && len == 13, name,
                   ": corrupt PNG (the first chunk must be a 13-byte IHDR, got ", type, ")");
      const uint8_t* h = bytes + pos + 8;
      info.width = static_cast<int>(be32(h));
      info.height = static_cast<int>(be32(h + 4));
      info.bit_depth = h[8];
      info.color_type = h[9];
      FCNLAB_CHECK(info.width > 0 && info.height > 0, name, ": corrupt PNG (size ",
                   info.width, "x", info.height, ")");
      FCNLAB_CHECK(info.channels() > 0, name, ": corrupt PNG (color type ", info.color_type,
                   ")");
      seen_ihdr = true;
    }
    if (std::strcmp(type, "IDAT") == 0) seen_idat = true;
    pos += 12 + size_t(len);
    if (std::strcmp(type, "IEND") == 0) break;
  }
  FCNLAB_CHECK(seen_idat, name, ": corrupt PNG (no IDAT chunk)");
  return info;
}

GrayImage decode_png_gray8(const uint8_t* bytes, size_t size, const std::string& name) {
  check_png(bytes, size, name);
  FCNLAB_CHECK(size <= 0x7FFFFFFF, name, ": PNG too large (", size, " bytes)");
  int w = 0, h = 0, comp = 0;
  // stb reduces colour to luma, drops alpha and maps 16 bits to 8 (top byte) for req_comp = 1.
  std::unique_ptr<stbi_uc, StbFree> p(
      stbi_load_from_memory(bytes, static_cast<int>(size), &w, &h, &comp, 1));
  FCNLAB_CHECK(p != nullptr, name, ": cannot decode PNG (", stbi_failure_reason(), ")");
  GrayImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(p.get(), p.get() + size_t(w) * h);
  return img;
}

GrayImage16 decode_png_gray16(const uint8_t* bytes, size_t size, const std::string& name) {
  check_png(bytes, size, name);
  FCNLAB_CHECK(size <= 0x7FFFFFFF, name, ": PNG too large (", size, " bytes)");
  int w = 0, h = 0, comp = 0;
  std::unique_ptr<stbi_us, StbFree> p(
      stbi_load_16_from_memory(bytes, static_cast<int>(size), &w, &h, &comp, 1));
  FCNLAB_CHECK(p != nullptr, name, ": cannot decode PNG (", stbi_failure_reason(), ")");
  GrayImage16 img;
  img.width = w;
  img.height = h;
  img.pixels.assign(p.get(), p.get() + size_t(w) * h);
  return img;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  FCNLAB_CHECK(f.good(), path, ": cannot open file for reading");
  std::streamsize n = f.tellg();
  FCNLAB_CHECK(n >= 0, path, ": cannot determine the file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  f.seekg(0);
  if (n > 0) f.read(reinterpret_cast<char*>(bytes.data()), n);
  FCNLAB_CHECK(f.good() || n == 0, path, ": read error");
  return bytes;
}

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  // Temp name + rename: a crash or a full disk never leaves a half-written file behind.
  write_file_atomic(path, bytes.data(), bytes.size());
}

GrayImage read_png_gray8(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path);
  return decode_png_gray8(b.data(), b.size(), path);
}

GrayImage16 read_png_gray16(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path);
  return decode_png_gray16(b.data(), b.size(), path);
}

PngInfo read_png_info(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path);
  return check_png(b.data(), b.size(), path);
}

namespace {
void append_bytes(void* ctx, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}
}  // namespace

namespace {

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

void put_chunk(std::vector<uint8_t>& out, const char* type, const uint8_t* data, size_t n) {
  put_be32(out, uint32_t(n));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + n);
  put_be32(out, crc32(out.data() + start, n + 4));
}

// PNG with a zlib stream of stored blocks (rows with filter byte 0).
std::vector<uint8_t> encode_png_stored(const GrayImage& img) {
  const size_t W = size_t(img.width), H = size_t(img.height);
  const size_t raw_size = H * (W + 1);
  std::vector<uint8_t> z;
  z.reserve(raw_size + raw_size / 65535 * 5 + 16);
  z.push_back(0x78);
  z.push_back(0x01);
  uint32_t a = 1, b = 0;  // Adler-32 of the raw scanlines
  size_t in_block = 0, left = raw_size;
  auto open_block = [&] {  // BFINAL on the last block, BTYPE 00, LEN, NLEN
    size_t n = std::min<size_t>(65535, left);
    z.push_back(left == n ? 1 : 0);
    z.push_back(uint8_t(n));
    z.push_back(uint8_t(n >> 8));
    z.push_back(uint8_t(~n));
    z.push_back(uint8_t(~n >> 8));
    in_block = n;
  };
  auto emit = [&](uint8_t v) {
    if (in_block == 0) open_block();
    z.push_back(v);
    --in_block;
    --left;
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  };
  for (size_t y = 0; y < H; ++y) {
    emit(0);
    const uint8_t* row = img.pixels.data() + y * W;
    for (size_t x = 0; x < W; ++x) emit(row[x]);
  }
  put_be32(z, (b << 16) | a);
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  uint8_t ihdr[13] = {0};
  for (int k = 0; k < 4; ++k) {
    ihdr[k] = uint8_t(uint32_t(img.width) >> (24 - 8 * k));
    ihdr[4 + k] = uint8_t(uint32_t(img.height) >> (24 - 8 * k));
  }
  ihdr[8] = 8;  // bit depth; colour type 0 (gray), compression/filter/interlace 0
  put_chunk(out, "IHDR", ihdr, 13);
  put_chunk(out, "IDAT", z.data(), z.size());
  put_chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png_gray8(const GrayImage& img, bool compress) {
  FCNLAB_CHECK(img.width > 0 && img.height > 0 &&
                   img.pixels.size() == size_t(img.width) * img.height,
               "encode_png_gray8: image of ", img.width, "x", img.height, " with ",
               img.pixels.size(), " pixels");
  if (!compress) return encode_png_stored(img);
  std::vector<uint8_t> out;
  int ok = stbi_write_png_to_func(append_bytes, &out, img.width, img.height, 1,
                                  img.pixels.data(), img.width);
  FCNLAB_CHECK(ok != 0, "encode_png_gray8: stb_image_write failed for a ", img.width, "x",
               img.height, " image");
  return out;
}

void write_png_gray8(const std::string& path, const GrayImage& img, bool compress) {
  write_file_bytes(path, encode_png_gray8(img, compress));
}

}  // namespace fcnlab::data
