// feature_maps.cpp — see feature_maps.h.
#include "models/feature_maps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "data/transforms.h"
#include "engine/error.h"
#include "train/plot.h"

namespace fcnlab {

namespace {

constexpr train::Rgb kNonFinite{255, 0, 255};  // magenta: NaN or inf in the map
constexpr train::Rgb kCaptionBack{25, 25, 25};
constexpr train::Rgb kCaptionText{255, 255, 255};
constexpr int kCaptionScale = 2;  // 5x7 glyphs drawn at 10x14 pixels when they fit
constexpr int kCaptionPad = 6;

}  // namespace

std::pair<int, int> feature_map_tile_size(int h, int w, const FeatureMapOptions& o) {
  FCNLAB_CHECK(h >= 1 && w >= 1, "feature maps: map size must be positive, got ", h, "x", w);
  FCNLAB_CHECK(o.max_tile >= 1 && o.min_tile >= 1 && o.min_tile <= o.max_tile,
               "feature maps: need 1 <= min_tile <= max_tile, got ", o.min_tile, " and ",
               o.max_tile);
  const int side = std::max(h, w);
  if (side > o.max_tile) {
    const double s = static_cast<double>(o.max_tile) / side;
    return {std::max(1, static_cast<int>(std::lround(h * s))),
            std::max(1, static_cast<int>(std::lround(w * s)))};
  }
  if (side < o.min_tile) {
    int f = (o.min_tile + side - 1) / side;  // smallest factor reaching min_tile
    f = std::max(1, std::min(f, o.max_tile / side));
    return {h * f, w * f};
  }
  return {h, w};
}

train::RgbImage feature_map_grid(const Tensor& maps_in, const std::string& caption,
                                 const FeatureMapOptions& o) {
  FCNLAB_CHECK(maps_in.defined() && is_floating(maps_in.dtype()) &&
                   (maps_in.dim() == 3 || (maps_in.dim() == 4 && maps_in.size(0) == 1)),
               "feature maps: expected a floating (C, H, W) or (1, C, H, W) tensor, got ",
               maps_in.defined() ? maps_in.shape().str() + " " + dtype_name(maps_in.dtype())
                                 : std::string("an undefined tensor"));
  FCNLAB_CHECK(o.gap >= 0 && o.columns >= 0 && o.max_channels >= 0,
               "feature maps: gap, columns and max_channels must be >= 0");
  const Tensor maps = maps_in.to(Device::cpu()).to(DType::f32);
  const int d = maps.dim();
  const int64_t channels = maps.size(d - 3);
  const int h = static_cast<int>(maps.size(d - 2)), w = static_cast<int>(maps.size(d - 1));
  const int n = static_cast<int>(o.max_channels ? std::min<int64_t>(channels, o.max_channels)
                                                 : channels);
  FCNLAB_CHECK(n >= 1, "feature maps: the tensor has no channels");
  const auto [th, tw] = feature_map_tile_size(h, w, o);
  const int cols = o.columns ? std::min(o.columns, n)
                             : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int rows = (n + cols - 1) / cols;

  const int grid_w = o.gap + cols * (tw + o.gap);
  // Large glyphs when the caption fits the grid's width at that size, else small ones; the
  // picture is widened only when even the small caption does not fit.
  const int scale =
      train::text_width(caption, kCaptionScale) + 2 * kCaptionPad <= grid_w ? kCaptionScale : 1;
  const int caption_h = o.caption ? train::text_height(scale) + 2 * kCaptionPad : 0;
  const int width =
      o.caption ? std::max(grid_w, train::text_width(caption, scale) + 2 * kCaptionPad) : grid_w;
  const int height = caption_h + o.gap + rows * (th + o.gap);
  train::RgbImage img(width, height, o.gap_colour);
  if (o.caption) {
    train::fill_rect(img, 0, 0, width, caption_h, kCaptionBack);
    train::draw_text(img, kCaptionPad, kCaptionPad, caption, kCaptionText, scale);
  }

  const float* all = maps.data<float>();
  const size_t hw = static_cast<size_t>(h) * w;
  for (int c = 0; c < n; ++c) {
    const float* m = all + static_cast<size_t>(c) * hw;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (size_t i = 0; i < hw; ++i)
      if (std::isfinite(m[i])) {
        lo = std::min(lo, m[i]);
        hi = std::max(hi, m[i]);
      }
    // Normalised to [0, 1]; a constant channel stays 0 (black).
    data::FloatImage unit(w, h, 0.0f);
    std::vector<uint8_t> bad(hw, 0);
    for (size_t i = 0; i < hw; ++i) {
      if (!std::isfinite(m[i])) bad[i] = 1;
      else if (hi > lo) unit.pixels[i] = (m[i] - lo) / (hi - lo);
    }
    const int x0 = o.gap + (c % cols) * (tw + o.gap);
    const int y0 = caption_h + o.gap + (c / cols) * (th + o.gap);
    if (th <= h) {  // same size or shrunk: area averaging (data/transforms.h)
      const data::FloatImage tile = th == h ? unit : data::resize_image(unit, tw, th);
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x) {
          const auto v = static_cast<uint8_t>(std::lround(255.0f * tile.at(y, x)));
          img.set(y0 + y, x0 + x, {v, v, v});
        }
      if (th == h)
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            if (bad[static_cast<size_t>(y) * w + x]) img.set(y0 + y, x0 + x, kNonFinite);
    } else {  // enlarged by an integer factor: each unit a square
      const int f = th / h;
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x) {
          const size_t i = static_cast<size_t>(y / f) * w + x / f;
          const auto v = static_cast<uint8_t>(std::lround(255.0f * unit.pixels[i]));
          img.set(y0 + y, x0 + x, bad[i] ? kNonFinite : train::Rgb{v, v, v});
        }
    }
  }
  return img;
}

void write_feature_maps(const std::string& path, const Tensor& maps, const std::string& caption,
                        const FeatureMapOptions& options) {
  train::write_png_rgb(path, feature_map_grid(maps, caption, options));
}

}  // namespace fcnlab
