// overlay.cpp — RGB images, RGB PNG encoding through stb_image_write (compiled once in
// data/stb_impl.cpp; only its declarations are included here), masks and overlays.
#include "train/overlay.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/serialize/atomic_file.h"

#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace fcnlab::train {

RgbImage::RgbImage(int w, int h, Rgb fill) : width(w), height(h) {
  FCNLAB_CHECK(w >= 0 && h >= 0, "RgbImage: negative size ", w, "x", h);
  pixels.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = fill.r;
    pixels[i + 1] = fill.g;
    pixels[i + 2] = fill.b;
  }
}

Rgb RgbImage::get(int y, int x) const {
  const size_t i = 3 * (static_cast<size_t>(y) * width + x);
  return {pixels[i], pixels[i + 1], pixels[i + 2]};
}

void RgbImage::set(int y, int x, Rgb c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const size_t i = 3 * (static_cast<size_t>(y) * width + x);
  pixels[i] = c.r;
  pixels[i + 1] = c.g;
  pixels[i + 2] = c.b;
}

void RgbImage::blend(int y, int x, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const size_t i = 3 * (static_cast<size_t>(y) * width + x);
  auto mix = [alpha](uint8_t under, uint8_t over) {
    return static_cast<uint8_t>(std::lround((1 - alpha) * under + alpha * over));
  };
  pixels[i] = mix(pixels[i], c.r);
  pixels[i + 1] = mix(pixels[i + 1], c.g);
  pixels[i + 2] = mix(pixels[i + 2], c.b);
}

namespace {
void append_bytes(void* ctx, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}
}  // namespace

std::vector<uint8_t> encode_png_rgb(const RgbImage& img) {
  FCNLAB_CHECK(img.width > 0 && img.height > 0 &&
                   img.pixels.size() == static_cast<size_t>(img.width) * img.height * 3,
               "encode_png_rgb: image of ", img.width, "x", img.height, " with ",
               img.pixels.size(), " bytes (expected width*height*3)");
  std::vector<uint8_t> out;
  const int ok = stbi_write_png_to_func(append_bytes, &out, img.width, img.height, 3,
                                        img.pixels.data(), img.width * 3);
  FCNLAB_CHECK(ok != 0, "encode_png_rgb: stb_image_write failed for a ", img.width, "x",
               img.height, " image");
  return out;
}

void write_png_rgb(const std::string& path, const RgbImage& img) {
  const std::vector<uint8_t> bytes = encode_png_rgb(img);
  write_file_atomic(path, bytes.data(), bytes.size());
}

data::GrayImage mask_to_image(const std::vector<uint8_t>& mask, int width, int height) {
  FCNLAB_CHECK(mask.size() == static_cast<size_t>(width) * height, "mask_to_image: mask of ",
               mask.size(), " pixels for a ", width, "x", height, " image");
  data::GrayImage img(width, height);
  for (size_t i = 0; i < mask.size(); ++i) img.pixels[i] = mask[i] ? 255 : 0;
  return img;
}

std::vector<uint8_t> resize_mask_nearest(const std::vector<uint8_t>& mask, int width, int height,
                                         int out_width, int out_height) {
  FCNLAB_CHECK(mask.size() == static_cast<size_t>(width) * height && out_width > 0 &&
                   out_height > 0,
               "resize_mask_nearest: mask of ", mask.size(), " pixels for ", width, "x", height,
               " -> ", out_width, "x", out_height);
  std::vector<uint8_t> out(static_cast<size_t>(out_width) * out_height);
  // Source pixel of an output pixel centre: floor((x + 0.5) * w / out_w), in integers.
  std::vector<int> sx(out_width);
  for (int x = 0; x < out_width; ++x)
    sx[x] = static_cast<int>((static_cast<int64_t>(2 * x + 1) * width) / (2 * out_width));
  for (int y = 0; y < out_height; ++y) {
    const int syy = static_cast<int>((static_cast<int64_t>(2 * y + 1) * height) / (2 * out_height));
    const uint8_t* src = mask.data() + static_cast<size_t>(syy) * width;
    uint8_t* dst = out.data() + static_cast<size_t>(y) * out_width;
    for (int x = 0; x < out_width; ++x) dst[x] = src[sx[x]] ? 1 : 0;
  }
  return out;
}

std::vector<uint8_t> mask_outline(const std::vector<uint8_t>& mask, int width, int height,
                                  int thickness) {
  FCNLAB_CHECK(mask.size() == static_cast<size_t>(width) * height, "mask_outline: mask of ",
               mask.size(), " pixels for ", width, "x", height);
  // Erode `thickness` times; the outline is the mask minus its erosion.
  std::vector<uint8_t> inner(mask.size());
  for (size_t i = 0; i < mask.size(); ++i) inner[i] = mask[i] ? 1 : 0;
  std::vector<uint8_t> next(mask.size());
  for (int k = 0; k < std::max(1, thickness); ++k) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const size_t i = static_cast<size_t>(y) * width + x;
        next[i] = inner[i] && x > 0 && y > 0 && x + 1 < width && y + 1 < height &&
                  inner[i - 1] && inner[i + 1] && inner[i - width] && inner[i + width];
      }
    inner.swap(next);
  }
  std::vector<uint8_t> out(mask.size());
  for (size_t i = 0; i < mask.size(); ++i) out[i] = (mask[i] != 0) && !inner[i];
  return out;
}

RgbImage make_overlay(const data::GrayImage& xray, const std::vector<uint8_t>& pred,
                      const std::vector<uint8_t>* truth) {
  const int w = xray.width, h = xray.height;
  const size_t n = static_cast<size_t>(w) * h;
  FCNLAB_CHECK(pred.size() == n, "make_overlay: prediction of ", pred.size(),
               " pixels for a ", w, "x", h, " image");
  FCNLAB_CHECK(truth == nullptr || truth->size() == n, "make_overlay: truth of ", truth->size(),
               " pixels for a ", w, "x", h, " image");
  RgbImage out(w, h);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t v = xray.pixels[i];
    out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = v;
  }
  const int thick = std::max(1, w / 384);
  const std::vector<uint8_t> pred_edge = mask_outline(pred, w, h, thick);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      if (pred_edge[i]) out.set(y, x, kPredColour);
      else if (pred[i]) out.blend(y, x, kPredColour, 0.35);
    }
  if (truth != nullptr) {
    // Drawn last: where the outlines cross, the truth stays visible.
    const std::vector<uint8_t> truth_edge = mask_outline(*truth, w, h, thick);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (truth_edge[static_cast<size_t>(y) * w + x]) out.set(y, x, kTruthColour);
  }
  return out;
}

}  // namespace fcnlab::train
