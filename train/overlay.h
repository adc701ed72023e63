// overlay.h — the pictures fcnlab-predict and fcnlab-evaluate write: colour images, their PNG
// encoding, the 0/255 mask PNG, and the overlay (the X-ray in gray, the predicted region tinted
// and outlined in red; when the truth is known, its outline in green).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace fcnlab::train {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// An 8-bit RGB image, row-major and interleaved: pixels[3 * (y * width + x) + c].
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;

  RgbImage() = default;
  RgbImage(int w, int h, Rgb fill = {255, 255, 255});
  Rgb get(int y, int x) const;
  void set(int y, int x, Rgb c);  // ignores pixels outside the image (clipped drawing)
  // Blends c over the pixel with opacity alpha in [0, 1].
  void blend(int y, int x, Rgb c, double alpha);
};

// The PNG encoding (stb_image_write, RGB, 8 bits) and an atomic write (temp name + rename).
std::vector<uint8_t> encode_png_rgb(const RgbImage& img);
void write_png_rgb(const std::string& path, const RgbImage& img);

// A 0/1 (or 0/nonzero) mask of (H, W) as the 0/255 gray image mask PNGs hold.
data::GrayImage mask_to_image(const std::vector<uint8_t>& mask, int width, int height);

// Resizes a 0/1 mask by nearest neighbour (pixel centres), e.g. from the model's input size
// back to the source image's size.
std::vector<uint8_t> resize_mask_nearest(const std::vector<uint8_t>& mask, int width, int height,
                                         int out_width, int out_height);

// Pixels of the mask that touch (4-neighbourhood) a background pixel or the image border,
// grown to `thickness` pixels inwards.
std::vector<uint8_t> mask_outline(const std::vector<uint8_t>& mask, int width, int height,
                                  int thickness);

// The overlay colours, fixed so every picture reads the same.
inline constexpr Rgb kPredColour{230, 40, 40};     // red: prediction (tint + outline)
inline constexpr Rgb kTruthColour{40, 220, 60};    // green: truth (outline)

// The X-ray as gray RGB; pred (H*W, 0/1, same size as xray) tinted at 35% and outlined;
// truth (may be nullptr) outlined on top. Outline thickness grows with the image
// (1 px up to 384 px wide, then width / 384).
RgbImage make_overlay(const data::GrayImage& xray, const std::vector<uint8_t>& pred,
                      const std::vector<uint8_t>* truth);

}  // namespace fcnlab::train
