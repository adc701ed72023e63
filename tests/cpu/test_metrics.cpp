// Metrics on hand-built cases whose answers are derived in the comments: per-image Dice/IoU
// with the empty rule, min_area, summarize (competition Dice, positive-only Dice, pixel
// accuracy, confusion, sensitivity/specificity), ROC AUC with ties, the per-image CSV, and the
// threshold/min_area tuner.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "tests/common/temp_dir.h"
#include "train/metrics.h"
#include "train/tune.h"

using namespace fcnlab;
using namespace fcnlab::train;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("metrics: per-image Dice and IoU, both empty counts 1, one empty counts 0") {
  // 2x3 image. prob >= 0.5 predicts pixels {0,1,2}; truth is {1,2,3}.
  const float prob[6] = {0.9f, 0.6f, 0.5f, 0.49f, 0.1f, 0.0f};
  const uint8_t truth[6] = {0, 1, 1, 1, 0, 0};
  ImageResult r = score_image("a", prob, truth, 6, 0.5, 0);
  CHECK(r.pred_area == 3);  // 0.5 itself meets the threshold, 0.49 does not
  CHECK(r.truth_area == 3);
  CHECK(r.intersection == 2);
  CHECK(r.correct == 4);     // pixels 1,2 (both on), 4,5 (both off)
  CHECK(r.truth_positive);
  CHECK(r.score == doctest::Approx(0.9));
  CHECK(image_dice(r) == doctest::Approx(2.0 * 2 / 6));
  CHECK(image_iou(r) == doctest::Approx(2.0 / 4));

  const uint8_t none[6] = {0, 0, 0, 0, 0, 0};
  ImageResult empty_both = score_image("b", prob, none, 6, 0.95, 0);
  CHECK(empty_both.pred_area == 0);
  CHECK(image_dice(empty_both) == 1.0);
  CHECK(image_iou(empty_both) == 1.0);
  ImageResult false_pos = score_image("c", prob, none, 6, 0.5, 0);
  CHECK(image_dice(false_pos) == 0.0);
  CHECK(image_iou(false_pos) == 0.0);
  ImageResult missed = score_image("d", prob, truth, 6, 0.95, 0);
  CHECK(image_dice(missed) == 0.0);
}

TEST_CASE("metrics: min_area empties a small prediction, and threshold_mask agrees") {
  const float prob[6] = {0.9f, 0.6f, 0.5f, 0.49f, 0.1f, 0.0f};
  const uint8_t truth[6] = {0, 0, 0, 0, 0, 0};
  ImageResult kept = score_image("k", prob, truth, 6, 0.5, 3);  // area 3 is not < 3
  CHECK(kept.pred_area == 3);
  ImageResult dropped = score_image("d", prob, truth, 6, 0.5, 4);
  CHECK(dropped.pred_area == 0);
  CHECK(dropped.intersection == 0);
  CHECK(dropped.correct == 6);
  CHECK(image_dice(dropped) == 1.0);  // now both empty
  CHECK(dropped.score == doctest::Approx(0.9));  // the score is untouched by post-processing

  uint8_t mask[6];
  CHECK(threshold_mask(prob, 6, 0.5, 3, mask) == 3);
  CHECK(std::vector<uint8_t>(mask, mask + 6) == std::vector<uint8_t>{1, 1, 1, 0, 0, 0});
  CHECK(threshold_mask(prob, 6, 0.5, 4, mask) == 0);
  CHECK(std::vector<uint8_t>(mask, mask + 6) == std::vector<uint8_t>(6, 0));
}

TEST_CASE("metrics: a non-finite probability is an error naming the image") {
  const float prob[2] = {0.2f, std::nanf("")};
  const uint8_t truth[2] = {0, 0};
  CHECK_THROWS_WITH_AS(score_image("img7", prob, truth, 2, 0.5, 0),
                       doctest::Contains("img7"), Error);
}

TEST_CASE("metrics: ROC AUC by ranks, ties count half, NaN with one class") {
  // Perfectly separated.
  CHECK(roc_auc({0.1, 0.2, 0.8, 0.9}, {false, false, true, true}) == 1.0);
  CHECK(roc_auc({0.9, 0.8, 0.2, 0.1}, {false, false, true, true}) == 0.0);
  // All tied: every pos/neg pair counts half.
  CHECK(roc_auc({0.5, 0.5, 0.5}, {true, false, false}) == doctest::Approx(0.5));
  // pos {0.4, 0.7}, neg {0.4, 0.2, 0.9}. Pairs (pos, neg): 0.4: vs 0.4 tie 0.5, vs 0.2 win 1,
  // vs 0.9 loss 0 -> 1.5; 0.7: win, win, loss -> 2. AUC = 3.5 / 6.
  CHECK(roc_auc({0.4, 0.7, 0.4, 0.2, 0.9}, {true, true, false, false, false}) ==
        doctest::Approx(3.5 / 6));
  CHECK(std::isnan(roc_auc({0.1, 0.2}, {true, true})));
  CHECK(std::isnan(roc_auc({0.1, 0.2}, {false, false})));
  CHECK(std::isnan(roc_auc({}, {})));
  CHECK_THROWS_AS(roc_auc({0.1}, {true, false}), Error);
}

TEST_CASE("metrics: summarize gives the competition Dice, positive-only Dice and the confusion") {
  std::vector<ImageResult> rs;
  // pixels 100 each.
  rs.push_back(result_from_counts("tp", 0.9, 100, 10, 10, 5));  // dice 0.5, iou 5/15
  rs.push_back(result_from_counts("fn", 0.3, 100, 0, 20, 0));   // dice 0, iou 0
  rs.push_back(result_from_counts("tn", 0.2, 100, 0, 0, 0));    // dice 1, iou 1
  rs.push_back(result_from_counts("fp", 0.6, 100, 4, 0, 0));    // dice 0, iou 0
  Metrics m = summarize(rs);
  CHECK(m.images == 4);
  CHECK(m.positives == 2);
  CHECK(m.dice == doctest::Approx((0.5 + 0 + 1 + 0) / 4));
  CHECK(m.dice_positive == doctest::Approx((0.5 + 0) / 2));
  CHECK(m.iou == doctest::Approx((5.0 / 15 + 0 + 1 + 0) / 4));
  // wrong pixels: tp 10+10-2*5=10, fn 20, tn 0, fp 4 -> 34 of 400.
  CHECK(m.pixel_accuracy == doctest::Approx(1 - 34.0 / 400));
  CHECK(m.confusion.tp == 1);
  CHECK(m.confusion.fn == 1);
  CHECK(m.confusion.tn == 1);
  CHECK(m.confusion.fp == 1);
  CHECK(m.sensitivity == doctest::Approx(0.5));
  CHECK(m.specificity == doctest::Approx(0.5));
  // scores: pos {0.9, 0.3}, neg {0.2, 0.6}: pairs 0.9 wins both, 0.3 beats 0.2 only -> 3/4.
  CHECK(m.auc == doctest::Approx(0.75));
}

TEST_CASE("metrics: summarize with no positives gives NaN where undefined, all-empty baseline") {
  // Four negatives predicted empty: the "all empty" predictor scores 1 on them.
  std::vector<ImageResult> rs;
  for (int i = 0; i < 4; ++i) rs.push_back(result_from_counts(std::string("n").append(std::to_string(i)), 0.1, 16, 0, 0, 0));
  Metrics m = summarize(rs);
  CHECK(m.dice == 1.0);
  CHECK(std::isnan(m.dice_positive));
  CHECK(std::isnan(m.auc));
  CHECK(std::isnan(m.sensitivity));
  CHECK(m.specificity == 1.0);
  CHECK(m.pixel_accuracy == 1.0);
  // Add one positive predicted empty: the all-empty score is the negative fraction, 4/5.
  rs.push_back(result_from_counts("p", 0.1, 16, 0, 3, 0));
  CHECK(summarize(rs).dice == doctest::Approx(0.8));
}

TEST_CASE("metrics: summarize refuses no images and images without truth") {
  CHECK_THROWS_AS(summarize({}), Error);
  const float prob[2] = {0.9f, 0.1f};
  std::vector<ImageResult> rs{score_image("nolabel", prob, nullptr, 2, 0.5, 0)};
  CHECK_FALSE(rs[0].has_truth);
  CHECK_THROWS_WITH_AS(summarize(rs), doctest::Contains("nolabel"), Error);
  CHECK_THROWS_AS(result_from_counts("bad", 0, 10, 2, 2, 3), Error);  // overlap > areas
}

TEST_CASE("metrics: per-image CSV columns, quoting, empty truth columns") {
  test::TempDir dir("metrics_csv");
  const float prob[2] = {0.9f, 0.1f};
  std::vector<ImageResult> rs{result_from_counts("a", 0.75, 100, 10, 10, 5),
                              score_image("b,c", prob, nullptr, 2, 0.5, 0)};
  write_image_results_csv(dir / "per_image.csv", rs);
  CHECK(slurp(dir / "per_image.csv") ==
        "id,truth_positive,score,pred_area,truth_area,intersection,pixels,dice,iou,pred_positive\n"
        "a,1,0.75,10,10,5,100,0.5,0.333333,1\n"
        "\"b,c\",,0.9,1,,,2,,,1\n");
  CHECK(dir.listing() == std::vector<std::string>{"per_image.csv"});  // no temp left
  CHECK_THROWS_AS(write_image_results_csv(dir / "missing/x.csv", rs), Error);
}

TEST_CASE("tune: image_curve counts match score_image at every threshold") {
  const float prob[8] = {0.0f, 0.15f, 0.25f, 0.25f, 0.55f, 0.7f, 0.95f, 1.0f};
  const uint8_t truth[8] = {0, 0, 1, 0, 1, 1, 0, 1};
  const std::vector<double> ts = default_thresholds();
  ImageCurve c = image_curve("x", prob, truth, 8, ts);
  REQUIRE(c.pred_area.size() == ts.size());
  CHECK(c.truth_area == 4);
  CHECK(c.score == doctest::Approx(1.0));
  for (size_t t = 0; t < ts.size(); ++t)
    for (int64_t a : {0, 2, 5}) {
      ImageResult direct = score_image("x", prob, truth, 8, ts[t], a);
      ImageResult cached = curve_result(c, t, a);
      CHECK(cached.pred_area == direct.pred_area);
      CHECK(cached.intersection == direct.intersection);
      CHECK(cached.correct == direct.correct);
    }
  // Spot values: at 0.25 (index 4) the pixels that meet it are 0.25, 0.25, 0.55, 0.7, 0.95,
  // 1.0, four of them truth; at 0.3 the two 0.25s drop out, one of them truth.
  CHECK(ts[4] == 0.25);
  CHECK(c.pred_area[4] == 6);
  CHECK(c.intersection[4] == 4);
  CHECK(c.pred_area[5] == 4);
  CHECK(c.intersection[5] == 3);
  CHECK(c.pred_area[0] == 7);  // all but the 0 meet 0.05
}

TEST_CASE("tune: picks the threshold and min_area that maximise mean Dice") {
  // Image A (positive): truth {0,1}, probs 0.8, 0.8 there and 0.4 on two other pixels: any
  //   threshold in [0.4, 0.8) is perfect; below 0.4 it adds two false pixels (Dice 2*2/6).
  // Image B (negative): one spurious pixel at 0.9 — only min_area >= 2 can empty it.
  // Image C (negative): all probs 0.1.
  // Best: threshold 0.5 (nearest 0.5 in the perfect band), min_area 2 (smallest that fixes B,
  //   keeps A whose area is 2) -> mean Dice 1.
  const float pa[4] = {0.8f, 0.8f, 0.4f, 0.4f};
  const uint8_t ta[4] = {1, 1, 0, 0};
  const float pb[4] = {0.9f, 0.0f, 0.0f, 0.0f};
  const float pc[4] = {0.1f, 0.1f, 0.1f, 0.1f};
  const uint8_t tn[4] = {0, 0, 0, 0};
  const std::vector<double> ts = default_thresholds();
  const std::vector<int64_t> areas{0, 1, 2, 3};
  std::vector<ImageCurve> cs{image_curve("A", pa, ta, 4, ts), image_curve("B", pb, tn, 4, ts),
                             image_curve("C", pc, tn, 4, ts)};
  TuneResult r = tune_postprocessing(cs, ts, areas);
  CHECK(r.threshold == doctest::Approx(0.5));
  CHECK(r.min_area == 2);
  CHECK(r.dice == doctest::Approx(1.0));
  // min_area 0 at 0.5: B scores 0 -> 2/3. min_area 3 empties A -> (0 + 1 + 1) / 3.
  CHECK(r.grid_dice[9][0] == doctest::Approx(2.0 / 3));
  CHECK(r.grid_dice[9][3] == doctest::Approx(2.0 / 3));
  // threshold 0.35 (index 6), min_area 2: A gets 4 pixels -> 2*2/6; B, C perfect.
  CHECK(r.grid_dice[6][2] == doctest::Approx((4.0 / 6 + 2) / 3));

  CHECK(default_min_areas(1024 * 1024).front() == 0);
  CHECK(default_min_areas(1024 * 1024)[4] == 2097);  // 0.2% of 1024^2
  CHECK_THROWS_AS(tune_postprocessing({}, ts, areas), Error);
  CHECK_THROWS_AS(tune_postprocessing(cs, {0.5}, areas), Error);  // curves built on another grid
}
