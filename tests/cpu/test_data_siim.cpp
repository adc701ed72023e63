// The SIIM PNG data set index: CSVs by column name, every validation problem with its file,
// mask 255 -> 1, the stratified split, the summary.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/image.h"
#include "data/phantom.h"
#include "data/siim.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;
namespace fs = std::filesystem;

namespace {

void write_text(const std::string& path, const std::string& text) {
  write_file_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string read_text(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path);
  return {b.begin(), b.end()};
}

// 12 images of 64x64: 11 train (2 positive), 1 test.
void make_set(const test::TempDir& dir) {
  PhantomSetOptions o;
  o.count = 12;
  o.size = 64;
  o.seed = 9;
  o.positive_fraction = 0.25;
  o.test_fraction = 0.05;
  write_phantom_set(dir.str(), o);
}

bool has(const Inspection& ins, ProblemKind k, const std::string& file_suffix) {
  return std::any_of(ins.problems.begin(), ins.problems.end(), [&](const Problem& p) {
    return p.kind == k && p.file.size() >= file_suffix.size() &&
           p.file.compare(p.file.size() - file_suffix.size(), file_suffix.size(), file_suffix) == 0;
  });
}

}  // namespace

TEST_CASE("data: a clean phantom set reads, loads and has no problems") {
  test::TempDir dir("siim");
  make_set(dir);
  // CRLF, a BOM and reordered columns are read by name
  std::string csv = read_text(dir / "stage_1_test_images.csv");
  std::string row = csv.substr(csv.find('\n') + 1);
  row.pop_back();
  size_t c1 = row.find(','), c2 = row.rfind(',');
  write_text(dir / "stage_1_test_images.csv",
             "\xEF\xBB\xBFhas_pneumo,new_filename,ImageId\r\n" + row.substr(c2 + 1) + "," +
                 row.substr(0, c1) + "," + row.substr(c1 + 1, c2 - c1 - 1) + "\r\n");
  SiimPngDataset ds = SiimPngDataset::open(dir.str());
  REQUIRE(ds.train().size() == 11);
  REQUIRE(ds.test().size() == 1);
  CHECK(ds.test()[0].file == "0_test_0_.png");
  CHECK(ds.csv_problems().empty());
  Inspection ins = ds.inspect(2);
  for (const Problem& p : ins.problems) FAIL_CHECK(p.str());
  CHECK(ins.summary.train == 11);
  CHECK(ins.summary.train_positive == 3);
  CHECK(ins.summary.width == 64);
  CHECK(ins.summary.mask_area_fractions.size() == 3);
  CHECK(ins.summary.str().find("images:    12 (train 11, test 1)") != std::string::npos);

  for (const SiimRecord& r : ds.train()) {
    SiimSample s = ds.load(r);
    int fg = 0, other = 0;
    for (uint8_t v : s.mask.pixels) {
      fg += v == 1;
      other += v > 1;
    }
    CHECK(other == 0);  // 255 became 1
    CHECK((fg > 0) == (r.has_pneumo == 1));
    CHECK(s.label == r.has_pneumo);
  }
}

TEST_CASE("data: validation lists every problem with its file") {
  test::TempDir dir("siimbad");
  make_set(dir);
  SiimPngDataset clean = SiimPngDataset::open(dir.str());
  std::vector<std::string> neg, pos;
  for (const SiimRecord& r : clean.train()) (r.has_pneumo ? pos : neg).push_back(r.file);
  REQUIRE(neg.size() >= 6);
  REQUIRE(pos.size() >= 2);
  const std::string img = dir / "png_images/", msk = dir / "png_masks/";

  fs::remove(img + neg[0]);                                            // missing image
  fs::remove(msk + neg[1]);                                            // missing mask
  std::vector<uint8_t> b = read_file_bytes(img + neg[2]);              // truncated image
  b.resize(b.size() / 2);
  write_file_bytes(img + neg[2], b);
  GrayImage blob(64, 64, 0);                                           // negative with a blob
  blob.at(10, 10) = 255;
  write_png_gray8(msk + neg[3], blob);
  write_png_gray8(msk + pos[0], GrayImage(64, 64, 0));                 // positive, empty mask
  write_png_gray8(img + neg[4], GrayImage(32, 32, 100));               // odd-sized image
  GrayImage soft(64, 64, 0);                                           // mask value 128
  soft.at(0, 0) = 128;
  write_png_gray8(msk + neg[5], soft);
  write_png_gray8(img + "extra.png", GrayImage(64, 64, 0));            // unlisted
  std::ofstream csv(dir / "stage_1_train_images.csv", std::ios::app);
  csv << neg[5] << ",dup.id.1,0\n";                                    // duplicate file
  csv << "11_train_0_.png," << clean.train()[0].image_id << ",0\n";  // duplicate id (+ missing)
  csv << "12_train_1_.png,new.id.2,2\n";                              // bad label, name digit
  csv << "foo.png,new.id.3,0\n";                                       // bad name
  csv << "13_train_1_.png,new.id.4,0\n";                              // label digit disagrees
  csv << "0_test_0_.png,new.id.5,0\n";                                // wrong split
  csv.close();

  SiimPngDataset ds = SiimPngDataset::open(dir.str());
  Inspection ins = ds.inspect(2);
  std::string all;
  for (const Problem& p : ins.problems) all += p.str() + "\n";
  INFO(all);
  CHECK(has(ins, ProblemKind::missing_image, "png_images/" + neg[0]));
  CHECK(has(ins, ProblemKind::missing_mask, "png_masks/" + neg[1]));
  CHECK(has(ins, ProblemKind::unreadable, "png_images/" + neg[2]));
  CHECK(has(ins, ProblemKind::label_mismatch, "png_masks/" + neg[3]));
  CHECK(has(ins, ProblemKind::label_mismatch, "png_masks/" + pos[0]));
  CHECK(has(ins, ProblemKind::size_mismatch, "png_images/" + neg[4]));  // vs the common size
  CHECK(has(ins, ProblemKind::size_mismatch, "png_masks/" + neg[4]));   // vs its image
  CHECK(has(ins, ProblemKind::mask_values, "png_masks/" + neg[5]));
  CHECK(has(ins, ProblemKind::unlisted_file, "png_images/extra.png"));
  CHECK(has(ins, ProblemKind::duplicate_file, "stage_1_train_images.csv:13"));
  CHECK(has(ins, ProblemKind::duplicate_id, "stage_1_train_images.csv:14"));
  CHECK(has(ins, ProblemKind::missing_image, "png_images/11_train_0_.png"));
  CHECK(has(ins, ProblemKind::bad_label, "stage_1_train_images.csv:15"));
  CHECK(has(ins, ProblemKind::bad_name, "stage_1_train_images.csv:16"));
  CHECK(has(ins, ProblemKind::bad_name, "stage_1_train_images.csv:17"));
  CHECK(has(ins, ProblemKind::bad_name, "stage_1_train_images.csv:18"));
  CHECK(has(ins, ProblemKind::duplicate_file, "stage_1_test_images.csv:2"));  // seen at :18 first
  CHECK(ins.files_missing());
  // nothing else was flagged on the untouched files
  for (const Problem& p : ins.problems) {
    bool touched = p.file.find(dir.str()) != 0 || p.file.find("csv:") != std::string::npos;
    for (const std::string& f : {neg[0], neg[1], neg[2], neg[3], neg[4], neg[5], pos[0]})
      touched |= p.file.size() >= f.size() && p.file.compare(p.file.size() - f.size(), f.size(), f) == 0;
    for (const char* f : {"extra.png", "11_train_0_.png", "12_train_1_.png", "foo.png",
                          "13_train_1_.png", "0_test_0_.png"})
      touched |= p.file.find(f) != std::string::npos;
    CHECK_MESSAGE(touched, p.str());
  }
  const SiimRecord* gone = nullptr;
  for (const SiimRecord& r : ds.train())
    if (r.file == neg[0]) gone = &r;
  REQUIRE(gone != nullptr);
  const std::string expected = neg[0] + ": cannot open";
  CHECK_THROWS_WITH_AS(ds.load(*gone), doctest::Contains(expected.c_str()), Error);
}

TEST_CASE("data: opening a folder without the CSVs or with a wrong header is an error") {
  test::TempDir dir("siimcsv");
  CHECK_THROWS_WITH_AS(SiimPngDataset::open(dir / "nothing"), doctest::Contains("not a directory"),
                       Error);
  CHECK_THROWS_WITH_AS(SiimPngDataset::open(dir.str()),
                       doctest::Contains("stage_1_train_images.csv: cannot open"), Error);
  write_text(dir / "stage_1_train_images.csv", "file,ImageId,has_pneumo\n");
  CHECK_THROWS_WITH_AS(SiimPngDataset::open(dir.str()),
                       doctest::Contains("no column 'new_filename'"), Error);
}

TEST_CASE("data: the train/val split is stratified, disjoint and seeded") {
  std::vector<SiimRecord> recs(100);
  for (size_t i = 0; i < recs.size(); ++i) recs[i].has_pneumo = (i % 9 == 0 || i % 7 == 3);
  int npos = 0;
  for (const auto& r : recs) npos += r.has_pneumo;
  TrainValSplit s = stratified_split(recs, 0.2, 5);
  int vpos = 0;
  for (size_t i : s.val) vpos += recs[i].has_pneumo;
  CHECK(vpos == int(std::lround(npos * 0.2)));
  CHECK(int(s.val.size()) - vpos == int(std::lround((100 - npos) * 0.2)));
  std::set<size_t> all(s.train.begin(), s.train.end());
  for (size_t i : s.val) CHECK(all.insert(i).second);
  CHECK(all.size() == 100);
  CHECK(stratified_split(recs, 0.2, 5).val == s.val);
  CHECK(stratified_split(recs, 0.2, 6).val != s.val);
  CHECK(stratified_split(recs, 0.0, 5).val.empty());
  CHECK_THROWS_AS(stratified_split(recs, 1.5, 5), Error);
}
