// dicom_twin.h — the original DICOM+RLE release made from a PNG-release folder (a phantom set):
// each train case as <dcm_root>/dicom-images-train/s.<ImageId>/r.<ImageId>/<ImageId>.dcm with the
// same pixels, its mask as train-rle.csv rows in the PNG train CSV's order ("-1" when empty).
// Training or scoring the twin must give exactly what the PNG folder gives.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "data/dicom.h"
#include "data/rle.h"
#include "data/siim.h"
#include "data/siim_layout.h"

namespace fcnlab::test {

// Returns the train-rle.csv text it wrote.
inline std::string write_dicom_twin(const std::string& png_root, const std::string& dcm_root) {
  namespace fs = std::filesystem;
  const data::SiimPngDataset ds = data::SiimPngDataset::open(png_root);
  std::string csv = "ImageId, EncodedPixels\n";
  for (const data::SiimRecord& r : ds.train()) {
    const data::SiimSample smp = ds.load(r);
    const fs::path folder = fs::path(dcm_root) / data::siim::kDicomTrainDir / ("s." + r.image_id) / ("r." + r.image_id);
    fs::create_directories(folder);
    data::write_dicom_gray8((folder / (r.image_id + ".dcm")).string(), smp.image, r.image_id);
    bool any = false;
    for (uint8_t v : smp.mask.pixels) any = any || v != 0;
    csv += r.image_id + ", " + (any ? data::rle_encode(smp.mask.pixels, smp.mask.width, smp.mask.height) : "-1") + "\n";
  }
  std::ofstream(fs::path(dcm_root) / data::siim::kRleCsv, std::ios::binary) << csv;
  return csv;
}

}  // namespace fcnlab::test
