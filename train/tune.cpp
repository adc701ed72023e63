// tune.cpp — per-threshold counts for each image, then a grid search over (threshold, min_area)
// for the best mean competition Dice. See tune.h.
#include "train/tune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace fcnlab::train {

std::vector<double> default_thresholds() {
  std::vector<double> t;
  // i / 20.0, not i * 0.05: 0.25, 0.5, 0.75 come out exact, so a probability of exactly 0.5
  // meets the 0.5 threshold, never misses it by a rounding accident.
  for (int i = 1; i <= 19; ++i) t.push_back(i / 20.0);
  return t;
}

std::vector<int64_t> default_min_areas(int64_t pixels) {
  std::vector<int64_t> a{0};
  for (double f : {0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008}) {
    const int64_t v = std::max<int64_t>(1, std::llround(f * static_cast<double>(pixels)));
    if (v > a.back()) a.push_back(v);
  }
  return a;
}

ImageCurve image_curve(const std::string& id, const float* prob, const uint8_t* truth,
                       int64_t pixels, const std::vector<double>& thresholds) {
  FCNLAB_CHECK(truth != nullptr, "image_curve '", id, "': tuning needs the truth mask");
  FCNLAB_CHECK(!thresholds.empty() && std::is_sorted(thresholds.begin(), thresholds.end()),
               "image_curve: thresholds must be non-empty and ascending");
  const size_t k = thresholds.size();
  // above[j]: pixels whose probability exceeds exactly thresholds[0..j-1]; a cumulative sum
  // from the top then gives, per threshold, the pixels above it.
  std::vector<int64_t> above(k + 1, 0), above_truth(k + 1, 0);
  ImageCurve c;
  c.id = id;
  c.pixels = pixels;
  float best = -1;
  for (int64_t i = 0; i < pixels; ++i) {
    const float p = prob[i];
    FCNLAB_CHECK(std::isfinite(p), "image_curve '", id, "': probability at pixel ", i, " is ", p);
    best = std::max(best, p);
    // Foreground at threshold t when p >= t: upper_bound of p counts the t <= p.
    const size_t j = static_cast<size_t>(
        std::upper_bound(thresholds.begin(), thresholds.end(), static_cast<double>(p)) -
        thresholds.begin());
    ++above[j];
    if (truth[i]) {
      ++above_truth[j];
      ++c.truth_area;
    }
  }
  c.score = best;
  c.pred_area.assign(k, 0);
  c.intersection.assign(k, 0);
  int64_t run = 0, run_t = 0;
  for (size_t t = k; t-- > 0;) {
    run += above[t + 1];
    run_t += above_truth[t + 1];
    c.pred_area[t] = run;
    c.intersection[t] = run_t;
  }
  return c;
}

ImageResult curve_result(const ImageCurve& c, size_t t, int64_t min_area) {
  FCNLAB_CHECK(t < c.pred_area.size(), "curve_result '", c.id, "': threshold index ", t,
               " outside its grid of ", c.pred_area.size());
  int64_t pred = c.pred_area[t], inter = c.intersection[t];
  if (pred > 0 && pred < min_area) pred = inter = 0;
  return result_from_counts(c.id, c.score, c.pixels, pred, c.truth_area, inter);
}

TuneResult tune_postprocessing(const std::vector<ImageCurve>& curves,
                               const std::vector<double>& thresholds,
                               const std::vector<int64_t>& min_areas) {
  FCNLAB_CHECK(!curves.empty(), "tune_postprocessing: no validation images");
  FCNLAB_CHECK(!thresholds.empty() && !min_areas.empty(),
               "tune_postprocessing: empty threshold or min_area grid");
  for (const ImageCurve& c : curves)
    FCNLAB_CHECK(c.pred_area.size() == thresholds.size(), "tune_postprocessing: image '", c.id,
                 "' was measured at ", c.pred_area.size(), " thresholds, the grid has ",
                 thresholds.size());
  TuneResult r;
  r.thresholds = thresholds;
  r.min_areas = min_areas;
  r.grid_dice.assign(thresholds.size(), std::vector<double>(min_areas.size(), 0.0));
  for (size_t t = 0; t < thresholds.size(); ++t)
    for (size_t a = 0; a < min_areas.size(); ++a) {
      double sum = 0;
      for (const ImageCurve& c : curves) sum += image_dice(curve_result(c, t, min_areas[a]));
      r.grid_dice[t][a] = sum / static_cast<double>(curves.size());
    }
  std::vector<size_t> order(thresholds.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return std::abs(thresholds[x] - 0.5) < std::abs(thresholds[y] - 0.5);
  });
  double best = -1;
  for (size_t t : order)
    for (size_t a = 0; a < min_areas.size(); ++a)
      if (r.grid_dice[t][a] > best) {
        best = r.grid_dice[t][a];
        r.threshold = thresholds[t];
        r.min_area = min_areas[a];
      }
  r.dice = best;
  return r;
}

}  // namespace fcnlab::train
