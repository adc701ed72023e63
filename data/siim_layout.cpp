// siim_layout.cpp — file names of the SIIM-ACR releases, and telling them apart.
#include "data/siim_layout.h"

#include <cctype>
#include <filesystem>

#include "engine/error.h"

namespace fcnlab::data::siim {

const char* split_name(Split s) { return s == Split::train ? "train" : "test"; }

std::string png_name(int index, Split split, bool positive) {
  return std::to_string(index) + "_" + split_name(split) + "_" + (positive ? "1" : "0") + "_.png";
}

std::optional<ParsedName> parse_png_name(const std::string& name) {
  // ^(\d+)_(train|test)_(\d)_\.png$
  size_t i = 0;
  long long index = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
    index = index * 10 + (name[i] - '0');
    if (index > 1000000000) return std::nullopt;
    ++i;
  }
  if (i == 0 || i >= name.size() || name[i] != '_') return std::nullopt;
  std::string rest = name.substr(i + 1);
  ParsedName p;
  p.index = static_cast<int>(index);
  if (rest.rfind("train_", 0) == 0) {
    p.split = Split::train;
    rest = rest.substr(6);
  } else if (rest.rfind("test_", 0) == 0) {
    p.split = Split::test;
    rest = rest.substr(5);
  } else {
    return std::nullopt;
  }
  if (rest.size() != 6 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
      rest.substr(1) != "_.png")
    return std::nullopt;
  p.label = rest[0] - '0';
  return p;
}

const char* release_name(Release r) {
  return r == Release::png ? "PNG release" : "DICOM+RLE release";
}

Release detect_release(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  FCNLAB_CHECK(fs::is_directory(root, ec), root, ": not a folder (expected a SIIM-ACR data set)");
  if (fs::exists(fs::path(root) / kTrainCsv, ec)) return Release::png;
  if (fs::exists(fs::path(root) / kRleCsv, ec)) return Release::dicom;
  FCNLAB_FAIL(root, ": not a SIIM-ACR data set: expected ", kTrainCsv, " (the PNG release, with ",
              kImagesDir, "/ and ", kMasksDir, "/) or ", kRleCsv, " (the original release, with ",
              kDicomTrainDir, "/)");
}

}  // namespace fcnlab::data::siim
