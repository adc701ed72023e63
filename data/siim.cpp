// siim.cpp — reading the SIIM-ACR PNG release's CSVs, loading a case, the stratified split.
// The file-by-file validation and the summary live in siim_inspect.cpp.
#include "data/siim.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_map>

#include "data/csv.h"
#include "engine/error.h"
#include "engine/rng.h"

namespace fcnlab::data {

const char* problem_kind_name(ProblemKind k) {
  switch (k) {
    case ProblemKind::missing_image: return "missing_image";
    case ProblemKind::missing_mask: return "missing_mask";
    case ProblemKind::unreadable: return "unreadable";
    case ProblemKind::duplicate_file: return "duplicate_file";
    case ProblemKind::duplicate_id: return "duplicate_id";
    case ProblemKind::bad_label: return "bad_label";
    case ProblemKind::bad_name: return "bad_name";
    case ProblemKind::label_mismatch: return "label_mismatch";
    case ProblemKind::size_mismatch: return "size_mismatch";
    case ProblemKind::mask_values: return "mask_values";
    case ProblemKind::unlisted_file: return "unlisted_file";
  }
  return "?";
}

std::string Problem::str() const {
  return std::string(problem_kind_name(kind)) + ": " + file + ": " + detail;
}

int Inspection::count(ProblemKind k) const {
  return static_cast<int>(
      std::count_if(problems.begin(), problems.end(), [k](const Problem& p) { return p.kind == k; }));
}

SiimPngDataset SiimPngDataset::open(const std::string& root) {
  namespace fs = std::filesystem;
  FCNLAB_CHECK(fs::is_directory(root), root, ": not a directory (expected the data set root with ",
               siim::kImagesDir, "/, ", siim::kMasksDir, "/ and the two CSVs)");
  SiimPngDataset ds;
  ds.root_ = root;
  std::unordered_map<std::string, std::string> seen_file, seen_id;  // value -> where first seen
  for (siim::Split split : {siim::Split::train, siim::Split::test}) {
    const char* csv_name = split == siim::Split::train ? siim::kTrainCsv : siim::kTestCsv;
    CsvTable t = read_csv((fs::path(root) / csv_name).string());
    const int cf = t.column("new_filename"), ci = t.column("ImageId"), cl = t.column("has_pneumo");
    std::vector<SiimRecord>& out = split == siim::Split::train ? ds.train_ : ds.test_;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      SiimRecord rec;
      rec.file = trim(t.rows[r][size_t(cf)]);
      rec.image_id = trim(t.rows[r][size_t(ci)]);
      rec.split = split;
      rec.csv = std::string(csv_name) + ":" + std::to_string(t.row_line[r]);
      const std::string label = trim(t.rows[r][size_t(cl)]);
      rec.has_pneumo = label == "0" ? 0 : label == "1" ? 1 : -1;
      if (rec.has_pneumo < 0)
        ds.csv_problems_.push_back({ProblemKind::bad_label, rec.csv,
                                    "has_pneumo must be 0 or 1, got '" + label + "'"});
      auto parsed = siim::parse_png_name(rec.file);
      if (!parsed) {
        ds.csv_problems_.push_back({ProblemKind::bad_name, rec.csv,
                                    "new_filename '" + rec.file +
                                        "' does not match {index}_{train|test}_{label}_.png"});
      } else if (parsed->split != split) {
        ds.csv_problems_.push_back({ProblemKind::bad_name, rec.csv,
                                    "'" + rec.file + "' names the " +
                                        siim::split_name(parsed->split) + " split but is listed in " +
                                        csv_name});
      } else if (rec.has_pneumo >= 0 && parsed->label != rec.has_pneumo) {
        ds.csv_problems_.push_back({ProblemKind::bad_name, rec.csv,
                                    "'" + rec.file + "' ends in label " +
                                        std::to_string(parsed->label) + " but has_pneumo is " +
                                        std::to_string(rec.has_pneumo)});
      }
      auto [fit, fnew] = seen_file.emplace(rec.file, rec.csv);
      if (!fnew)
        ds.csv_problems_.push_back({ProblemKind::duplicate_file, rec.csv,
                                    "'" + rec.file + "' is already listed at " + fit->second});
      auto [iit, inew] = seen_id.emplace(rec.image_id, rec.csv);
      if (!inew)
        ds.csv_problems_.push_back({ProblemKind::duplicate_id, rec.csv,
                                    "ImageId " + rec.image_id + " is already listed at " +
                                        iit->second});
      out.push_back(std::move(rec));
    }
  }
  return ds;
}

std::string SiimPngDataset::image_path(const SiimRecord& r) const {
  return (std::filesystem::path(root_) / siim::kImagesDir / r.file).string();
}

std::string SiimPngDataset::mask_path(const SiimRecord& r) const {
  return (std::filesystem::path(root_) / siim::kMasksDir / r.file).string();
}

SiimSample SiimPngDataset::load(const SiimRecord& r) const {
  SiimSample s;
  s.image = read_png_gray8(image_path(r));
  const std::string mp = mask_path(r);
  s.mask = read_png_gray8(mp);
  FCNLAB_CHECK(s.mask.width == s.image.width && s.mask.height == s.image.height, mp, ": mask is ",
               s.mask.width, "x", s.mask.height, " but its image is ", s.image.width, "x",
               s.image.height);
  for (uint8_t& v : s.mask.pixels) v = v > 127 ? 1 : 0;
  s.label = r.has_pneumo;
  return s;
}

TrainValSplit stratified_split(const std::vector<SiimRecord>& records, double val_fraction,
                               uint64_t seed) {
  FCNLAB_CHECK(val_fraction >= 0 && val_fraction <= 1,
               "stratified_split: val_fraction must be in [0, 1], got ", val_fraction);
  TrainValSplit out;
  for (int label : {0, 1}) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < records.size(); ++i)
      if ((records[i].has_pneumo == 1) == (label == 1)) idx.push_back(i);
    Generator g(seed * 2 + uint64_t(label));
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[g.next_below(i)]);
    size_t nval = static_cast<size_t>(std::llround(double(idx.size()) * val_fraction));
    out.val.insert(out.val.end(), idx.begin(), idx.begin() + long(nval));
    out.train.insert(out.train.end(), idx.begin() + long(nval), idx.end());
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.val.begin(), out.val.end());
  return out;
}

}  // namespace fcnlab::data
