// predict_cli.cpp — fcnlab-predict (apps/predict.cpp only calls predict_main): a trained
// checkpoint and chest X-rays (PNG or DICOM files, or folders of them) ->
//   OUT/masks/<id>.png       the predicted region, 0/255, at the source image's size
//   OUT/overlays/<id>.png    the X-ray with the prediction tinted and outlined in red (and the
//                            truth outlined in green when --masks gives it)
//   OUT/predictions.csv      id, probability, area, has_pneumo (+ the head's, when trained)
//   OUT/submission.csv       ImageId,EncodedPixels in the competition's RLE ("-1" when empty)
// The threshold and minimum area are the checkpoint's (tuned on validation by fcnlab-train).
// Every input is checked before anything is written; every file is written to a temp name and
// renamed, so a failed run leaves no half-written file.
#include "train/predict_cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "data/image.h"
#include "data/rle.h"
#include "data/siim.h"
#include "engine/error.h"
#include "engine/serialize/atomic_file.h"
#include "train/cli_run.h"
#include "train/inference.h"
#include "train/metrics.h"
#include "train/overlay.h"

namespace fcnlab::train {
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string out = "predictions";
  std::string masks;       // truth folder (same file names), optional
  std::string tta = "none";
  int size = 0;
  int batch = 4;
  std::string device = "cpu";
  bool overlays = true;
};

bool is_png_name(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

// Files as given; folders contribute the *.png files directly in them, and every *.dcm below them
// (the DICOM release nests each image as <StudyUID>/<SeriesUID>/<ImageId>.dcm), sorted by path.
// An image's id (its output files' name, and its ImageId in submission.csv unless the PNG
// release's CSV says otherwise) is its file stem: for the DICOM release, the SOPInstanceUID.
std::vector<InferenceInput> collect_inputs(const Options& o) {
  std::vector<InferenceInput> inputs;
  std::map<std::string, std::string> seen;  // id -> path (ids name the output files)
  auto add = [&](const fs::path& p) {
    InferenceInput in;
    in.id = p.stem().string();
    in.image_path = p.string();
    auto [it, fresh] = seen.emplace(in.id, in.image_path);
    FCNLAB_CHECK(fresh, "images '", it->second, "' and '", in.image_path,
                 "' have the same name, so their outputs would overwrite each other");
    if (!o.masks.empty())  // the image's own name for a PNG, <stem>.png for a DICOM file
      in.mask_path = (fs::path(o.masks) / (is_dicom_path(in.image_path) ? in.id + ".png" : p.filename().string())).string();
    inputs.push_back(in);
  };
  for (const std::string& arg : o.images) {
    const fs::path p(arg);
    if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && is_png_name(e.path())) files.push_back(e.path());
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && is_dicom_path(e.path().string())) files.push_back(e.path());
      FCNLAB_CHECK(!files.empty(), arg, ": folder holds no .png images (nor .dcm files below it)");
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) add(f);
    } else {
      FCNLAB_CHECK(fs::exists(p), arg, ": no such image file or folder");
      add(p);
    }
  }
  FCNLAB_CHECK(!inputs.empty(), "no images given");
  return inputs;
}

// For images of the SIIM-ACR PNG release (<root>/png_images/<file> with the CSVs in <root>),
// the competition ImageId from the CSV; otherwise the file stem.
std::map<std::string, std::string> siim_image_ids(const std::vector<InferenceInput>& inputs) {
  std::map<std::string, std::string> ids;  // image path -> ImageId
  std::map<std::string, std::map<std::string, std::string>> by_root;
  for (const InferenceInput& in : inputs) {
    const fs::path p(in.image_path);
    if (p.parent_path().filename() != "png_images") continue;
    const fs::path root = p.parent_path().parent_path();
    const std::string key = root.string();
    if (!by_root.count(key)) {
      std::map<std::string, std::string>& m = by_root[key];
      if (fs::exists(root / "stage_1_train_images.csv") && fs::exists(root / "stage_1_test_images.csv")) {
        const data::SiimPngDataset ds = data::SiimPngDataset::open(key);
        for (const auto* recs : {&ds.train(), &ds.test()})
          for (const data::SiimRecord& r : *recs) m[r.file] = r.image_id;
      }
    }
    const auto& m = by_root[key];
    auto it = m.find(p.filename().string());
    if (it != m.end()) ids[in.image_path] = it->second;
  }
  return ids;
}

int run(const Options& o) {
  FCNLAB_CHECK(o.tta == "none" || o.tta == "flip", "--tta must be none or flip, got '", o.tta, "'");
  FCNLAB_CHECK(o.batch >= 1, "--batch must be >= 1, got ", o.batch);
  FCNLAB_CHECK(o.size >= 0, "--size must be >= 0 (0: the checkpoint's), got ", o.size);
  const Device device = parse_device(o.device);
#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  FCNLAB_CHECK(device.is_cpu(), "--device ", o.device,
               ": this build of fcnlab has no CUDA kernels (configure with FCNLAB_GPU=cuda)");
#endif
  FCNLAB_CHECK(o.masks.empty() || fs::is_directory(o.masks), "--masks '", o.masks,
               "': no such folder");

  // Everything that can be checked before the first write is checked here.
  std::vector<InferenceInput> inputs = collect_inputs(o);
  check_inputs(inputs);
  LoadedModel model = load_model_checkpoint(o.checkpoint, device);
  const std::map<std::string, std::string> image_ids = siim_image_ids(inputs);

  std::error_code ec;
  for (const char* sub : {"", "masks", "overlays"}) {
    const fs::path d = fs::path(o.out) / sub;
    fs::create_directories(d, ec);
    FCNLAB_CHECK(!ec && fs::is_directory(d), "--out '", o.out, "': cannot create folder '",
                 d.string(), "' (", ec.message(), ")");
  }
  { AtomicFile probe((fs::path(o.out) / "predictions.csv").string()); }  // writable? (then removed)

  const ModelMeta& meta = model.meta;
  const int size = o.size > 0 ? o.size : meta.size;
  std::printf("fcnlab-predict: %s from %s, %zu image(s) at %dx%d, threshold %g, min area %lld px "
              "(at %d), tta %s, device %s\n",
              meta.describe().c_str(), o.checkpoint.c_str(), inputs.size(), size, size,
              meta.threshold, static_cast<long long>(min_area_at(meta, size)), size,
              o.tta.c_str(), device.str().c_str());

  std::string csv = "id,probability,area,has_pneumo";
  if (meta.has_head) csv += ",head_probability,has_pneumo_head";
  if (!o.masks.empty()) csv += ",truth_area,dice";
  csv += "\n";
  std::vector<std::string> sub_ids, sub_rles;
  int64_t positives = 0;
  std::vector<ImageResult> scored;

  InferenceOptions io;
  io.size = o.size;
  io.batch = o.batch;
  io.hflip_tta = o.tta == "flip";
  run_inference(model, inputs, io, [&](ImagePrediction& p) {
    const int w = p.image.width, h = p.image.height;
    const std::string& id = p.input.id;
    data::write_png_gray8((fs::path(o.out) / "masks" / (id + ".png")).string(),
                          mask_to_image(p.mask, w, h));
    if (o.overlays)
      write_png_rgb((fs::path(o.out) / "overlays" / (id + ".png")).string(),
                           make_overlay(p.image, p.mask, p.truth.empty() ? nullptr : &p.truth));
    const bool positive = predicted_positive(p.result);
    positives += positive;
    csv += csv_quote(id) + "," + format_metric(p.result.score) + "," +
           std::to_string(p.result.pred_area) + "," + (positive ? "1" : "0");
    if (meta.has_head)
      csv += "," + format_metric(p.head_score) + "," +
             (p.head_score >= meta.head_threshold ? "1" : "0");
    if (p.result.has_truth) {
      csv += "," + std::to_string(p.result.truth_area) + "," +
             format_metric(image_dice(p.result));
      scored.push_back(p.result);
    }
    csv += "\n";
    auto it = image_ids.find(p.input.image_path);
    sub_ids.push_back(it != image_ids.end() ? it->second : id);
    sub_rles.push_back(data::rle_encode(p.mask, w, h));
  });

  write_file_atomic((fs::path(o.out) / "predictions.csv").string(), csv.data(), csv.size());
  data::write_rle_csv((fs::path(o.out) / "submission.csv").string(), sub_ids, sub_rles);

  std::printf("%zu image(s): %lld called has_pneumo\n", inputs.size(), static_cast<long long>(positives));
  if (!scored.empty()) {
    const Metrics m = summarize(scored);
    std::printf("against --masks: competition Dice %s, positive-only Dice %s\n",
                format_metric(m.dice).c_str(), format_metric(m.dice_positive).c_str());
  }
  std::printf("written: %s/masks/, %s%s/predictions.csv, %s/submission.csv\n", o.out.c_str(),
              o.overlays ? (o.out + "/overlays/, ").c_str() : "", o.out.c_str(), o.out.c_str());
  return 0;
}

}  // namespace

int predict_main(const std::vector<std::string>& args, std::string* error) {
  Options o;
  CLI::App app{"fcnlab-predict: segment pneumothorax in chest X-rays with a trained checkpoint"};
  app.add_option("--checkpoint,-c", o.checkpoint, "a checkpoint written by fcnlab-train")->required();
  app.add_option("images", o.images, "PNG or DICOM (.dcm) files and/or folders of them (.dcm "
                                     "found in subfolders too)")->required();
  app.add_option("--out,-o", o.out, "output folder")->capture_default_str();
  app.add_option("--masks", o.masks, "folder of truth masks named as the PNG images (<stem>.png "
                                     "for .dcm images): adds the truth to the overlays and Dice "
                                     "to the CSV");
  app.add_option("--tta", o.tta, "test-time augmentation: none | flip (average with the "
                                 "horizontally flipped image)")->capture_default_str();
  app.add_option("--size", o.size, "model input side (0: the checkpoint's)")->capture_default_str();
  app.add_option("--batch", o.batch, "images per forward pass")->capture_default_str();
  app.add_option("--device", o.device, "cpu | cuda")->capture_default_str();
  app.add_flag("!--no-overlays", o.overlays, "skip the overlay PNGs");
  return parse_and_run(app, args, "fcnlab-predict", error, [&] { return run(o); });
}

}  // namespace fcnlab::train
