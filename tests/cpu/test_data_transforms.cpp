// Transforms and augmentation: exact resize cases, normalisation, CLAHE, and the check that
// augmentation keeps image and mask aligned to within a fraction of a pixel.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/augment.h"
#include "data/transforms.h"
#include "engine/error.h"

using namespace fcnlab;
using namespace fcnlab::data;

TEST_CASE("data: resize averages areas to shrink, interpolates to grow, nearest for masks") {
  FloatImage a(4, 2);
  a.pixels = {0, 2, 4, 6,  //
              8, 10, 12, 14};
  FloatImage h = resize_image(a, 2, 1);  // 2x2 blocks
  CHECK(h.pixels == std::vector<float>{5, 9});
  // 3 -> 2: out0 = (0 * 1 + 3 * 0.5) / 1.5 = 1, out1 = (3 * 0.5 + 6 * 1) / 1.5 = 5
  FloatImage b(3, 1);
  b.pixels = {0, 3, 6};
  FloatImage b2 = resize_image(b, 2, 1);
  CHECK(b2.pixels[0] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(b2.pixels[1] == doctest::Approx(5.0).epsilon(1e-6));
  // 2 -> 4 bilinear with centres aligned: 0, 0.25*4... = {0, 1, 3, 4} for {0, 4}
  FloatImage c(2, 1);
  c.pixels = {0, 4};
  CHECK(resize_image(c, 4, 1).pixels == std::vector<float>{0, 1, 3, 4});
  // the mean is kept when shrinking by an integer factor
  FloatImage big(8, 8);
  for (size_t i = 0; i < big.pixels.size(); ++i) big.pixels[i] = float(i % 7);
  FloatImage small = resize_image(big, 4, 4);
  double m1 = 0, m2 = 0;
  for (float v : big.pixels) m1 += v;
  for (float v : small.pixels) m2 += v;
  CHECK(m1 / 64 == doctest::Approx(m2 / 16).epsilon(1e-6));

  GrayImage m(4, 1);
  m.pixels = {1, 2, 3, 4};
  CHECK(resize_mask(m, 2, 1).pixels == std::vector<uint8_t>{2, 4});
  CHECK(resize_mask(m, 8, 1).pixels == std::vector<uint8_t>{1, 1, 2, 2, 3, 3, 4, 4});
  CHECK_THROWS_AS(resize_image(a, 0, 1), Error);
}

TEST_CASE("data: normalisation replicates gray into channels with per-channel mean/std") {
  FloatImage g(2, 1);
  g.pixels = {0.5f, 1.0f};
  std::vector<float> out(6);
  write_normalized(g, Normalization::imagenet(), out.data());  // (3, 1, 2)
  CHECK(out[0] == doctest::Approx((0.5 - 0.485) / 0.229));
  CHECK(out[1] == doctest::Approx((1.0 - 0.485) / 0.229));
  CHECK(out[2] == doctest::Approx((0.5 - 0.456) / 0.224));
  CHECK(out[5] == doctest::Approx((1.0 - 0.406) / 0.225));
  std::vector<float> one(2);
  write_normalized(g, Normalization::dataset(0.5f, 0.25f, 1), one.data());
  CHECK(one == std::vector<float>{0.0f, 2.0f});
  GrayImage a(2, 1), b(2, 1);
  a.pixels = {0, 255};
  b.pixels = {0, 255};
  auto ms = gray_mean_std({a, b});
  CHECK(ms[0] == doctest::Approx(0.5));
  CHECK(ms[1] == doctest::Approx(0.5));
  CHECK_THROWS_AS(Normalization::dataset(0.5f, 0.0f), Error);
}

TEST_CASE("data: CLAHE stretches a low-contrast ramp and keeps the order of grey levels") {
  GrayImage img(64, 64);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) img.at(y, x) = uint8_t(100 + (x + y) * 40 / 128);
  GrayImage one = clahe(img, 40.0, 1, 1);  // one tile, no effective clipping: equalisation
  int lo = 255, hi = 0;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      lo = std::min<int>(lo, one.at(y, x));
      hi = std::max<int>(hi, one.at(y, x));
      if (x > 0) CHECK(one.at(y, x) >= one.at(y, x - 1));
    }
  CHECK(hi - lo > 200);  // 40 grey levels spread over nearly the full range
  GrayImage tiled = clahe(img, 2.0, 4, 4);
  CHECK(tiled.width == 64);
  CHECK(tiled.pixels != img.pixels);
  CHECK(clahe(img, 2.0, 4, 4).pixels == tiled.pixels);
  CHECK_THROWS_AS(clahe(img, 2.0, 0, 4), Error);
}

namespace {

// Intensity-weighted centroid of an image and centroid of a mask, in pixel coordinates.
std::array<double, 2> centroid(const FloatImage& img) {
  double sx = 0, sy = 0, s = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      sx += img.at(y, x) * x;
      sy += img.at(y, x) * y;
      s += img.at(y, x);
    }
  return {sx / s, sy / s};
}
std::array<double, 2> centroid(const GrayImage& m) {
  double sx = 0, sy = 0, s = 0;
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x)
      if (m.at(y, x)) {
        sx += x;
        sy += y;
        s += 1;
      }
  return {sx / s, sy / s};
}

// A 9x9 marker at (x0, y0) drawn in both; after augmentation the two centroids must agree.
double marker_drift(const AugmentParams& p, int x0, int y0, int mask_offset = 0) {
  FloatImage img(96, 80);
  GrayImage mask(96, 80);
  for (int y = y0 - 4; y <= y0 + 4; ++y)
    for (int x = x0 - 4; x <= x0 + 4; ++x) {
      img.at(y, x) = 1.0f;
      mask.at(y, x + mask_offset) = 1;
    }
  AugmentParams geo = p;
  geo.brightness = 0;  // keep the background at zero for the centroid
  geo.contrast = 1;
  geo.gamma = 1;
  apply_augment(geo, img, mask);
  auto a = centroid(img), b = centroid(mask);
  return std::hypot(a[0] - b[0], a[1] - b[1]);
}

}  // namespace

TEST_CASE("data: augmentation keeps image and mask aligned (fails on a one-pixel drift)") {
  AugmentConfig cfg;
  cfg.enabled = true;
  cfg.hflip_p = 0.5;
  cfg.ssr_p = 1.0;
  cfg.rotate_limit_deg = 30;
  std::set<bool> flips;
  for (uint64_t s = 0; s < 40; ++s) {
    AugmentParams p = sample_augment(cfg, 7, s);
    flips.insert(p.hflip);
    double d = marker_drift(p, 30 + int(s % 5) * 7, 25 + int(s % 3) * 9);
    CHECK_MESSAGE(d < 0.3, "stream ", s, " drift ", d, " px (angle ", p.angle_deg, ", scale ",
                  p.scale, ", flip ", p.hflip, ")");
  }
  CHECK(flips.size() == 2);
  // the check can fail: a mask drawn one pixel off is caught
  AugmentParams p = sample_augment(cfg, 7, 3);
  CHECK(marker_drift(p, 40, 30, 1) > 0.7);
  CHECK(marker_drift(AugmentParams{}, 40, 30, 1) > 0.9);
  // a pure flip is exact
  AugmentParams f;
  f.hflip = true;
  FloatImage img(5, 1);
  img.pixels = {1, 2, 3, 4, 5};
  GrayImage m(5, 1);
  m.pixels = {1, 0, 0, 0, 0};
  apply_augment(f, img, m);
  CHECK(img.pixels == std::vector<float>{5, 4, 3, 2, 1});
  CHECK(m.pixels == std::vector<uint8_t>{0, 0, 0, 0, 1});
}

TEST_CASE("data: augmentation is seeded, off by default, and intensity changes are exact") {
  AugmentConfig off;
  AugmentParams id = sample_augment(off, 1, 2);
  CHECK_FALSE(id.geometric());
  CHECK(id.gamma == 1);
  AugmentConfig on;
  on.enabled = true;
  on.ssr_p = 1;
  AugmentParams a = sample_augment(on, 1, 2), b = sample_augment(on, 1, 2),
                c = sample_augment(on, 1, 3);
  CHECK(a.angle_deg == b.angle_deg);
  CHECK(a.angle_deg != c.angle_deg);
  CHECK(std::fabs(a.angle_deg) <= 15);
  CHECK(a.scale >= 0.9);
  CHECK(a.scale <= 1.1);

  AugmentParams p;
  p.brightness = 0.1;
  p.contrast = 1.5;
  p.gamma = 2.0;
  FloatImage img(3, 1);
  img.pixels = {0.2f, 0.5f, 0.9f};
  GrayImage m(3, 1);
  apply_augment(p, img, m);
  CHECK(img.pixels[0] == doctest::Approx(0.4 * 0.4));   // (0.2*1.5+0.1)^2
  CHECK(img.pixels[1] == doctest::Approx(0.85 * 0.85));
  CHECK(img.pixels[2] == doctest::Approx(1.0));          // clamped
}
