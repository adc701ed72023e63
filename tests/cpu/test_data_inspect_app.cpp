// fcnlab-inspect --dataset, run as a program: exit 0 and "problems: none" on a clean phantom
// set; exit 1 with the problem named for each kind of breakage (not only missing files);
// exit 1 for a folder that is no data set; exit 2 for a usage error.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/dicom.h"
#include "data/phantom.h"
#include "data/rle.h"
#include "data/siim.h"
#include "tests/cpu/data_fixtures.h"

using namespace fcnlab;
using namespace fcnlab::data;
namespace fs = std::filesystem;

namespace {

struct RunResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// p in single quotes, for the shell.
std::string q(const fs::path& p) {
  std::string s(1, '\'');  // appends only: GCC 12 warns falsely (-Wrestrict) on "'" + string
  s += p.string();
  s += '\'';
  return s;
}

RunResult run_inspect(const std::string& args, const fs::path& scratch) {
  const fs::path exe = fs::path(FCNLAB_BINARY_DIR) / "fcnlab-inspect";
  REQUIRE_MESSAGE(fs::exists(exe), "build fcnlab-inspect first: ", exe.string());
  const fs::path log = scratch / "inspect.log";
  const std::string cmd = q(exe) + " " + args + " >" + q(log) + " 2>&1";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  r.out = ss.str();
  return r;
}

// A fresh clean phantom set in <dir>/set.
fs::path clean_set(const test::TempDir& dir) {
  PhantomSetOptions o;
  o.count = 8;
  o.size = 32;
  o.seed = 9;
  o.positive_fraction = 0.5;
  o.test_fraction = 0.25;
  o.threads = 1;
  fs::path root = dir.path() / "set";
  write_phantom_set(root.string(), o);
  return root;
}

}  // namespace

TEST_CASE("inspect app: --dataset exits 0 on a clean set and 1 on any problem") {
  test::TempDir dir("inspapp");
  const fs::path root = clean_set(dir);
  SiimPngDataset ds = SiimPngDataset::open(root.string());
  const SiimRecord pos = *std::find_if(ds.train().begin(), ds.train().end(),
                                       [](const SiimRecord& r) { return r.has_pneumo == 1; });
  const SiimRecord neg = *std::find_if(ds.train().begin(), ds.train().end(),
                                       [](const SiimRecord& r) { return r.has_pneumo == 0; });

  RunResult ok = run_inspect("--dataset " + q(root), dir.path());
  CHECK(ok.code == 0);
  CHECK(ok.out.find("problems: none") != std::string::npos);
  // progress while it reads (plain lines: the log is not a terminal), the last at 8 of 8
  CHECK(ok.out.find("inspect 100% 8/8  ") != std::string::npos);
  CHECK(ok.out.find(" img/s  elapsed ") != std::string::npos);

  SUBCASE("a corrupt image") {
    fs::resize_file(ds.image_path(neg), fs::file_size(ds.image_path(neg)) / 2);
    RunResult r = run_inspect("--dataset " + q(root), dir.path());
    CHECK(r.code == 1);
    CHECK(r.out.find("unreadable: " + ds.image_path(neg)) != std::string::npos);
    CHECK(r.out.find("files are missing") == std::string::npos);
  }
  SUBCASE("a mask that disagrees with its label") {
    fs::copy_file(ds.mask_path(neg), ds.mask_path(pos), fs::copy_options::overwrite_existing);
    RunResult r = run_inspect("--dataset " + q(root), dir.path());
    CHECK(r.code == 1);
    CHECK(r.out.find("label_mismatch: ") != std::string::npos);
    CHECK(r.out.find(pos.file) != std::string::npos);
  }
  SUBCASE("an unlisted file") {
    fs::copy_file(ds.image_path(neg), root / siim::kImagesDir / "999_train_0_.png");
    RunResult r = run_inspect("--dataset " + q(root), dir.path());
    CHECK(r.code == 1);
    CHECK(r.out.find("unlisted_file: ") != std::string::npos);
  }
  SUBCASE("a missing mask") {
    fs::remove(ds.mask_path(neg));
    RunResult r = run_inspect("--dataset " + q(root), dir.path());
    CHECK(r.code == 1);
    CHECK(r.out.find("missing_mask: ") != std::string::npos);
    CHECK(r.out.find("files are missing: 0 images, 1 masks") != std::string::npos);
  }
  SUBCASE("no data set at all, and usage errors") {
    RunResult r = run_inspect("--dataset " + q(dir.path() / "nothing"), dir.path());
    CHECK(r.code == 1);
    CHECK(r.out.find("nothing") != std::string::npos);
    CHECK(run_inspect("--dataset", dir.path()).code == 2);
    CHECK(run_inspect("--no-such-mode x", dir.path()).code == 2);
  }
}

TEST_CASE("inspect app: --dataset recognises the DICOM+RLE release and exits 1 on its problems") {
  test::TempDir dir("inspdcm");
  const fs::path root = dir.path() / "orig";
  const fs::path series = root / siim::kDicomTrainDir / "1.2.9" / "1.2.9.1";
  fs::create_directories(series);
  GrayImage img(24, 16, 90);
  std::vector<uint8_t> mask(24 * 16, 0);
  for (int x = 2; x < 6; ++x) mask[size_t(3 * 24 + x)] = 1;
  write_dicom_gray8((series / "1.2.9.1.1.dcm").string(), img, "1.2.9.1.1");
  write_dicom_gray8((series / "1.2.9.1.2.dcm").string(), img, "1.2.9.1.2");
  {
    std::ofstream f(root / siim::kRleCsv);
    f << "ImageId, EncodedPixels\n1.2.9.1.1, " << rle_encode(mask, 24, 16) << "\n1.2.9.1.2, -1\n";
  }
  RunResult ok = run_inspect("--dataset " + q(root), dir.path());
  CHECK(ok.code == 0);
  CHECK(ok.out.find("release: DICOM+RLE release") != std::string::npos);
  CHECK(ok.out.find("images:    2 (train 2, test 0)") != std::string::npos);
  CHECK(ok.out.find("problems: none") != std::string::npos);
  // a corrupt DICOM: exit 1, named
  fs::resize_file(series / "1.2.9.1.2.dcm", 200);
  RunResult bad = run_inspect("--dataset " + q(root), dir.path());
  CHECK(bad.code == 1);
  CHECK(bad.out.find("unreadable: " + (series / "1.2.9.1.2.dcm").string()) != std::string::npos);
}
