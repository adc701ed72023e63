// augment.cpp — seeded flip/shift-scale-rotate and intensity augmentation.
// Coordinates are continuous with pixel i covering [i, i + 1); the forward map is
//   p_out = c + shift + s * R(angle) * (F(p_in) - c),   F = horizontal flip (x -> W - x) or id,
// and each output pixel centre is pulled back through its inverse, so the image (bilinear at
// p_in - 0.5) and the mask (the pixel containing p_in) are sampled at the same point.
#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/error.h"
#include "engine/rng.h"

namespace fcnlab::data {

AugmentParams sample_augment(const AugmentConfig& c, uint64_t seed, uint64_t stream) {
  AugmentParams p;
  if (!c.enabled) return p;
  // a fixed number of draws per sample, from the stream's own Philox key
  Philox4 k = philox4x32_10(seed, stream, 0x4155474DULL);  // "AUGM"
  const uint64_t key = (uint64_t(k.v[1]) << 32) | k.v[0];
  uint64_t n = 0;
  auto u = [&] { return double(philox_uniform(key, n++)); };
  auto range = [&](double a, double b) { return a + (b - a) * u(); };
  p.hflip = u() < c.hflip_p;
  if (u() < c.ssr_p) {
    p.shift_x = range(-c.shift_limit, c.shift_limit);
    p.shift_y = range(-c.shift_limit, c.shift_limit);
    p.scale = range(1 - c.scale_limit, 1 + c.scale_limit);
    p.angle_deg = range(-c.rotate_limit_deg, c.rotate_limit_deg);
  }
  if (u() < c.color_p) {
    p.brightness = range(-c.brightness_limit, c.brightness_limit);
    p.contrast = range(1 - c.contrast_limit, 1 + c.contrast_limit);
    p.gamma = range(c.gamma_lo, c.gamma_hi);
  }
  return p;
}

void apply_augment(const AugmentParams& p, FloatImage& image, GrayImage& mask) {
  FCNLAB_CHECK(image.width == mask.width && image.height == mask.height,
               "apply_augment: image is ", image.width, "x", image.height, " but mask is ",
               mask.width, "x", mask.height);
  const int W = image.width, H = image.height;
  if (p.geometric()) {
    const double cx = W / 2.0, cy = H / 2.0;
    const double a = p.angle_deg * 3.14159265358979323846 / 180.0;
    // inverse of s * R: R(-a) / s
    const double ic = std::cos(a) / p.scale, is = std::sin(a) / p.scale;
    const double tx = cx + p.shift_x * W, ty = cy + p.shift_y * H;
    FloatImage img_out(W, H);
    GrayImage mask_out(W, H);
    for (int y = 0; y < H; ++y) {
      for (int x = 0; x < W; ++x) {
        const double ox = x + 0.5 - tx, oy = y + 0.5 - ty;
        double sx = ic * ox + is * oy + cx;  // R(-a) = [[c, s], [-s, c]]
        const double sy = -is * ox + ic * oy + cy;
        if (p.hflip) sx = W - sx;
        // mask: the pixel that contains the point
        const double fx = std::floor(sx), fy = std::floor(sy);
        if (fx >= 0 && fy >= 0 && fx < W && fy < H) mask_out.at(y, x) = mask.at(int(fy), int(fx));
        // image: bilinear between the pixel centres around the point, zero outside
        const double u = sx - 0.5, v = sy - 0.5;
        const int x0 = int(std::floor(u)), y0 = int(std::floor(v));
        const float wx = float(u - x0), wy = float(v - y0);
        float s = 0;
        auto px = [&](int yy, int xx) {
          return (xx >= 0 && yy >= 0 && xx < W && yy < H) ? image.at(yy, xx) : 0.0f;
        };
        if (x0 >= -1 && y0 >= -1 && x0 < W && y0 < H)
          s = (1 - wy) * ((1 - wx) * px(y0, x0) + wx * px(y0, x0 + 1)) +
              wy * ((1 - wx) * px(y0 + 1, x0) + wx * px(y0 + 1, x0 + 1));
        img_out.at(y, x) = s;
      }
    }
    image = std::move(img_out);
    mask = std::move(mask_out);
  }
  if (p.brightness != 0 || p.contrast != 1 || p.gamma != 1) {
    const float b = float(p.brightness), c = float(p.contrast), g = float(p.gamma);
    for (float& v : image.pixels) {
      float t = std::clamp(v * c + b, 0.0f, 1.0f);
      v = g == 1.0f ? t : std::pow(t, g);
    }
  }
}

}  // namespace fcnlab::data
