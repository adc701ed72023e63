// siim_dicom.h — the original SIIM-ACR release (DICOM images + RLE CSV) as an index of cases,
// in the same terms as the PNG release (SiimRecord, SiimSample, Problem), so the splitter, the
// loader and the inspector treat both alike. Layout: siim_layout.h; facts: reference/siim.md §2.
// The cases are the ImageIds of the RLE CSV, in first-appearance order; each is found by file
// stem anywhere under the images folder. A mask is the union of the id's RLE rows, decoded at
// the DICOM's size when the case is loaded.
#pragma once
#include <string>
#include <vector>

#include "data/rle.h"
#include "data/siim.h"

namespace fcnlab::data {

class SiimDicomDataset {
 public:
  // <root>/dicom-images-train/ and <root>/train-rle.csv.
  static SiimDicomDataset open(const std::string& root);
  // Any images folder and RLE CSV (e.g. stage 2's files). A missing folder or CSV, or a CSV
  // without the ImageId / EncodedPixels columns, throws; missing images are problems.
  static SiimDicomDataset open(const std::string& images_dir, const std::string& rle_csv);

  // One per ImageId: file = the .dcm path relative to the images folder ("" when none was
  // found), has_pneumo = any row other than -1, csv = "train-rle.csv:<first line>".
  const std::vector<SiimRecord>& records() const { return records_; }
  const std::string& images_dir() const { return images_dir_; }
  const std::string& rle_csv() const { return rle_csv_; }
  // What the index found: CSV ids without a file (missing_image), two files with one stem
  // (duplicate_file), .dcm files that no CSV row names (unlisted_file).
  const std::vector<Problem>& problems() const { return problems_; }
  // The problems that make a listed case unloadable (all but unlisted_file, which only reports
  // a .dcm that no row names): training and evaluation refuse to start with any of these.
  std::vector<Problem> blocking_problems() const;

  // Decodes case i: the DICOM as 8 bits and its merged RLE mask (0/1). A missing or
  // unreadable file, or an RLE that does not fit the image, throws an Error naming the file
  // or the CSV line.
  SiimSample load(size_t i) const;

  // Decodes every case (threads: 0 = OpenMP default) and lists every problem: the index's,
  // unreadable DICOMs, RLE rows that do not fit their image, sizes other than the common one.
  // The summary counts all cases as train (the release's masks are for its train split).
  Inspection inspect(int threads = 0, bool show_progress = false) const;

 private:
  std::string images_dir_, rle_csv_;
  std::vector<SiimRecord> records_;
  std::vector<RleEntry> rles_;  // parallel to records_
  std::vector<Problem> problems_;
};

}  // namespace fcnlab::data
