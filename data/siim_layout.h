// siim_layout.h — the names of the Kaggle PNG release of SIIM-ACR (reference/siim.md §1):
//   <root>/png_images/{index}_{train|test}_{has_pneumo}_.png   (the image, 8-bit gray)
//   <root>/png_masks/<same name>                                (0 / 255 mask, also for negatives)
//   <root>/stage_1_train_images.csv, stage_1_test_images.csv    (new_filename,ImageId,has_pneumo)
// and of the original competition release (reference/siim.md §2):
//   <root>/dicom-images-train/<StudyUID>/<SeriesUID>/<ImageId>.dcm   (the file stem is the ImageId)
//   <root>/dicom-images-test/...                                     (stage 1: no masks given)
//   <root>/train-rle.csv                                             (ImageId, EncodedPixels)
// Shared by the dataset indexes and the phantom writer so they agree on every character.
#pragma once
#include <optional>
#include <string>

namespace fcnlab::data::siim {

inline constexpr const char* kImagesDir = "png_images";
inline constexpr const char* kMasksDir = "png_masks";
inline constexpr const char* kTrainCsv = "stage_1_train_images.csv";
inline constexpr const char* kTestCsv = "stage_1_test_images.csv";
inline constexpr const char* kCsvHeader = "new_filename,ImageId,has_pneumo";
// Share of the test split in the release: 1,372 of 12,047 images.
inline constexpr double kTestFraction = 1372.0 / 12047.0;
// Share of positive images in the release (2,669 of 12,047).
inline constexpr double kPositiveFraction = 2669.0 / 12047.0;

inline constexpr const char* kDicomTrainDir = "dicom-images-train";
inline constexpr const char* kDicomTestDir = "dicom-images-test";
inline constexpr const char* kRleCsv = "train-rle.csv";

enum class Split { train, test };
const char* split_name(Split s);

// "{index}_{train|test}_{label}_.png", e.g. png_name(2, Split::train, true) == "2_train_1_.png".
std::string png_name(int index, Split split, bool positive);

struct ParsedName {
  int index = 0;
  Split split = Split::train;
  int label = 0;
};
// Parses a name of that pattern; nullopt for anything else.
std::optional<ParsedName> parse_png_name(const std::string& name);

// Which release a folder holds.
enum class Release { png, dicom };
const char* release_name(Release r);  // "PNG release" / "DICOM+RLE release"
// png when <root>/stage_1_train_images.csv exists, else dicom when <root>/train-rle.csv does
// (a folder holding both is read as the PNG release: it decodes faster). Anything else is an
// Error naming root and the files looked for.
Release detect_release(const std::string& root);

}  // namespace fcnlab::data::siim
