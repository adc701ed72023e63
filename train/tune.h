// tune.h — choosing the post-processing on validation: the probability threshold that makes a
// pixel foreground and the minimum predicted area below which an image is called empty, both
// picked to maximise the competition's mean Dice (siim.md §3: top solutions all tune these).
//
// The model runs once: for each validation image an ImageCurve keeps, per candidate threshold,
// the predicted area and its overlap with the truth. Every (threshold, min_area) pair is then
// scored from those counts alone, so a 19 x 8 grid costs no more than one pass over the pixels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/metrics.h"

namespace fcnlab::train {

// The thresholds tried by default: 0.05, 0.10, ..., 0.95.
std::vector<double> default_thresholds();
// Minimum areas tried by default for an image of `pixels` pixels: 0 and 0.025%, 0.05%, 0.1%,
// 0.2%, 0.4%, 0.8% of the image (the 2,048 px that some winners used at 1024^2 is 0.2%).
std::vector<int64_t> default_min_areas(int64_t pixels);

// One image's counts at each threshold of the grid it was built with.
struct ImageCurve {
  std::string id;
  double score = 0;     // image-level probability (max pixel probability unless replaced)
  int64_t pixels = 0;
  int64_t truth_area = 0;
  std::vector<int64_t> pred_area;     // [t]: pixels with prob >= thresholds[t]
  std::vector<int64_t> intersection;  // [t]: of those, truth pixels
};

// prob and truth: H*W (truth 0/1, required); thresholds ascending.
ImageCurve image_curve(const std::string& id, const float* prob, const uint8_t* truth,
                       int64_t pixels, const std::vector<double>& thresholds);

// The ImageResult the curve gives at threshold index t and a minimum area.
ImageResult curve_result(const ImageCurve& c, size_t t, int64_t min_area);

struct TuneResult {
  double threshold = 0.5;
  int64_t min_area = 0;
  double dice = 0;                       // mean competition Dice at the chosen pair
  std::vector<double> thresholds;        // the grid
  std::vector<int64_t> min_areas;
  std::vector<std::vector<double>> grid_dice;  // [t][a]
};

// Scores every pair and returns the best. Ties keep the pair found first, scanning min_areas
// ascending inside thresholds ordered by distance from 0.5 (so a flat optimum picks the
// threshold nearest 0.5 and the smallest area). Throws when curves is empty or a curve was
// built with another grid.
TuneResult tune_postprocessing(const std::vector<ImageCurve>& curves,
                               const std::vector<double>& thresholds,
                               const std::vector<int64_t>& min_areas);

}  // namespace fcnlab::train
