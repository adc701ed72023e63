// metrics.cpp — per-image scoring, the competition's mean Dice and friends, ROC AUC by ranks,
// and the per-image CSV. See metrics.h for the definitions; siim.md §3 for the empty rule.
#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "engine/error.h"
#include "engine/serialize/atomic_file.h"

namespace fcnlab::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double image_dice(const ImageResult& r) {
  const int64_t denom = r.pred_area + r.truth_area;
  if (denom == 0) return 1.0;  // both empty: the competition counts a perfect 1
  return 2.0 * static_cast<double>(r.intersection) / static_cast<double>(denom);
}

double image_iou(const ImageResult& r) {
  const int64_t uni = r.pred_area + r.truth_area - r.intersection;
  if (uni == 0) return 1.0;
  return static_cast<double>(r.intersection) / static_cast<double>(uni);
}

ImageResult result_from_counts(const std::string& id, double score, int64_t pixels,
                               int64_t pred_area, int64_t truth_area, int64_t intersection) {
  FCNLAB_CHECK(intersection >= 0 && intersection <= pred_area && intersection <= truth_area &&
                   pred_area + truth_area - intersection <= pixels,
               "image '", id, "': inconsistent counts (pixels ", pixels, ", predicted ", pred_area,
               ", truth ", truth_area, ", intersection ", intersection, ")");
  ImageResult r;
  r.id = id;
  r.score = score;
  r.pixels = pixels;
  r.pred_area = pred_area;
  r.truth_area = truth_area;
  r.intersection = intersection;
  r.truth_positive = truth_area > 0;
  r.correct = pixels - (pred_area + truth_area - 2 * intersection);
  return r;
}

int64_t threshold_mask(const float* prob, int64_t pixels, double threshold, int64_t min_area,
                       uint8_t* mask) {
  int64_t area = 0;
  for (int64_t i = 0; i < pixels; ++i) {
    const uint8_t on = prob[i] >= threshold;
    mask[i] = on;
    area += on;
  }
  if (area > 0 && area < min_area) {
    std::fill(mask, mask + pixels, uint8_t{0});
    area = 0;
  }
  return area;
}

ImageResult score_image(const std::string& id, const float* prob, const uint8_t* truth,
                        int64_t pixels, double threshold, int64_t min_area) {
  FCNLAB_CHECK(pixels > 0, "score_image '", id, "': no pixels");
  int64_t pred = 0, inter = 0, tarea = 0;
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < pixels; ++i) {
    const float p = prob[i];
    FCNLAB_CHECK(std::isfinite(p), "score_image '", id, "': probability at pixel ", i, " is ", p,
                 " (expected a finite number in [0, 1])");
    best = std::max(best, p);
    const bool on = p >= threshold;
    const bool t = truth != nullptr && truth[i] != 0;
    pred += on;
    tarea += t;
    inter += on && t;
  }
  if (pred > 0 && pred < min_area) pred = inter = 0;  // too small: the image is called empty
  ImageResult r = result_from_counts(id, best, pixels, pred, tarea, inter);
  r.has_truth = truth != nullptr;
  return r;
}

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  FCNLAB_CHECK(scores.size() == positive.size(), "roc_auc: ", scores.size(), " scores but ",
               positive.size(), " labels");
  const size_t n = scores.size();
  for (size_t i = 0; i < n; ++i)
    FCNLAB_CHECK(!std::isnan(scores[i]), "roc_auc: score ", i, " is NaN");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney: AUC = (sum of positive ranks - P(P+1)/2) / (P N), ranks 1-based, a run of
  // tied scores all get the run's mean rank (so a tied positive/negative pair counts half).
  double pos_rank_sum = 0;
  int64_t npos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of i+1 .. j
    for (size_t k = i; k < j; ++k)
      if (positive[order[k]]) {
        pos_rank_sum += mean_rank;
        ++npos;
      }
    i = j;
  }
  const int64_t nneg = static_cast<int64_t>(n) - npos;
  if (npos == 0 || nneg == 0) return kNaN;
  const double p = static_cast<double>(npos), q = static_cast<double>(nneg);
  return (pos_rank_sum - p * (p + 1) / 2) / (p * q);
}

Metrics summarize(const std::vector<ImageResult>& results) {
  FCNLAB_CHECK(!results.empty(), "summarize: no images to score");
  Metrics m;
  double dice = 0, dice_pos = 0, iou = 0;
  int64_t correct = 0, pixels = 0;
  std::vector<double> scores;
  std::vector<bool> labels;
  scores.reserve(results.size());
  labels.reserve(results.size());
  for (const ImageResult& r : results) {
    FCNLAB_CHECK(r.has_truth, "summarize: image '", r.id,
                 "' has no truth mask, so it cannot be scored");
    const double d = image_dice(r);
    dice += d;
    iou += image_iou(r);
    if (r.truth_positive) {
      dice_pos += d;
      ++m.positives;
    }
    correct += r.correct;
    pixels += r.pixels;
    scores.push_back(r.score);
    labels.push_back(r.truth_positive);
    const bool call = predicted_positive(r);
    if (r.truth_positive) (call ? m.confusion.tp : m.confusion.fn)++;
    else (call ? m.confusion.fp : m.confusion.tn)++;
  }
  m.images = static_cast<int64_t>(results.size());
  const double n = static_cast<double>(m.images);
  m.dice = dice / n;
  m.iou = iou / n;
  m.dice_positive = m.positives > 0 ? dice_pos / static_cast<double>(m.positives) : kNaN;
  m.pixel_accuracy = pixels > 0 ? static_cast<double>(correct) / static_cast<double>(pixels) : kNaN;
  m.auc = roc_auc(scores, labels);
  const Confusion& c = m.confusion;
  m.sensitivity = c.tp + c.fn > 0 ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fn) : kNaN;
  m.specificity = c.tn + c.fp > 0 ? static_cast<double>(c.tn) / static_cast<double>(c.tn + c.fp) : kNaN;
  return m;
}

std::string format_metric(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string image_results_csv_header() {
  return "id,truth_positive,score,pred_area,truth_area,intersection,pixels,dice,iou,"
         "pred_positive\n";
}

std::string image_result_csv_row(const ImageResult& r) {
  std::string text = csv_quote(r.id) + ",";
  text += r.has_truth ? (r.truth_positive ? "1," : "0,") : ",";
  text += format_metric(r.score) + "," + std::to_string(r.pred_area) + ",";
  text += r.has_truth ? std::to_string(r.truth_area) + "," + std::to_string(r.intersection) + ","
                      : std::string(",,");
  text += std::to_string(r.pixels) + ",";
  text += r.has_truth ? format_metric(image_dice(r)) + "," + format_metric(image_iou(r)) + ","
                      : std::string(",,");
  text += predicted_positive(r) ? "1\n" : "0\n";
  return text;
}

void write_image_results_csv(const std::string& path, const std::vector<ImageResult>& results) {
  std::string text = image_results_csv_header();
  for (const ImageResult& r : results) text += image_result_csv_row(r);
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace fcnlab::train
