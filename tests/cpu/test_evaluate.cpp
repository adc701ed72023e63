// fcnlab-evaluate, run in-process through evaluate_main: two checkpoints side by side on fresh
// phantoms (table, CSVs and confusion.png consistent with each other and with the per-image
// rows), --data with the trainer's stratified validation split, the original DICOM+RLE release
// scored exactly as its PNG twin, and bad inputs.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/phantom.h"
#include "data/siim.h"
#include "tests/common/temp_dir.h"
#include "tests/cpu/test_predict_fixtures.h"
#include "train/evaluate_cli.h"
#include "train/plot.h"

using namespace fcnlab;
using namespace fcnlab::test;
namespace fs = std::filesystem;

TEST_CASE("evaluate: two checkpoints side by side on phantoms, files consistent") {
  TempDir dir("evaluate_two");
  train::ModelMeta a = tiny_meta(32, 1), b = tiny_meta(32, 2);
  // Thresholds that give each net a non-trivial mask on this kind of image.
  std::vector<data::GrayImage> sample;
  for (int k = 0; k < 4; ++k) sample.push_back(data::render_phantom(32, k % 2 == 0, 11, k).image);
  a.threshold = median_probability(a, sample);
  b.threshold = median_probability(b, sample);
  b.min_area = 3;
  b.has_head = true;  // B also has a classifier head: its rows appear in the table
  fs::create_directories(dir / "runA");
  fs::create_directories(dir / "runB");
  save_tiny_checkpoint(dir / "runA/best.safetensors", a);
  save_tiny_checkpoint(dir / "runB/best.safetensors", b);

  std::string err;
  const int rc = train::evaluate_main({"fcnlab-evaluate", dir / "runA/best.safetensors",
                                       dir / "runB/best.safetensors", "--phantoms", "9",
                                       "--out", dir / "ev"},
                                      &err);
  REQUIRE_MESSAGE(rc == 0, err);
  const std::string md = slurp(dir / "ev/evaluation.md");
  CHECK(md.find("| metric | runA/best | runB/best |") != std::string::npos);
  CHECK(md.find("competition Dice") != std::string::npos);
  CHECK(md.find("Dice, positives only") != std::string::npos);
  CHECK(md.find("| AUC (head) | - |") != std::string::npos);  // A has no head

  // evaluation.csv: one row per checkpoint; its Dice is the mean of the per-image rows.
  const std::vector<std::string> ev = read_lines(dir / "ev/evaluation.csv");
  REQUIRE(ev.size() == 3);
  const std::vector<std::string> head = split_csv_line(ev[0]);
  auto col = [&](const char* name) {
    return static_cast<size_t>(std::find(head.begin(), head.end(), name) - head.begin());
  };
  const std::vector<std::string> per = read_lines(dir / "ev/per_image.csv");
  REQUIRE(per.size() == 1 + 2 * 9);
  CHECK(per[0] ==
        "checkpoint,id,truth_positive,score,pred_area,truth_area,intersection,pixels,dice,iou,"
        "pred_positive,head_probability");
  std::map<std::string, double> dice_sum;
  std::map<std::string, int> n, pos, called, head_scores;
  for (size_t i = 1; i < per.size(); ++i) {
    const std::vector<std::string> f = split_csv_line(per[i]);
    REQUIRE(f.size() == 12);
    dice_sum[f[0]] += std::stod(f[8]);
    n[f[0]]++;
    pos[f[0]] += f[2] == "1";
    called[f[0]] += f[10] == "1";
    if (!f[11].empty()) {
      const double h = std::stod(f[11]);
      CHECK((h > 0 && h < 1));
      head_scores[f[0]]++;
    }
    CHECK(std::stoll(f[7]) == 32 * 32);  // scored at the phantoms' own size
  }
  {  // the bar to beat: an all-empty prediction scores the share of negative images
    const std::string key = "runA/best";
    REQUIRE(n.count(key) == 1);
    char want[96];
    const double empty = double(n[key] - pos[key]) / n[key];
    std::snprintf(want, sizeof want, "| Dice of predicting nothing | %.4f | %.4f |", empty, empty);
    CHECK_MESSAGE(md.find(want) != std::string::npos, want);
  }
  // The phantom CSVs say which images are positive.
  const data::SiimPngDataset ds = data::SiimPngDataset::open(dir / "ev/phantoms");
  int labelled = 0;
  for (const auto* recs : {&ds.train(), &ds.test()})
    for (const data::SiimRecord& r : *recs) labelled += r.has_pneumo;
  for (size_t row = 1; row <= 2; ++row) {
    const std::vector<std::string> f = split_csv_line(ev[row]);
    const std::string name = f[0];
    CHECK(n[name] == 9);
    CHECK(std::stoi(f[col("images")]) == 9);
    CHECK(std::stoi(f[col("positives")]) == pos[name]);
    CHECK(pos[name] == labelled);
    CHECK(std::stod(f[col("dice")]) == doctest::Approx(dice_sum[name] / 9).epsilon(1e-5));
    CHECK(std::stoi(f[col("tp")]) + std::stoi(f[col("fp")]) == called[name]);
  }
  CHECK(split_csv_line(ev[2])[col("min_area")] == "3");
  CHECK(head_scores["runA/best"] == 0);
  CHECK(head_scores["runB/best"] == 9);
  CHECK(split_csv_line(ev[1])[col("head_auc")] == "nan");
  CHECK(split_csv_line(ev[2])[col("head_auc")] != "nan");
  const data::PngInfo c = data::read_png_info(dir / "ev/confusion.png");
  // Three matrices side by side: A, B, and B's head.
  const train::RgbImage one = train::render_confusion({"runA/best", {}});
  CHECK(c.width > 3 * one.width);
}

TEST_CASE("evaluate: --data --split val scores the trainer's stratified validation split") {
  TempDir dir("evaluate_split");
  data::PhantomSetOptions po;
  po.count = 24;
  po.size = 32;
  data::write_phantom_set(dir / "set", po);
  save_tiny_checkpoint(dir / "ck.safetensors", tiny_meta(32, 4));
  std::string err;
  REQUIRE_MESSAGE(train::evaluate_main({"fcnlab-evaluate", dir / "ck.safetensors", "--data",
                                        dir / "set", "--val-fraction", "0.25", "--seed", "3",
                                        "--out", dir / "ev"},
                                       &err) == 0,
                  err);
  const data::SiimPngDataset ds = data::SiimPngDataset::open(dir / "set");
  const data::TrainValSplit s = data::stratified_split(ds.train(), 0.25, 3);
  std::set<std::string> want, got;
  for (size_t i : s.val) want.insert(fs::path(ds.train()[i].file).stem().string());
  const std::vector<std::string> per = read_lines(dir / "ev/per_image.csv");
  for (size_t i = 1; i < per.size(); ++i) got.insert(split_csv_line(per[i])[1]);
  CHECK(!want.empty());
  CHECK(got == want);
  CHECK(slurp(dir / "ev/evaluation.md").find("val fraction 0.25, seed 3") != std::string::npos);
}

TEST_CASE("evaluate: --data on the original DICOM+RLE release scores exactly as its PNG twin") {
  TempDir dir("evaluate_dicom");
  data::PhantomSetOptions po;
  po.count = 24;
  po.size = 32;
  po.seed = 6;
  data::write_phantom_set(dir / "png", po);
  po.release = data::siim::Release::dicom;  // the same cases in the original release's layout
  data::write_phantom_set(dir / "dcm", po);
  train::ModelMeta meta = tiny_meta(32, 4);
  std::vector<data::GrayImage> sample;
  for (int k = 0; k < 4; ++k) sample.push_back(data::render_phantom(32, k % 2 == 0, 6, k).image);
  meta.threshold = median_probability(meta, sample);
  save_tiny_checkpoint(dir / "ck.safetensors", meta);
  std::string err;
  for (const char* which : {"png", "dcm"})
    REQUIRE_MESSAGE(train::evaluate_main({"fcnlab-evaluate", dir / "ck.safetensors", "--data", dir / which,
                                          "--val-fraction", "0.25", "--seed", "3", "--out",
                                          dir / (std::string("ev_") + which)},
                                         &err) == 0,
                    err);
  // Per image (named by file stem: new_filename for the PNG release, the ImageId for DICOM):
  // the same cases, the same numbers.
  const data::SiimPngDataset ds = data::SiimPngDataset::open(dir / "png");
  std::map<std::string, std::string> uid_of;
  for (const data::SiimRecord& r : ds.train()) uid_of[fs::path(r.file).stem().string()] = r.image_id;
  auto rows = [&](const std::string& file, bool map_ids) {
    std::map<std::string, std::vector<std::string>> out;
    const std::vector<std::string> lines = read_lines(file);
    for (size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> f = split_csv_line(lines[i]);
      const std::string id = map_ids ? uid_of.at(f[1]) : f[1];
      f.erase(f.begin(), f.begin() + 2);  // checkpoint, image
      out[id] = f;
    }
    return out;
  };
  const auto a = rows(dir / "ev_png/per_image.csv", true), b = rows(dir / "ev_dcm/per_image.csv", false);
  CHECK(a.size() >= 4);
  CHECK(a == b);
  // The release has masks for its train cases only.
  CHECK(train::evaluate_main({"fcnlab-evaluate", dir / "ck.safetensors", "--data", dir / "dcm",
                              "--split", "test", "--out", dir / "ev_test"}, &err) == 1);
  CHECK(err.find("use --split val, train or all") != std::string::npos);
  CHECK(!fs::exists(dir / "ev_test"));
}

TEST_CASE("evaluate: bad inputs are clear errors, exit 1, and write nothing") {
  TempDir dir("evaluate_bad");
  save_tiny_checkpoint(dir / "ck.safetensors", tiny_meta(32, 1));
  const std::string ck = dir / "ck.safetensors", out = dir / "ev";
  auto fails = [&](std::vector<std::string> args, const std::string& needle) {
    args.insert(args.begin(), "fcnlab-evaluate");
    std::string err;
    CHECK_MESSAGE(train::evaluate_main(args, &err) != 0, "expected failure for ", needle);
    CHECK_MESSAGE(err.find(needle) != std::string::npos, "error '", err, "' should name '", needle, "'");
    CHECK_MESSAGE(!fs::exists(out), "output written despite the error: ", needle);
    fs::remove_all(out);
  };
  fails({ck, "--out", out}, "--data DIR or --phantoms N");
  fails({ck, "--data", dir / "set", "--phantoms", "4", "--out", out}, "give one of them");
  fails({ck, "--data", dir / "nowhere", "--out", out}, "nowhere");
  fails({ck, dir / "missing.safetensors", "--phantoms", "4", "--out", out}, "missing.safetensors");
  fails({ck, "--phantoms", "4", "--split", "holdout", "--out", out}, "--split");
  fails({ck, "--phantoms", "4", "--tta", "rot90", "--out", out}, "--tta");
  // A data folder without the CSVs: the error names the CSV it looked for.
  fs::create_directories(dir / "nocsv");
  fails({ck, "--data", dir / "nocsv", "--out", out}, "stage_1_train_images.csv");
  // An unwritable output: --out is an existing file, left as it was.
  { std::ofstream f(dir / "file"); f << "x"; }
  std::string err;
  CHECK(train::evaluate_main({"fcnlab-evaluate", ck, "--phantoms", "4", "--out", dir / "file"}, &err) == 1);
  CHECK(err.find("file") != std::string::npos);
  CHECK(slurp(dir / "file") == "x");
}
