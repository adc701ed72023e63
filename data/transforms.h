// transforms.h — deterministic image transforms for the loader: resize (area averaging to
// shrink, bilinear to enlarge; nearest for masks), normalisation (ImageNet mean/std or
// data-set statistics) with gray -> C channels, and CLAHE.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "data/image.h"

namespace fcnlab::data {

// A float gray image (H, W), row-major; the loader keeps values in [0, 1].
struct FloatImage {
  int width = 0, height = 0;
  std::vector<float> pixels;
  FloatImage() = default;
  FloatImage(int w, int h, float fill = 0.0f)
      : width(w), height(h), pixels(static_cast<size_t>(w) * h, fill) {}
  float& at(int y, int x) { return pixels[static_cast<size_t>(y) * width + x]; }
  float at(int y, int x) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

FloatImage to_float(const GrayImage& img);  // v / 255

// Per axis: area averaging (exact box overlaps) when the axis shrinks, bilinear (pixel
// centres aligned, edges clamped) when it grows, a copy when it keeps its size.
FloatImage resize_image(const FloatImage& src, int width, int height);
// Nearest neighbour on pixel centres: output x takes source floor((x + 0.5) * in / out).
GrayImage resize_mask(const GrayImage& mask, int width, int height);

// Per-channel (v - mean[c]) / std[c] after replicating gray into `channels` channels.
struct Normalization {
  int channels = 3;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  static Normalization imagenet() { return {}; }  // for pretrained (VGG16) backbones
  // Data-set statistics (e.g. from gray_mean_std) for `channels` identical channels.
  static Normalization dataset(float mean, float std, int channels = 1);
  static Normalization none(int channels = 1);  // mean 0, std 1
};
// Writes (C, H, W) floats at `out` (C = n.channels).
void write_normalized(const FloatImage& img, const Normalization& n, float* out);

// Mean and standard deviation of the pixels (in [0, 1]) of a set of images (double sums).
std::array<double, 2> gray_mean_std(const std::vector<GrayImage>& images);

// Contrast-limited adaptive histogram equalisation on tiles_x * tiles_y tiles: each tile's
// histogram is clipped at clip_limit * (tile pixels / 256), the excess spread evenly, and the
// tile mappings are interpolated bilinearly between tile centres.
GrayImage clahe(const GrayImage& img, double clip_limit = 2.0, int tiles_x = 8, int tiles_y = 8);

}  // namespace fcnlab::data
