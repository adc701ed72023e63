// siim.h — the SIIM-ACR PNG release (or a phantom set in its layout) as an index:
// both CSVs read by column name, every problem found listed with its file, a stratified
// train/val split, and a summary (counts, positives, mask-area distribution).
// Layout and names: siim_layout.h; facts: reference/siim.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/siim_layout.h"

namespace fcnlab::data {

struct SiimRecord {
  std::string file;      // new_filename, e.g. "2_train_1_.png" (same name in both folders)
  std::string image_id;  // the original DICOM SOPInstanceUID
  int has_pneumo = 0;    // 0 or 1 (-1 when the CSV value is neither; reported as a problem)
  siim::Split split = siim::Split::train;
  std::string csv;       // "stage_1_train_images.csv:17", for messages
};

enum class ProblemKind {
  missing_image,    // a CSV row whose png_images/ file is absent
  missing_mask,     // a CSV row whose png_masks/ file is absent
  unreadable,       // a file that is not a valid PNG
  duplicate_file,   // the same new_filename on two rows
  duplicate_id,     // the same ImageId on two rows
  bad_label,        // has_pneumo is not 0 or 1
  bad_name,         // new_filename does not follow {index}_{split}_{label}_.png or disagrees
  label_mismatch,   // has_pneumo disagrees with an empty / non-empty mask
  size_mismatch,    // image and mask sizes differ, or the image differs from the common size
  mask_values,      // mask values other than 0 and 255
  unlisted_file,    // a PNG in the folders that no CSV row names
};
const char* problem_kind_name(ProblemKind k);

struct Problem {
  ProblemKind kind;
  std::string file;    // the path (or CSV:line) concerned
  std::string detail;  // what was expected and what was found
  std::string str() const;  // "missing_image: <file>: <detail>"
};

// One decoded case: the image and its mask (foreground 255 -> 1, i.e. values > 127).
struct SiimSample {
  GrayImage image;  // (H, W)
  GrayImage mask;   // (H, W), 0 / 1
  int label = 0;
};

struct DatasetSummary {
  int train = 0, test = 0, train_positive = 0, test_positive = 0;
  int width = 0, height = 0;      // the most common image size (0 if none was readable)
  int masks_read = 0;
  // Per positive image with a non-empty mask: foreground pixels / image pixels.
  std::vector<double> mask_area_fractions;
  double positive_pixel_fraction = 0;  // foreground / all pixels, over every mask read
  std::string str() const;             // multi-line, for terminals
};

struct Inspection {
  DatasetSummary summary;
  std::vector<Problem> problems;  // every problem, CSV problems first, then by file
  int count(ProblemKind k) const;
  bool files_missing() const {
    return count(ProblemKind::missing_image) + count(ProblemKind::missing_mask) > 0;
  }
};

class SiimPngDataset {
 public:
  // Reads <root>/stage_1_{train,test}_images.csv (columns by name; CRLF and BOM tolerated).
  // A missing CSV or column throws; row-level problems are recorded, not thrown.
  static SiimPngDataset open(const std::string& root);

  const std::string& root() const { return root_; }
  const std::vector<SiimRecord>& records(siim::Split split) const {
    return split == siim::Split::train ? train_ : test_;
  }
  const std::vector<SiimRecord>& train() const { return train_; }
  const std::vector<SiimRecord>& test() const { return test_; }
  std::string image_path(const SiimRecord& r) const;
  std::string mask_path(const SiimRecord& r) const;
  // Problems found in the CSVs alone (duplicates, labels, names).
  const std::vector<Problem>& csv_problems() const { return csv_problems_; }

  // Decodes one case; a missing or corrupt file, or an image/mask size difference, throws
  // an Error naming the file.
  SiimSample load(const SiimRecord& r) const;

  // Reads every listed file (threads: 0 = OpenMP default) and lists every problem; with
  // show_progress a progress bar on stderr (engine/progress.h).
  Inspection inspect(int threads = 0, bool show_progress = false) const;

 private:
  std::string root_;
  std::vector<SiimRecord> train_, test_;
  std::vector<Problem> csv_problems_;
};

// A split of `records` into train and validation, stratified by has_pneumo: each label's
// records are shuffled by seed and round(n_label * val_fraction) of them go to validation.
// Indices into `records`, ascending.
struct TrainValSplit {
  std::vector<size_t> train, val;
};
TrainValSplit stratified_split(const std::vector<SiimRecord>& records, double val_fraction,
                               uint64_t seed);

}  // namespace fcnlab::data
