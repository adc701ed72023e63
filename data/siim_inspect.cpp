// siim_inspect.cpp — reads every file a SIIM PNG data set lists and reports every problem
// (missing, unreadable, size, label vs mask, mask values, unlisted files) and a summary.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <set>

#include "data/siim.h"
#include "engine/error.h"
#include "engine/progress.h"

namespace fcnlab::data {
namespace {

struct FileCheck {
  bool image_exists = false, mask_exists = false;
  std::string image_error, mask_error;  // non-empty when unreadable
  int iw = 0, ih = 0, mw = 0, mh = 0;
  int64_t foreground = 0, odd_values = 0, pixels = 0;
};

// "path: message" -> "message" (the problem carries the path separately).
std::string strip_path(const std::string& what, const std::string& path) {
  if (what.rfind(path + ": ", 0) == 0) return what.substr(path.size() + 2);
  return what;
}

std::string pct(double f) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * f);
  return b;
}

}  // namespace

Inspection SiimPngDataset::inspect(int threads, bool show_progress) const {
  namespace fs = std::filesystem;
  std::vector<const SiimRecord*> all;
  for (const SiimRecord& r : train_) all.push_back(&r);
  for (const SiimRecord& r : test_) all.push_back(&r);
  std::vector<FileCheck> checks(all.size());

  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  Progress progress(static_cast<int64_t>(all.size()), 1, "inspect");
  int64_t done = 0;
#pragma omp parallel for schedule(dynamic, 8) num_threads(nthreads)
  for (size_t i = 0; i < all.size(); ++i) {
    FileCheck& c = checks[i];
    const std::string ip = image_path(*all[i]), mp = mask_path(*all[i]);
    std::error_code ec;
    c.image_exists = fs::is_regular_file(ip, ec);
    c.mask_exists = fs::is_regular_file(mp, ec);
    if (c.image_exists) {
      try {
        GrayImage img = read_png_gray8(ip);
        c.iw = img.width;
        c.ih = img.height;
      } catch (const std::exception& e) {
        c.image_error = strip_path(e.what(), ip);
      }
    }
    if (c.mask_exists) {
      try {
        GrayImage m = read_png_gray8(mp);
        c.mw = m.width;
        c.mh = m.height;
        c.pixels = int64_t(m.pixels.size());
        for (uint8_t v : m.pixels) {
          c.foreground += v > 127;
          c.odd_values += v != 0 && v != 255;
        }
      } catch (const std::exception& e) {
        c.mask_error = strip_path(e.what(), mp);
      }
    }
    if (show_progress) {
#pragma omp critical(fcnlab_inspect_progress)
      progress.update(++done);  // an image and its mask per step
    }
  }

  if (show_progress) progress.finish();
  Inspection out;
  out.problems = csv_problems_;
  DatasetSummary& s = out.summary;
  s.train = int(train_.size());
  s.test = int(test_.size());
  for (const SiimRecord& r : train_) s.train_positive += r.has_pneumo == 1;
  for (const SiimRecord& r : test_) s.test_positive += r.has_pneumo == 1;

  // the common image size: the most frequent one among readable images
  std::map<std::pair<int, int>, int> sizes;
  for (const FileCheck& c : checks)
    if (c.iw > 0) ++sizes[{c.iw, c.ih}];
  if (!sizes.empty()) {
    auto best = std::max_element(sizes.begin(), sizes.end(),
                                 [](auto& a, auto& b) { return a.second < b.second; });
    s.width = best->first.first;
    s.height = best->first.second;
  }

  int64_t fg_total = 0, px_total = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const SiimRecord& r = *all[i];
    const FileCheck& c = checks[i];
    const std::string ip = image_path(r), mp = mask_path(r);
    if (!c.image_exists)
      out.problems.push_back({ProblemKind::missing_image, ip, "listed at " + r.csv + ", not found"});
    if (!c.mask_exists)
      out.problems.push_back({ProblemKind::missing_mask, mp, "listed at " + r.csv + ", not found"});
    if (!c.image_error.empty())
      out.problems.push_back({ProblemKind::unreadable, ip, c.image_error});
    if (!c.mask_error.empty()) out.problems.push_back({ProblemKind::unreadable, mp, c.mask_error});
    const bool image_ok = c.iw > 0, mask_ok = c.mw > 0;
    if (image_ok && (c.iw != s.width || c.ih != s.height))
      out.problems.push_back({ProblemKind::size_mismatch, ip,
                              "image is " + std::to_string(c.iw) + "x" + std::to_string(c.ih) +
                                  ", most images are " + std::to_string(s.width) + "x" +
                                  std::to_string(s.height)});
    if (image_ok && mask_ok && (c.iw != c.mw || c.ih != c.mh))
      out.problems.push_back({ProblemKind::size_mismatch, mp,
                              "mask is " + std::to_string(c.mw) + "x" + std::to_string(c.mh) +
                                  " but its image is " + std::to_string(c.iw) + "x" +
                                  std::to_string(c.ih)});
    if (!mask_ok) continue;
    ++s.masks_read;
    fg_total += c.foreground;
    px_total += c.pixels;
    if (c.foreground > 0) s.mask_area_fractions.push_back(double(c.foreground) / double(c.pixels));
    if (c.odd_values > 0)
      out.problems.push_back({ProblemKind::mask_values, mp,
                              std::to_string(c.odd_values) +
                                  " pixels are neither 0 nor 255 (read as foreground when > 127)"});
    if (r.has_pneumo >= 0 && (c.foreground > 0) != (r.has_pneumo == 1))
      out.problems.push_back(
          {ProblemKind::label_mismatch, mp,
           r.has_pneumo == 1 ? "has_pneumo is 1 (" + r.csv + ") but the mask is empty"
                             : "has_pneumo is 0 (" + r.csv + ") but the mask has " +
                                   std::to_string(c.foreground) + " foreground pixels"});
  }
  s.positive_pixel_fraction = px_total > 0 ? double(fg_total) / double(px_total) : 0.0;
  std::sort(s.mask_area_fractions.begin(), s.mask_area_fractions.end());

  // files no CSV row names
  std::set<std::string> listed;
  for (const SiimRecord* r : all) listed.insert(r->file);
  for (const char* sub : {siim::kImagesDir, siim::kMasksDir}) {
    fs::path dir = fs::path(root_) / sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> extra;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && !listed.count(e.path().filename().string()))
        extra.push_back(e.path().string());
    std::sort(extra.begin(), extra.end());
    for (const std::string& f : extra)
      out.problems.push_back({ProblemKind::unlisted_file, f, "not listed in either CSV"});
  }
  return out;
}

std::string DatasetSummary::str() const {
  std::string o;
  auto line = [&](const std::string& l) { o += l + "\n"; };
  line("images:    " + std::to_string(train + test) + " (train " + std::to_string(train) +
       ", test " + std::to_string(test) + ")");
  line("positives: " + std::to_string(train_positive + test_positive) + " (train " +
       std::to_string(train_positive) + " = " + pct(train ? double(train_positive) / train : 0) +
       ", test " + std::to_string(test_positive) + " = " +
       pct(test ? double(test_positive) / test : 0) + ")");
  line("size:      " + (width ? std::to_string(width) + "x" + std::to_string(height)
                              : std::string("unknown (no readable image)")));
  line("masks read: " + std::to_string(masks_read) + ", foreground pixels " +
       pct(positive_pixel_fraction) + " of all mask pixels");
  const auto& a = mask_area_fractions;
  if (a.empty()) {
    line("mask area: no non-empty mask");
  } else {
    auto q = [&](double p) { return a[size_t(std::lround(p * double(a.size() - 1)))]; };
    double mean = 0;
    for (double v : a) mean += v;
    mean /= double(a.size());
    line("mask area (% of image, " + std::to_string(a.size()) + " non-empty masks): min " +
         pct(a.front()) + ", p10 " + pct(q(0.1)) + ", p25 " + pct(q(0.25)) + ", median " +
         pct(q(0.5)) + ", p75 " + pct(q(0.75)) + ", p90 " + pct(q(0.9)) + ", max " +
         pct(a.back()) + ", mean " + pct(mean));
  }
  return o;
}

}  // namespace fcnlab::data
