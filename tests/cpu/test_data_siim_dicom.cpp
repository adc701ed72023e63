// The original release (DICOM folders + RLE CSV) on a tiny synthetic set written here:
// the DICOM writer round trip, the index (ids by file stem, missing and unlisted files),
// exact images and merged masks of non-square cases, layout detection, and the loader on it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/dicom.h"
#include "data/loader.h"
#include "data/phantom.h"
#include "data/rle.h"
#include "data/siim_dicom.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;
namespace fs = std::filesystem;

namespace {

constexpr int kW = 40, kH = 30;  // not square: a transposed mask or image would not match

std::string uid(int k) { return "1.2.276.0.7230010.3.1.4.8323329." + std::to_string(k) + ".1517875"; }

GrayImage test_image(int k) {
  GrayImage g(kW, kH);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) g.at(y, x) = uint8_t((x * 5 + y * 3 + k * 40) % 256);
  return g;
}

// A filled rectangle [x0, x1) x [y0, y1), row-major 0/1.
std::vector<uint8_t> rect(int x0, int y0, int x1, int y1) {
  std::vector<uint8_t> m(size_t(kW) * kH, 0);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) m[size_t(y) * kW + x] = 1;
  return m;
}

// dicom-images-train/<study>/<series>/<ImageId>.dcm for cases 0..2 and an unlisted 9;
// train-rle.csv: 0 negative, 1 with two regions on two rows, 2 with one region, 3 without a file.
struct DicomSet {
  test::TempDir dir{"dcmset"};
  std::vector<uint8_t> mask1 = rect(3, 4, 10, 20), mask1b = rect(30, 0, 38, 6), mask2 = rect(0, 25, 40, 30);
  DicomSet() {
    for (int k : {0, 1, 2, 9}) {
      fs::path folder = dir.path() / siim::kDicomTrainDir / ("1.2.3." + std::to_string(k)) /
                        ("1.2.3." + std::to_string(k) + ".1");
      fs::create_directories(folder);
      write_dicom_gray8((folder / (uid(k) + ".dcm")).string(), test_image(k), uid(k));
    }
    std::ofstream f(dir.path() / siim::kRleCsv, std::ios::binary);
    f << "ImageId, EncodedPixels\n"
      << uid(0) << ", -1\n"
      << uid(1) << ", " << rle_encode(mask1, kW, kH) << "\n"
      << uid(2) << ", " << rle_encode(mask2, kW, kH) << "\n"
      << uid(1) << ", " << rle_encode(mask1b, kW, kH) << "\n"
      << uid(3) << ", -1\n";
  }
  std::string root() const { return dir.str(); }
};

std::vector<uint8_t> pixels_of(const GrayImage& g) { return g.pixels; }

}  // namespace

TEST_CASE("data: DICOM writer output reads back exactly (explicit VR LE, 8 bit, UID)") {
  GrayImage g = test_image(3);
  std::vector<uint8_t> bytes = encode_dicom_gray8(g, uid(3));
  DicomImage d = decode_dicom(bytes.data(), bytes.size(), "w.dcm");
  CHECK(d.transfer_syntax == "1.2.840.10008.1.2.1");
  CHECK(d.photometric == "MONOCHROME2");
  CHECK(d.sop_instance_uid == uid(3));
  CHECK(d.bits_stored == 8);
  CHECK(d.image.width == kW);
  CHECK(d.image.height == kH);
  CHECK(dicom_to_gray8(d).pixels == g.pixels);
  CHECK_THROWS_WITH_AS(encode_dicom_gray8(g, "1.2.x"), doctest::Contains("SOPInstanceUID"), Error);
  // a truncated file is an error naming it
  CHECK_THROWS_WITH_AS(decode_dicom(bytes.data(), bytes.size() - 7, "cut.dcm"),
                       doctest::Contains("cut.dcm"), Error);
}

TEST_CASE("data: the DICOM+RLE release is indexed by ImageId with its problems") {
  DicomSet set;
  SiimDicomDataset ds = SiimDicomDataset::open(set.root());
  const auto& r = ds.records();
  REQUIRE(r.size() == 4);  // ids in first-appearance order, the two rows of case 1 merged
  CHECK(r[0].image_id == uid(0));
  CHECK(r[1].image_id == uid(1));
  CHECK(r[2].image_id == uid(2));
  CHECK(r[3].image_id == uid(3));
  CHECK(r[0].has_pneumo == 0);
  CHECK(r[1].has_pneumo == 1);
  CHECK(r[2].has_pneumo == 1);
  CHECK(r[1].csv == "train-rle.csv:3");
  CHECK(r[1].file == "1.2.3.1/1.2.3.1.1/" + uid(1) + ".dcm");
  CHECK(r[3].file.empty());
  REQUIRE(ds.problems().size() == 2);
  CHECK(ds.problems()[0].kind == ProblemKind::missing_image);
  CHECK(ds.problems()[0].file == "train-rle.csv:6");
  CHECK(ds.problems()[1].kind == ProblemKind::unlisted_file);
  CHECK(ds.problems()[1].file.find(uid(9) + ".dcm") != std::string::npos);

  // exact pixels, and masks in image orientation (column-major RLE decoded right)
  SiimSample s0 = ds.load(0), s1 = ds.load(1), s2 = ds.load(2);
  CHECK(s0.image.width == kW);
  CHECK(s0.image.height == kH);
  CHECK(pixels_of(s0.image) == test_image(0).pixels);
  CHECK(pixels_of(s1.image) == test_image(1).pixels);
  CHECK(s0.mask.pixels == std::vector<uint8_t>(size_t(kW) * kH, 0));
  std::vector<uint8_t> both = set.mask1;
  for (size_t i = 0; i < both.size(); ++i) both[i] |= set.mask1b[i];
  CHECK(s1.mask.pixels == both);
  CHECK(s2.mask.pixels == set.mask2);
  CHECK(s1.label == 1);
  CHECK_THROWS_WITH_AS(ds.load(3), doctest::Contains((uid(3) + " has no DICOM file").c_str()), Error);

  // a missing CSV or images folder is a clear error
  CHECK_THROWS_WITH_AS(SiimDicomDataset::open(set.root() + "/nope", set.root() + "/train-rle.csv"),
                       doctest::Contains("no such folder"), Error);
  fs::remove(set.dir.path() / siim::kRleCsv);
  CHECK_THROWS_WITH_AS(SiimDicomDataset::open(set.root()), doctest::Contains("train-rle.csv"), Error);
}

TEST_CASE("data: layout detection tells the PNG release, the DICOM release and neither apart") {
  DicomSet set;
  CHECK(siim::detect_release(set.root()) == siim::Release::dicom);
  test::TempDir png("pngrel");
  PhantomSetOptions o;
  o.count = 4;
  o.size = 32;
  write_phantom_set(png.str(), o);
  CHECK(siim::detect_release(png.str()) == siim::Release::png);
  test::TempDir empty("norel");
  CHECK_THROWS_WITH_AS(siim::detect_release(empty.str()),
                       doctest::Contains("expected stage_1_train_images.csv"), Error);
  CHECK_THROWS_WITH_AS(siim::detect_release(empty.str() + "/missing"),
                       doctest::Contains("not a folder"), Error);
  // open_siim_source picks the matching source
  auto dsrc = open_siim_source(set.root(), siim::Split::train);
  CHECK(dynamic_cast<SiimDicomSource*>(dsrc.get()) != nullptr);
  CHECK(dsrc->size() == 4);
  auto psrc = open_siim_source(png.str(), siim::Split::train);
  CHECK(dynamic_cast<SiimSource*>(psrc.get()) != nullptr);
  CHECK_THROWS_WITH_AS(open_siim_source(set.root(), siim::Split::test),
                       doctest::Contains("dicom-images-test"), Error);
}

TEST_CASE("data: the loader runs on the DICOM release, strict or skipping the missing case") {
  DicomSet set;
  std::vector<SiimRecord> recs = siim_records(set.root(), siim::Split::train);
  REQUIRE(recs.size() == 4);
  TrainValSplit sp = stratified_split(recs, 0.5, 3);  // 1 of 2 negatives, 1 of 2 positives
  CHECK(sp.val.size() == 2);
  auto part = open_siim_source(set.root(), siim::Split::train, &sp.val);
  CHECK(part->size() == 2);
  CHECK(part->label(0) + part->label(1) == 1);

  auto src = open_siim_source(set.root(), siim::Split::train);
  LoaderConfig c;
  c.batch_size = 2;
  c.size = 20;  // 40x30 -> 20x20
  c.shuffle = false;
  c.normalization = Normalization::none(1);
  Loader strict(src, c);
  strict.start_epoch(0);
  Batch b;
  REQUIRE(strict.next(b));
  CHECK(b.image.shape() == Shape{2, 1, 20, 20});
  CHECK(b.label.data<int32_t>()[0] == 0);
  CHECK(b.label.data<int32_t>()[1] == 1);
  int fg = 0;
  for (int i = 0; i < 20 * 20; ++i) fg += b.mask.data<int32_t>()[20 * 20 + i];
  CHECK(fg > 0);
  CHECK_THROWS_WITH_AS(strict.next(b), doctest::Contains(uid(3).c_str()), Error);
  c.skip_bad = true;
  Loader lenient(src, c);
  lenient.start_epoch(0);
  int batches = 0;
  while (lenient.next(b)) ++batches;
  CHECK(batches == 2);
  CHECK(lenient.skipped_count() == 1);
  CHECK(lenient.skipped()[0].index == 3);
}

TEST_CASE("data: inspecting the DICOM release reports the summary and every problem") {
  DicomSet set;
  Inspection ins = SiimDicomDataset::open(set.root()).inspect(2);
  CHECK(ins.summary.train == 4);
  CHECK(ins.summary.train_positive == 2);
  CHECK(ins.summary.width == kW);
  CHECK(ins.summary.height == kH);
  CHECK(ins.summary.masks_read == 3);
  REQUIRE(ins.summary.mask_area_fractions.size() == 2);
  CHECK(ins.summary.mask_area_fractions[0] == doctest::Approx((7.0 * 16 + 8 * 6) / (kW * kH)));
  CHECK(ins.summary.mask_area_fractions[1] == doctest::Approx(40.0 * 5 / (kW * kH)));
  CHECK(ins.count(ProblemKind::missing_image) == 1);
  CHECK(ins.count(ProblemKind::unlisted_file) == 1);
  CHECK(ins.problems.size() == 2);
  // a truncated DICOM and a second size
  const fs::path d2 = set.dir.path() / siim::kDicomTrainDir / "1.2.3.2" / "1.2.3.2.1" / (uid(2) + ".dcm");
  fs::resize_file(d2, fs::file_size(d2) - 100);
  const fs::path d0 = set.dir.path() / siim::kDicomTrainDir / "1.2.3.0" / "1.2.3.0.1" / (uid(0) + ".dcm");
  write_dicom_gray8(d0.string(), GrayImage(kW / 2, kH), uid(0));
  // case 3 gets its file, so 40x30 (cases 1, 3) is the common size and 20x30 the odd one
  write_dicom_gray8((set.dir.path() / siim::kDicomTrainDir / (uid(3) + ".dcm")).string(),
                    test_image(3), uid(3));
  ins = SiimDicomDataset::open(set.root()).inspect(1);
  REQUIRE(ins.count(ProblemKind::unreadable) == 1);
  REQUIRE(ins.count(ProblemKind::size_mismatch) == 1);
  CHECK(ins.count(ProblemKind::missing_image) == 0);
  for (const Problem& p : ins.problems) {
    if (p.kind == ProblemKind::unreadable) CHECK(p.file == d2.string());
    if (p.kind == ProblemKind::size_mismatch) CHECK(p.detail.find("image is 20x30") != std::string::npos);
  }
}
