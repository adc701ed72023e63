// Synthetic phantoms: the PNG release's exact layout and naming, determinism by seed
// (whatever the thread count), mask sizes and the pneumothorax signal.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <tuple>

#include "data/csv.h"
#include "data/image.h"
#include "data/phantom.h"
#include "data/siim.h"
#include "data/siim_dicom.h"
#include "data/siim_layout.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;
namespace fs = std::filesystem;

TEST_CASE("data: phantom set has the PNG release's layout, names and CSV headers") {
  test::TempDir dir("phl");
  PhantomSetOptions o;
  o.count = 24;
  o.size = 64;
  o.seed = 3;
  PhantomSetReport rep = write_phantom_set(dir.str(), o);
  // 24 * 1372/12047 = 2.73 -> 3 test; positives round(21 * 0.2215) = 5, round(3 * 0.2215) = 1
  CHECK(rep.test == 3);
  CHECK(rep.train == 21);
  CHECK(rep.train_positive == 5);
  CHECK(rep.test_positive == 1);

  std::string header_line;
  {
    std::vector<uint8_t> b = read_file_bytes(dir / "stage_1_train_images.csv");
    std::string s(b.begin(), b.end());
    header_line = s.substr(0, s.find('\n'));
  }
  CHECK(header_line == "new_filename,ImageId,has_pneumo");

  const std::regex pattern(R"(^(\d+)_(train|test)_(\d)_\.png$)");
  std::set<std::string> listed;
  for (auto [csv, split, n] : {std::tuple{"stage_1_train_images.csv", "train", 21},
                               std::tuple{"stage_1_test_images.csv", "test", 3}}) {
    CsvTable t = read_csv(dir / csv);
    REQUIRE(t.header == std::vector<std::string>{"new_filename", "ImageId", "has_pneumo"});
    REQUIRE(int(t.rows.size()) == n);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const std::string& name = t.rows[r][0];
      std::smatch m;
      REQUIRE(std::regex_match(name, m, pattern));
      CHECK(std::stoi(m[1]) == int(r));  // indices run 0..n-1 within the split
      CHECK(m[2] == split);
      CHECK(m[3] == t.rows[r][2]);       // the last digit is has_pneumo
      CHECK(std::regex_match(t.rows[r][1], std::regex(R"(^[0-9]+(\.[0-9]+)+$)")));
      listed.insert(name);
      GrayImage img = read_png_gray8(dir / ("png_images/" + name));
      GrayImage mask = read_png_gray8(dir / ("png_masks/" + name));
      CHECK(img.width == 64);
      CHECK(img.height == 64);
      CHECK(mask.width == 64);
      int fg = 0, other = 0;
      for (uint8_t v : mask.pixels) {
        other += v != 0 && v != 255;
        fg += v == 255;
      }
      CHECK(other == 0);
      CHECK((fg > 0) == (t.rows[r][2] == "1"));
    }
  }
  // nothing else in the folders
  for (const char* sub : {"png_images", "png_masks"}) {
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      CHECK(listed.count(e.path().filename().string()) == 1);
      ++files;
    }
    CHECK(files == 24);
  }
}

TEST_CASE("data: phantoms in the DICOM release's layout hold the PNG layout's cases exactly") {
  test::TempDir dir("phantom_dicom");
  PhantomSetOptions o;
  o.count = 14;
  o.size = 40;
  o.seed = 9;
  o.positive_fraction = 0.5;
  o.threads = 2;
  const PhantomSetReport rp = write_phantom_set(dir / "png", o);
  o.release = siim::Release::dicom;
  const PhantomSetReport rd = write_phantom_set(dir / "dcm", o);
  CHECK(rd.train == rp.train);
  CHECK(rd.test == rp.test);
  CHECK(rd.train_positive == rp.train_positive);
  CHECK(siim::detect_release(dir / "dcm") == siim::Release::dicom);
  CHECK(!fs::exists(dir / "dcm/png_images"));
  const SiimPngDataset png = SiimPngDataset::open(dir / "png");
  const SiimDicomDataset dcm = SiimDicomDataset::open(dir / "dcm");
  CHECK(dcm.problems().empty());
  REQUIRE(dcm.records().size() == png.train().size());
  for (size_t i = 0; i < png.train().size(); ++i) {
    const SiimRecord& r = png.train()[i];
    CAPTURE(r.file);
    CHECK(dcm.records()[i].image_id == r.image_id);  // same ImageIds, same order
    CHECK(dcm.records()[i].has_pneumo == r.has_pneumo);
    // <study>/<series>/<ImageId>.dcm, two folders down
    const fs::path rel(dcm.records()[i].file);
    CHECK(rel.filename().string() == r.image_id + ".dcm");
    CHECK(std::distance(rel.begin(), rel.end()) == 3);
    const SiimSample a = png.load(r), b = dcm.load(i);
    CHECK(b.image.pixels == a.image.pixels);
    CHECK(b.mask.pixels == a.mask.pixels);
  }
  // The test cases are there too, without masks.
  int test_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / ("dcm/" + std::string(siim::kDicomTestDir))))
    test_files += e.is_regular_file() && e.path().extension() == ".dcm";
  CHECK(test_files == rp.test);
}

TEST_CASE("data: phantom sets are byte-identical for a seed, whatever the thread count") {
  test::TempDir a("pha"), b("phb"), c("phc");
  PhantomSetOptions o;
  o.count = 10;
  o.size = 64;
  o.seed = 11;
  o.threads = 1;
  write_phantom_set(a.str(), o);
  o.threads = 2;
  write_phantom_set(b.str(), o);
  o.seed = 12;
  write_phantom_set(c.str(), o);
  int differ = 0;
  for (const auto& e : fs::recursive_directory_iterator(a.str())) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), a.str()).string();
    CHECK_MESSAGE(read_file_bytes(e.path().string()) == read_file_bytes(b / rel), rel);
    if (rel.rfind("png_images", 0) == 0 && fs::exists(c / rel))
      differ += read_file_bytes(e.path().string()) != read_file_bytes(c / rel);
  }
  CHECK(differ > 0);
  // one case, rendered twice
  Phantom p1 = render_phantom(96, true, 5, 42), p2 = render_phantom(96, true, 5, 42);
  CHECK(p1.image.pixels == p2.image.pixels);
  CHECK(p1.mask.pixels == p2.mask.pixels);
  CHECK(render_phantom(96, true, 5, 43).image.pixels != p1.image.pixels);
}

namespace {

// Mean grey level of the lung just medial of the pneumothorax (same rows, 7 px further in) minus
// the mean inside it, over the 12 positive cases keys 0..11 at 128x128 that have room beside it.
struct LesionSignal {
  double diff = 0;  // grey levels
  int measured = 0;
};
LesionSignal lesion_signal(double contrast) {
  const int S = 128;
  double inside_sum = 0, beside_sum = 0;
  LesionSignal out;
  for (uint64_t key = 0; key < 12; ++key) {
    Phantom p = render_phantom(S, true, 1, key, contrast);
    double in = 0, beside = 0;
    int nin = 0, nb = 0;
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        if (!p.mask.at(y, x)) continue;
        in += p.image.at(y, x);
        ++nin;
        int xm = x - p.side * 7;  // medial
        if (xm >= 0 && xm < S && !p.mask.at(y, xm) && !p.mask.at(y, x - p.side * 4)) {
          beside += p.image.at(y, xm);
          ++nb;
        }
      }
    if (nb > 10) {
      inside_sum += in / nin;
      beside_sum += beside / nb;
      ++out.measured;
    }
  }
  if (out.measured > 0) out.diff = (beside_sum - inside_sum) / out.measured;
  return out;
}

}  // namespace

TEST_CASE("data: pneumothorax masks cover 0.2-5% of the image, on both sides, and are subtle") {
  const int S = 128;
  std::set<int> sides;
  for (uint64_t key = 0; key < 12; ++key) {
    Phantom p = render_phantom(S, true, 1, key);
    sides.insert(p.side);
    int fg = 0;
    for (uint8_t v : p.mask.pixels) fg += v == 255;
    double frac = double(fg) / (S * S);
    CHECK_MESSAGE(frac >= 0.0015, "key ", key, " area ", frac);
    CHECK_MESSAGE(frac <= 0.06, "key ", key, " area ", frac);
    CHECK(p.positive);
    Phantom neg = render_phantom(S, false, 1, key);
    CHECK(neg.side == 0);
    CHECK(std::count(neg.mask.pixels.begin(), neg.mask.pixels.end(), 0) == S * S);
  }
  CHECK(sides == std::set<int>{-1, 1});
  LesionSignal sig = lesion_signal(1.0);
  REQUIRE(sig.measured >= 6);
  INFO("lung beside minus pneumothorax: ", sig.diff, " grey levels");
  CHECK(sig.diff > 1.0);   // darker, without vessels
  CHECK(sig.diff < 25.0);  // but not a trivial contrast
}

TEST_CASE("data: --contrast darkens the air gap only: same masks, same negatives, a stronger signal") {
  const int S = 96;
  for (uint64_t key = 0; key < 4; ++key) {
    Phantom p1 = render_phantom(S, true, 2, key), p3 = render_phantom(S, true, 2, key, 3.0);
    CHECK(p1.mask.pixels == p3.mask.pixels);
    CHECK(p1.side == p3.side);
    CHECK(p1.image.pixels != p3.image.pixels);
    // outside the lesion and its pleural line (4 pixels around it) nothing changes
    int changed_far = 0;
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        bool near = false;
        for (int dy = -4; dy <= 4 && !near; ++dy)
          for (int dx = -4; dx <= 4 && !near; ++dx) {
            int yy = y + dy, xx = x + dx;
            near = yy >= 0 && yy < S && xx >= 0 && xx < S && p1.mask.at(yy, xx);
          }
        changed_far += !near && p1.image.at(y, x) != p3.image.at(y, x);
      }
    CHECK_MESSAGE(changed_far == 0, "key ", key);
    CHECK(render_phantom(S, false, 2, key).image.pixels ==
          render_phantom(S, false, 2, key, 3.0).image.pixels);
  }
  LesionSignal s1 = lesion_signal(1.0), s3 = lesion_signal(3.0);
  REQUIRE(s1.measured == s3.measured);
  INFO("contrast 1: ", s1.diff, " grey levels; contrast 3: ", s3.diff);
  CHECK(s3.diff > s1.diff + 2.0);
  CHECK(s3.diff < 3.0 * s1.diff + 1.0);  // only the darkening is scaled, not the missing vessels
}

TEST_CASE("data: phantom options are checked") {
  test::TempDir dir("phx");
  PhantomSetOptions o;
  o.count = 0;
  CHECK_THROWS_WITH_AS(write_phantom_set(dir.str(), o), doctest::Contains("count must be >= 1"),
                       Error);
  CHECK_THROWS_WITH_AS(render_phantom(8, false, 0, 0), doctest::Contains("size must be in"),
                       Error);
  o.count = 4;
  o.contrast = 0.1;
  CHECK_THROWS_WITH_AS(write_phantom_set(dir.str(), o), doctest::Contains("contrast must be in"),
                       Error);
  CHECK_THROWS_WITH_AS(render_phantom(32, true, 0, 0, 11.0), doctest::Contains("contrast must be in"),
                       Error);
}
