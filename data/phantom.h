// phantom.h — synthetic chest radiographs ("phantoms") with and without pneumothorax, and a
// writer that lays them out exactly like the SIIM-ACR PNG release, so every path of fcnlab runs
// on a fresh machine with no download.
//
// A phantom has a body outline, two lungs (dark) crossed by ribs and filled with branching
// vessel texture, a mediastinum and heart (bright), clavicles and noise. A positive case has a
// pneumothorax: a crescent along the outer border of one lung, 0.2-5% of the image (log-uniform,
// median ~1% as in the real data), at a varied height, where the vessels are missing, the
// background is a little darker and a thin bright pleural line marks the collapsed lung edge.
// Some negatives carry a skin fold (a similar faint line, with vessels on both sides) so that
// the line alone does not give the answer. Everything is drawn in coordinates relative to the
// image size, so any size works; all randomness is Philox keyed by (seed, case key).
#pragma once
#include <cstdint>
#include <string>

#include "data/image.h"
#include "data/siim_layout.h"

namespace fcnlab::data {

struct Phantom {
  GrayImage image;  // (S, S) 8-bit
  GrayImage mask;   // (S, S) 0 / 255; all 0 for a negative
  bool positive = false;
  int side = 0;     // pneumothorax in the image-left (-1) or image-right (+1) lung; 0 if none
};

// How conspicuous a pneumothorax is drawn: 1 (the default) is subtle, like the hard real cases
// (the air gap 1-5 grey levels darker than the lung beside it, under noise of 2.5-5); c > 1
// multiplies the air gap's darkening and the pleural line's brightness by c. The lesion's shape,
// size and missing vessels do not change. Small models at small sizes need c of 3-4 to learn the
// lesion in minutes on a CPU (scripts/demo.sh).
inline constexpr double kPhantomContrastMin = 0.25, kPhantomContrastMax = 10.0;

// Renders one case. The result depends only on (size, positive, seed, key, contrast).
Phantom render_phantom(int size, bool positive, uint64_t seed, uint64_t key,
                       double contrast = 1.0);

struct PhantomSetOptions {
  int count = 1000;                 // train + test images
  int size = 256;                   // square images
  uint64_t seed = 0;
  double positive_fraction = 2669.0 / 12047.0;  // ~22%, as in the release
  double test_fraction = 1372.0 / 12047.0;      // ~11%, as in the release
  double contrast = 1.0;            // lesion conspicuity (render_phantom); 1 = subtle
  int threads = 0;                  // 0: OpenMP's default
  // zlib-compressed PNGs like the release (slower to write and read), or stored deflate
  // blocks (fast; ~12% larger for these noisy images). Both are valid PNGs.
  bool compress_png = false;
  // The PNG release's layout (png_images/, png_masks/, both CSVs), or the original release's
  // (siim_layout.h): dicom-images-{train,test}/<study>/<series>/<ImageId>.dcm with the same
  // pixels, and train-rle.csv holding the train masks (" -1" for none; test cases have no masks).
  siim::Release release = siim::Release::png;
};

struct PhantomSetReport {
  int train = 0, test = 0;
  int train_positive = 0, test_positive = 0;
  double seconds = 0.0;
};

// Writes <out>/png_images, <out>/png_masks and both CSVs (creating <out>), or the DICOM
// release's folders and train-rle.csv (options.release). The same options give the same cases
// (images, masks, ImageIds, splits) in either layout. Exactly
// round(count * test_fraction) test images and round(n * positive_fraction) positives per split,
// at seeded positions. Deterministic: the same options give byte-identical files.
PhantomSetReport write_phantom_set(const std::string& out, const PhantomSetOptions& options);

}  // namespace fcnlab::data
