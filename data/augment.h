// augment.h — training augmentation applied identically to an image and its mask:
// horizontal flip and shift-scale-rotate (one affine map: bilinear for the image, nearest for
// the mask, zero outside), then brightness/contrast/gamma on the image only.
// Parameters are drawn from Philox keyed by (seed, stream): the loader passes a stream derived
// from (epoch, sample index), so the result never depends on which thread did the work.
// Off by default (evaluation); defaults otherwise follow the 1st-place SIIM recipe
// (reference/siim.md §5) with a milder rotation.
#pragma once
#include <cstdint>

#include "data/image.h"
#include "data/transforms.h"

namespace fcnlab::data {

struct AugmentConfig {
  bool enabled = false;
  double hflip_p = 0.5;
  double ssr_p = 0.5;              // shift-scale-rotate
  double shift_limit = 0.0625;     // fraction of the size, each axis
  double scale_limit = 0.1;        // scale in [1 - l, 1 + l]
  double rotate_limit_deg = 15.0;  // angle in [-l, l]
  double color_p = 0.3;            // brightness/contrast/gamma
  double brightness_limit = 0.2;   // added, in [-l, l] (image in [0, 1])
  double contrast_limit = 0.2;     // factor in [1 - l, 1 + l]
  double gamma_lo = 0.8, gamma_hi = 1.2;
};

// What one sample gets. The identity by default.
struct AugmentParams {
  bool hflip = false;
  double angle_deg = 0, scale = 1, shift_x = 0, shift_y = 0;  // shifts as fractions of the size
  double brightness = 0, contrast = 1, gamma = 1;
  bool geometric() const {
    return hflip || angle_deg != 0 || scale != 1 || shift_x != 0 || shift_y != 0;
  }
};

AugmentParams sample_augment(const AugmentConfig& config, uint64_t seed, uint64_t stream);

// Warps image (bilinear) and mask (nearest) with the same map, then adjusts the image's
// intensities: v -> clamp(v * contrast + brightness, 0, 1) ^ gamma. Sizes must match.
void apply_augment(const AugmentParams& p, FloatImage& image, GrayImage& mask);

}  // namespace fcnlab::data
