// phantom_set.cpp — writes a phantom data set in the exact layout of the SIIM-ACR PNG release
// (see siim_layout.h): images and masks under the same names, both CSVs with the real header.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "data/dicom.h"
#include "data/phantom.h"
#include "data/rle.h"
#include "data/siim_layout.h"
#include "engine/error.h"
#include "engine/rng.h"

namespace fcnlab::data {
namespace {

struct Case {
  siim::Split split;
  int index;
  bool positive;
  uint64_t key;
};

// Labels for n images: exactly round(n * fraction) positives at seeded positions.
std::vector<bool> seeded_labels(int n, double fraction, uint64_t seed, uint64_t stream) {
  int npos = static_cast<int>(std::lround(n * fraction));
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[size_t(i)] = i;
  Generator g(seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1)));
  for (int i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[g.next_below(uint64_t(i) + 1)]);
  std::vector<bool> labels(size_t(n), false);
  for (int i = 0; i < npos; ++i) labels[size_t(order[size_t(i)])] = true;
  return labels;
}

// A DICOM-style UID under the "2.25" (UUID-derived) root, unique per (seed, split, index).
std::string synthetic_uid(uint64_t seed, siim::Split split, int index) {
  Philox4 b = philox4x32_10(seed, uint64_t(index), split == siim::Split::train ? 1 : 2);
  uint64_t hi = (uint64_t(b.v[1]) << 32) | b.v[0];
  return "2.25." + std::to_string(hi % 100000000000ULL) + "." +
         std::to_string(split == siim::Split::train ? 1 : 2) + "." + std::to_string(index);
}

}  // namespace

PhantomSetReport write_phantom_set(const std::string& out, const PhantomSetOptions& o) {
  FCNLAB_CHECK(o.count >= 1, "phantoms: count must be >= 1, got ", o.count);
  FCNLAB_CHECK(o.positive_fraction >= 0 && o.positive_fraction <= 1,
               "phantoms: positive fraction must be in [0, 1], got ", o.positive_fraction);
  FCNLAB_CHECK(o.test_fraction >= 0 && o.test_fraction < 1,
               "phantoms: test fraction must be in [0, 1), got ", o.test_fraction);
  FCNLAB_CHECK(o.contrast >= kPhantomContrastMin && o.contrast <= kPhantomContrastMax,
               "phantoms: contrast must be in [", kPhantomContrastMin, ", ", kPhantomContrastMax,
               "], got ", o.contrast);
  auto t_start = std::chrono::steady_clock::now();
  namespace fs = std::filesystem;
  const bool dicom = o.release == siim::Release::dicom;
  std::error_code ec;
  for (const char* sub : dicom ? std::vector<const char*>{siim::kDicomTrainDir, siim::kDicomTestDir}
                               : std::vector<const char*>{siim::kImagesDir, siim::kMasksDir}) {
    fs::create_directories(fs::path(out) / sub, ec);
    FCNLAB_CHECK(!ec, out, "/", sub, ": cannot create directory (", ec.message(), ")");
  }

  PhantomSetReport rep;
  rep.test = static_cast<int>(std::lround(o.count * o.test_fraction));
  rep.train = o.count - rep.test;
  std::vector<bool> train_labels = seeded_labels(rep.train, o.positive_fraction, o.seed, 1);
  std::vector<bool> test_labels = seeded_labels(rep.test, o.positive_fraction, o.seed, 2);
  std::vector<Case> cases;
  for (int i = 0; i < rep.train; ++i)
    cases.push_back({siim::Split::train, i, train_labels[size_t(i)], uint64_t(i) * 2});
  for (int i = 0; i < rep.test; ++i)
    cases.push_back({siim::Split::test, i, test_labels[size_t(i)], uint64_t(i) * 2 + 1});

  std::exception_ptr failure;
  std::mutex failure_mu;
  std::map<std::string, std::string> rle;  // DICOM layout: ImageId -> RLE of a positive train mask
  std::mutex rle_mu;
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (size_t c = 0; c < cases.size(); ++c) {
    try {
      const Case& k = cases[c];
      Phantom p = render_phantom(o.size, k.positive, o.seed, k.key, o.contrast);
      if (dicom) {  // <study>/<series>/<ImageId>.dcm, as the original release nests them
        const std::string uid = synthetic_uid(o.seed, k.split, k.index);
        const fs::path folder = fs::path(out) /
                                (k.split == siim::Split::train ? siim::kDicomTrainDir : siim::kDicomTestDir) /
                                (uid + ".1") / (uid + ".1.1");
        fs::create_directories(folder);
        write_dicom_gray8((folder / (uid + ".dcm")).string(), p.image, uid);
        if (k.split == siim::Split::train && k.positive) {
          std::lock_guard<std::mutex> lock(rle_mu);
          rle[uid] = rle_encode(p.mask.pixels, p.mask.width, p.mask.height);
        }
        continue;
      }
      std::string name = siim::png_name(k.index, k.split, k.positive);
      write_png_gray8((fs::path(out) / siim::kImagesDir / name).string(), p.image, o.compress_png);
      // masks are mostly zeros: compressing them is cheap and saves ~99% of their size
      write_png_gray8((fs::path(out) / siim::kMasksDir / name).string(), p.mask, true);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  if (dicom) {  // train-rle.csv in case order, written as the stage-1 file is (" EncodedPixels")
    const fs::path csv = fs::path(out) / siim::kRleCsv;
    std::ofstream f(csv, std::ios::binary | std::ios::trunc);
    FCNLAB_CHECK(f.good(), csv.string(), ": cannot open for writing");
    f << "ImageId, EncodedPixels\n";
    for (const Case& k : cases) {
      (k.split == siim::Split::train ? rep.train_positive : rep.test_positive) += k.positive;
      if (k.split != siim::Split::train) continue;
      const std::string uid = synthetic_uid(o.seed, k.split, k.index);
      f << uid << ", " << (k.positive ? rle.at(uid) : std::string("-1")) << '\n';
    }
    f.close();
    FCNLAB_CHECK(f.good(), csv.string(), ": write error");
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return rep;
  }
  for (siim::Split split : {siim::Split::train, siim::Split::test}) {
    fs::path csv = fs::path(out) / (split == siim::Split::train ? siim::kTrainCsv : siim::kTestCsv);
    std::ofstream f(csv, std::ios::binary | std::ios::trunc);
    FCNLAB_CHECK(f.good(), csv.string(), ": cannot open for writing");
    f << siim::kCsvHeader << '\n';
    for (const Case& k : cases) {
      if (k.split != split) continue;
      f << siim::png_name(k.index, k.split, k.positive) << ','
        << synthetic_uid(o.seed, k.split, k.index) << ',' << (k.positive ? 1 : 0) << '\n';
      (split == siim::Split::train ? rep.train_positive : rep.test_positive) += k.positive;
    }
    f.close();
    FCNLAB_CHECK(f.good(), csv.string(), ": write error");
  }
  rep.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return rep;
}

}  // namespace fcnlab::data
