// transforms.cpp — resize, normalisation, CLAHE.
#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace fcnlab::data {

FloatImage to_float(const GrayImage& img) {
  FloatImage f(img.width, img.height);
  for (size_t i = 0; i < img.pixels.size(); ++i) f.pixels[i] = img.pixels[i] * (1.0f / 255.0f);
  return f;
}

namespace {

// Weights of one axis: out[o] = sum_k w * in[idx]. Shrinking: exact overlaps of the output
// box [o*r, (o+1)*r) with input pixels, divided by r. Growing: linear between pixel centres.
struct Tap {
  int index;
  float weight;
};
std::vector<std::vector<Tap>> axis_taps(int in, int out) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out));
  const double r = double(in) / out;
  for (int o = 0; o < out; ++o) {
    auto& t = taps[size_t(o)];
    if (in == out) {
      t.push_back({o, 1.0f});
    } else if (out < in) {
      const double b0 = o * r, b1 = (o + 1) * r;
      for (int i = int(std::floor(b0)); i < int(std::ceil(b1)) && i < in; ++i) {
        double w = std::min<double>(i + 1, b1) - std::max<double>(i, b0);
        if (w > 1e-12) t.push_back({i, float(w / r)});
      }
    } else {
      double c = (o + 0.5) * r - 0.5;
      c = std::clamp(c, 0.0, double(in - 1));
      int i0 = int(std::floor(c));
      int i1 = std::min(i0 + 1, in - 1);
      double f = c - i0;
      t.push_back({i0, float(1 - f)});
      if (f > 0) t.push_back({i1, float(f)});
    }
  }
  return taps;
}

}  // namespace

FloatImage resize_image(const FloatImage& src, int width, int height) {
  FCNLAB_CHECK(width > 0 && height > 0, "resize_image: target size must be positive, got ", width,
               "x", height);
  FCNLAB_CHECK(src.width > 0 && src.height > 0, "resize_image: empty source image");
  if (width == src.width && height == src.height) return src;
  auto tx = axis_taps(src.width, width), ty = axis_taps(src.height, height);
  FloatImage mid(width, src.height);  // horizontal pass
  for (int y = 0; y < src.height; ++y) {
    const float* row = &src.pixels[size_t(y) * src.width];
    for (int x = 0; x < width; ++x) {
      float s = 0;
      for (const Tap& t : tx[size_t(x)]) s += t.weight * row[t.index];
      mid.at(y, x) = s;
    }
  }
  FloatImage out(width, height);  // vertical pass
  for (int y = 0; y < height; ++y) {
    float* dst = &out.pixels[size_t(y) * width];
    for (const Tap& t : ty[size_t(y)]) {
      const float* row = &mid.pixels[size_t(t.index) * width];
      for (int x = 0; x < width; ++x) dst[x] += t.weight * row[x];
    }
  }
  return out;
}

GrayImage resize_mask(const GrayImage& mask, int width, int height) {
  FCNLAB_CHECK(width > 0 && height > 0, "resize_mask: target size must be positive, got ", width,
               "x", height);
  if (width == mask.width && height == mask.height) return mask;
  GrayImage out(width, height);
  std::vector<int> sx(size_t(width), 0);
  for (int x = 0; x < width; ++x)
    sx[size_t(x)] = std::min(mask.width - 1, int((x + 0.5) * mask.width / width));
  for (int y = 0; y < height; ++y) {
    int syy = std::min(mask.height - 1, int((y + 0.5) * mask.height / height));
    for (int x = 0; x < width; ++x) out.at(y, x) = mask.at(syy, sx[size_t(x)]);
  }
  return out;
}

Normalization Normalization::dataset(float mean, float std, int channels) {
  FCNLAB_CHECK(channels >= 1 && channels <= 3, "Normalization: channels must be 1..3, got ",
               channels);
  FCNLAB_CHECK(std > 0, "Normalization: std must be positive, got ", std);
  Normalization n;
  n.channels = channels;
  n.mean = {mean, mean, mean};
  n.std = {std, std, std};
  return n;
}

Normalization Normalization::none(int channels) { return dataset(0.0f, 1.0f, channels); }

void write_normalized(const FloatImage& img, const Normalization& n, float* out) {
  FCNLAB_CHECK(n.channels >= 1 && n.channels <= 3, "write_normalized: channels must be 1..3, got ",
               n.channels);
  const size_t hw = img.pixels.size();
  for (int c = 0; c < n.channels; ++c) {
    const float m = n.mean[size_t(c)], inv = 1.0f / n.std[size_t(c)];
    float* dst = out + size_t(c) * hw;
    for (size_t i = 0; i < hw; ++i) dst[i] = (img.pixels[i] - m) * inv;
  }
}

std::array<double, 2> gray_mean_std(const std::vector<GrayImage>& images) {
  double s = 0, s2 = 0, n = 0;
  for (const GrayImage& img : images)
    for (uint8_t v : img.pixels) {
      double f = v / 255.0;
      s += f;
      s2 += f * f;
      n += 1;
    }
  FCNLAB_CHECK(n > 0, "gray_mean_std: no pixels");
  double mean = s / n;
  return {mean, std::sqrt(std::max(0.0, s2 / n - mean * mean))};
}

GrayImage clahe(const GrayImage& img, double clip_limit, int tiles_x, int tiles_y) {
  FCNLAB_CHECK(tiles_x >= 1 && tiles_y >= 1 && tiles_x <= img.width && tiles_y <= img.height,
               "clahe: tiles must be between 1 and the image size, got ", tiles_x, "x", tiles_y,
               " for ", img.width, "x", img.height);
  FCNLAB_CHECK(clip_limit > 0, "clahe: clip_limit must be positive, got ", clip_limit);
  // tile t covers [t * W / tiles, (t + 1) * W / tiles)
  auto bound = [](int t, int size, int tiles) { return int(int64_t(t) * size / tiles); };
  std::vector<std::array<uint8_t, 256>> lut(size_t(tiles_x) * tiles_y);
  for (int ty = 0; ty < tiles_y; ++ty)
    for (int tx = 0; tx < tiles_x; ++tx) {
      int x0 = bound(tx, img.width, tiles_x), x1 = bound(tx + 1, img.width, tiles_x);
      int y0 = bound(ty, img.height, tiles_y), y1 = bound(ty + 1, img.height, tiles_y);
      std::array<double, 256> hist{};
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) hist[img.at(y, x)] += 1;
      const double area = double(x1 - x0) * (y1 - y0);
      const double limit = std::max(1.0, clip_limit * area / 256.0);
      double excess = 0;
      for (double& h : hist)
        if (h > limit) {
          excess += h - limit;
          h = limit;
        }
      double cdf = 0;
      auto& l = lut[size_t(ty) * tiles_x + tx];
      for (int v = 0; v < 256; ++v) {
        cdf += hist[size_t(v)] + excess / 256.0;
        l[size_t(v)] = uint8_t(std::clamp(std::lround(255.0 * cdf / area), 0L, 255L));
      }
    }
  // bilinear between the mappings of the four nearest tile centres
  GrayImage out(img.width, img.height);
  const double tw = double(img.width) / tiles_x, th = double(img.height) / tiles_y;
  for (int y = 0; y < img.height; ++y) {
    double gy = (y + 0.5) / th - 0.5;
    int ty0 = std::clamp(int(std::floor(gy)), 0, tiles_y - 1), ty1 = std::min(ty0 + 1, tiles_y - 1);
    double fy = std::clamp(gy - ty0, 0.0, 1.0);
    for (int x = 0; x < img.width; ++x) {
      double gx = (x + 0.5) / tw - 0.5;
      int tx0 = std::clamp(int(std::floor(gx)), 0, tiles_x - 1),
          tx1 = std::min(tx0 + 1, tiles_x - 1);
      double fx = std::clamp(gx - tx0, 0.0, 1.0);
      size_t v = img.at(y, x);
      double a = lut[size_t(ty0) * tiles_x + tx0][v], b = lut[size_t(ty0) * tiles_x + tx1][v];
      double c = lut[size_t(ty1) * tiles_x + tx0][v], d = lut[size_t(ty1) * tiles_x + tx1][v];
      double r = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
      out.at(y, x) = uint8_t(std::lround(r));
    }
  }
  return out;
}

}  // namespace fcnlab::data
