// siim_dicom.cpp — indexes the original release: finds every .dcm under the images folder by
// stem, matches the RLE CSV's ImageIds to them, and decodes a case on demand.
#include "data/siim_dicom.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>

#include <omp.h>

#include "data/dicom.h"
#include "engine/error.h"
#include "engine/progress.h"

namespace fcnlab::data {

namespace fs = std::filesystem;

std::vector<Problem> SiimDicomDataset::blocking_problems() const {
  std::vector<Problem> out;
  for (const Problem& p : problems_)
    if (p.kind != ProblemKind::unlisted_file) out.push_back(p);
  return out;
}

SiimDicomDataset SiimDicomDataset::open(const std::string& root) {
  return open((fs::path(root) / siim::kDicomTrainDir).string(),
              (fs::path(root) / siim::kRleCsv).string());
}

SiimDicomDataset SiimDicomDataset::open(const std::string& images_dir, const std::string& rle_csv) {
  std::error_code ec;
  FCNLAB_CHECK(fs::is_directory(images_dir, ec), images_dir,
               ": no such folder (expected the DICOM images, <StudyUID>/<SeriesUID>/<ImageId>.dcm)");
  SiimDicomDataset ds;
  ds.images_dir_ = images_dir;
  ds.rle_csv_ = rle_csv;
  ds.rles_ = read_rle_csv(rle_csv);  // throws for a missing file or missing columns

  // every .dcm by stem; sorted, so problems come out in the same order on every machine
  std::map<std::string, std::vector<std::string>> by_stem;
  for (auto it = fs::recursive_directory_iterator(images_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".dcm") continue;
    by_stem[it->path().stem().string()].push_back(
        fs::relative(it->path(), images_dir).generic_string());
  }
  FCNLAB_CHECK(!ec, images_dir, ": cannot list the folder (", ec.message(), ")");
  for (auto& [stem, files] : by_stem) std::sort(files.begin(), files.end());

  const std::string csv_name = fs::path(rle_csv).filename().string();
  std::map<std::string, bool> listed;
  for (const RleEntry& e : ds.rles_) {
    SiimRecord r;
    r.image_id = e.image_id;
    r.csv = csv_name + ":" + std::to_string(e.lines.empty() ? 0 : e.lines[0]);
    r.has_pneumo = 0;
    for (const std::string& s : e.rles) r.has_pneumo |= (!s.empty() && s != "-1") ? 1 : 0;
    auto f = by_stem.find(e.image_id);
    if (f == by_stem.end()) {
      ds.problems_.push_back({ProblemKind::missing_image, r.csv,
                              "no " + e.image_id + ".dcm under " + images_dir});
    } else {
      r.file = f->second[0];
      listed[e.image_id] = true;
    }
    ds.records_.push_back(std::move(r));
  }
  for (const auto& [stem, files] : by_stem) {
    if (files.size() > 1)
      ds.problems_.push_back({ProblemKind::duplicate_file, files[1],
                              "ImageId " + stem + " also in " + files[0] + " (the first is used)"});
    if (!listed.count(stem))
      for (const std::string& f : files)
        ds.problems_.push_back({ProblemKind::unlisted_file, f, "no row in " + csv_name});
  }
  return ds;
}

SiimSample SiimDicomDataset::load(size_t i) const {
  FCNLAB_CHECK(i < records_.size(), "SiimDicomDataset: case ", i, " out of range for ",
               records_.size());
  const SiimRecord& r = records_[i];
  FCNLAB_CHECK(!r.file.empty(), r.csv, ": ImageId ", r.image_id, " has no DICOM file under ",
               images_dir_);
  const std::string path = (fs::path(images_dir_) / r.file).string();
  SiimSample s;
  s.image = dicom_to_gray8(read_dicom(path));
  s.mask = GrayImage(s.image.width, s.image.height);
  s.mask.pixels = decode_entry(rles_[i], s.image.width, s.image.height, rle_csv_);
  s.label = r.has_pneumo;
  return s;
}

Inspection SiimDicomDataset::inspect(int threads, bool show_progress) const {
  struct Case {
    int w = 0, h = 0;
    int64_t foreground = 0;
    std::string error;  // unreadable DICOM or bad RLE
  };
  std::vector<Case> cases(records_.size());
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  Progress progress(static_cast<int64_t>(records_.size()), 1, "inspect");
  int64_t done = 0;
#pragma omp parallel for schedule(dynamic, 4) num_threads(nthreads)
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!records_[i].file.empty()) {  // else already a missing_image problem
      try {
        SiimSample s = load(i);
        cases[i].w = s.image.width;
        cases[i].h = s.image.height;
        for (uint8_t v : s.mask.pixels) cases[i].foreground += v != 0;
      } catch (const std::exception& e) {
        cases[i].error = e.what();
      }
    }
    if (show_progress) {
#pragma omp critical(fcnlab_inspect_progress)
      progress.update(++done);
    }
  }
  if (show_progress) progress.finish();
  Inspection out;
  out.problems = problems_;
  DatasetSummary& s = out.summary;
  s.train = int(records_.size());
  for (const SiimRecord& r : records_) s.train_positive += r.has_pneumo;
  std::map<std::pair<int, int>, int> sizes;
  for (const Case& c : cases)
    if (c.w > 0) ++sizes[{c.w, c.h}];
  if (!sizes.empty()) {
    auto best = std::max_element(sizes.begin(), sizes.end(),
                                 [](auto& a, auto& b) { return a.second < b.second; });
    s.width = best->first.first;
    s.height = best->first.second;
  }
  int64_t fg = 0, px = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::string path = (fs::path(images_dir_) / records_[i].file).string();
    if (!c.error.empty()) out.problems.push_back({ProblemKind::unreadable, path, c.error});
    if (c.w == 0) continue;
    if (c.w != s.width || c.h != s.height)
      out.problems.push_back({ProblemKind::size_mismatch, path,
                              "image is " + std::to_string(c.w) + "x" + std::to_string(c.h) +
                                  ", most images are " + std::to_string(s.width) + "x" +
                                  std::to_string(s.height)});
    ++s.masks_read;
    fg += c.foreground;
    px += int64_t(c.w) * c.h;
    if (c.foreground > 0) s.mask_area_fractions.push_back(double(c.foreground) / double(c.w * c.h));
  }
  s.positive_pixel_fraction = px > 0 ? double(fg) / double(px) : 0.0;
  std::sort(s.mask_area_fractions.begin(), s.mask_area_fractions.end());
  return out;
}

}  // namespace fcnlab::data
