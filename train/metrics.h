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
};

// Scores one image: prob (H*W foreground probabilities), truth (H*W, 0/1 or nullptr when
// unknown), threshold on prob, and min_area: a prediction with fewer foreground pixels is
// emptied (the competition's usual post-processing).
ImageResult score_image(const std::string& id, const float* prob, const uint8_t* truth,
                        int64_t pixels, double threshold, int64_t min_area);

struct Metrics {
  int64_t images = 0, positives = 0;
  double dice = 0;           // competition mean Dice (both empty = 1)
  double dice_positive = 0;  // mean Dice over images whose truth is positive (NaN if none)
  double iou = 0;            // mean IoU, same empty rule as dice
  double pixel_accuracy = 0;
  double auc = 0;            // ROC AUC of score vs truth_positive (NaN when one class is absent)
  double sensitivity = 0, specificity = 0;  // of "pred_area > 0" as the image-level call
};
Metrics summarize(const std::vector<ImageResult>& results);

// ROC AUC by the rank statistic (ties count half). NaN when a class has no member.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace fcnlab::train
