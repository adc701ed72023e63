// fcnlab-phantoms — writes synthetic chest radiographs with pneumothorax masks in the exact
// layout of the Kaggle SIIM-ACR PNG release (png_images/, png_masks/, both CSVs), or with
// --release dicom in the original release's (nested .dcm files, train-rle.csv).
//   fcnlab-phantoms --out DIR --count N --size S --seed K [--positive-fraction F] [--contrast C]
//                   [--release png|dicom]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "data/phantom.h"
#include "data/siim_layout.h"
#include "engine/cli.h"
#include "engine/error.h"

int main(int argc, char** argv) {
  CLI::App app{"fcnlab-phantoms: synthetic chest X-rays in the SIIM-ACR PNG (or DICOM) release layout"};
  fcnlab::cli::use_fcnlab_errors(app, "fcnlab-phantoms");
  std::string out;
  fcnlab::data::PhantomSetOptions o;
  app.add_option("--out", out, "output directory (created)")->required();
  app.add_option("--count", o.count, "number of images, train + test")
      ->check(fcnlab::cli::positive())->capture_default_str();
  app.add_option("--size", o.size, "image side in pixels")
      ->check(fcnlab::cli::in_range(32, 8192))->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (same seed, same files)")->capture_default_str();
  app.add_option("--positive-fraction", o.positive_fraction,
                 "share of images with a pneumothorax")
      ->check(fcnlab::cli::in_range(0.0, 1.0))->capture_default_str();
  app.add_option("--test-fraction", o.test_fraction, "share of images in the test split")
      ->check(fcnlab::cli::in_range(0.0, 0.99))->capture_default_str();
  app.add_option("--contrast", o.contrast,
                 "lesion conspicuity: 1 = subtle (like hard real cases); c multiplies the air "
                 "gap's darkening and the pleural line's brightness")
      ->check(fcnlab::cli::in_range(fcnlab::data::kPhantomContrastMin, fcnlab::data::kPhantomContrastMax))
      ->capture_default_str();
  app.add_flag("--compress", o.compress_png,
               "zlib-compress the images like the release (slower; default: stored PNG)");
  app.add_option("--threads", o.threads, "worker threads (0: all cores)")
      ->check(fcnlab::cli::at_least(0))->capture_default_str();
  std::string release = "png";
  app.add_option("--release", release,
                 "png: the PNG release's layout; dicom: the original release's (dicom-images-"
                 "train/ and -test/ with nested <study>/<series>/<ImageId>.dcm, train-rle.csv)")
      ->check(CLI::IsMember({"png", "dicom"}))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.release = release == "dicom" ? fcnlab::data::siim::Release::dicom : fcnlab::data::siim::Release::png;
  try {
    fcnlab::data::PhantomSetReport r = fcnlab::data::write_phantom_set(out, o);
    std::printf("wrote %d images (%d train, %d positive; %d test, %d positive) of %dx%d to %s in "
                "%.2f s\n",
                r.train + r.test, r.train, r.train_positive, r.test, r.test_positive, o.size,
                o.size, out.c_str(), r.seconds);
  } catch (const fcnlab::Error& e) {
    std::cerr << "fcnlab-phantoms: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
