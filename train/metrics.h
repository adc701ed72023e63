// metrics.h — how segmentations and per-image pneumothorax calls are scored: the SIIM-ACR
// competition's mean Dice (an image whose truth and prediction are both empty counts 1), Dice on
// positive images only, IoU, pixel accuracy, and image-level AUC, sensitivity and specificity.
// Facts: ../shared/reference/siim.md §3-5. Everything here is plain CPU code over host arrays.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab::train {

// One image's outcome, kept so that thresholds can be re-tuned without re-running the model.
struct ImageResult {
  std::string id;          // image id (file stem)
  bool truth_positive = false;  // the truth mask has any foreground pixel
  double score = 0;        // image-level pneumothorax probability (max pixel prob, or the head's)
  int64_t pred_area = 0;   // foreground pixels predicted at the decision threshold
  int64_t truth_area = 0;
  int64_t intersection = 0;  // |pred AND truth|
  int64_t pixels = 0;        // H * W
  int64_t correct = 0;       // pixels where pred == truth
  bool has_truth = true;     // false when no truth mask was given (prediction only)
};

// The per-image scores the competition averages. Both: 1 when prediction and truth are both
// empty, 0 when exactly one is.
double image_dice(const ImageResult& r);
double image_iou(const ImageResult& r);
// The image-level call the segmentation makes: anything left after min_area.
inline bool predicted_positive(const ImageResult& r) { return r.pred_area > 0; }

// Builds a result from counts (tuning evaluates many thresholds from cached counts); `correct`
// follows from the others: pixels - (pred_area + truth_area - 2 * intersection).
ImageResult result_from_counts(const std::string& id, double score, int64_t pixels,
                               int64_t pred_area, int64_t truth_area, int64_t intersection);

// Scores one image: prob (H*W foreground probabilities), truth (H*W, 0/1 or nullptr when
// unknown), threshold on prob, and min_area: a prediction with fewer foreground pixels is
// emptied (the competition's usual post-processing). A pixel is foreground when
// prob >= threshold (the rule train/model_io.h documents); `score` is the largest pixel
// probability.
// The predicted mask itself, when wanted: threshold_mask below.
ImageResult score_image(const std::string& id, const float* prob, const uint8_t* truth,
                        int64_t pixels, double threshold, int64_t min_area);

// The post-processed mask: mask[i] = prob[i] >= threshold, all zero when fewer than min_area
// pixels are set. Returns the foreground count after post-processing.
int64_t threshold_mask(const float* prob, int64_t pixels, double threshold, int64_t min_area,
                       uint8_t* mask);

// Image-level confusion counts of predicted_positive against truth_positive.
struct Confusion {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};

struct Metrics {
  int64_t images = 0, positives = 0;
  Confusion confusion;
  double dice = 0;           // competition mean Dice (both empty = 1)
  double dice_positive = 0;  // mean Dice over images whose truth is positive (NaN if none)
  double iou = 0;            // mean IoU, same empty rule as dice
  double pixel_accuracy = 0;
  double auc = 0;            // ROC AUC of score vs truth_positive (NaN when one class is absent)
  double sensitivity = 0, specificity = 0;  // of "pred_area > 0" as the image-level call
                                            // (NaN when the class they divide by is absent)
};
// Throws when `results` is empty or an image has no truth (has_truth false), naming it.
Metrics summarize(const std::vector<ImageResult>& results);

// Per-image CSV, written atomically: id,truth_positive,score,pred_area,truth_area,
// intersection,pixels,dice,iou,pred_positive (truth columns empty for images without truth).
void write_image_results_csv(const std::string& path, const std::vector<ImageResult>& results);
// The same CSV's header line and one row (each ending in '\n'), for writers that add columns.
std::string image_results_csv_header();
std::string image_result_csv_row(const ImageResult& r);
// A CSV field, quoted when it holds a comma, quote or line break.
std::string csv_quote(const std::string& s);
// A number as the CSVs and tables print it: up to 6 significant digits, "nan" for NaN.
std::string format_metric(double v);

// ROC AUC by the rank statistic (ties count half). NaN when a class has no member.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace fcnlab::train
