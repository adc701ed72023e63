// evaluate_cli.cpp — fcnlab-evaluate (apps/evaluate.cpp only calls evaluate_main): one or several
// checkpoints scored on the same images, side by side:
//   OUT/evaluation.md     the table (also printed): competition Dice, positive-only Dice, IoU,
//                         pixel accuracy, AUC, sensitivity and specificity at each checkpoint's
//                         stored threshold and min area (and the classifier head's, if any)
//   OUT/evaluation.csv    the same numbers, one row per checkpoint
//   OUT/per_image.csv     one row per checkpoint and image
//   OUT/confusion.png     the image-level confusion matrix of each checkpoint (the mask's call;
//                         beside it the head's, when the checkpoint has one)
// Images: --data DIR (the PNG release layout, or the original DICOM+RLE release whose cases are
// all train cases; --split val takes the trainer's validation split,
// whose fraction and seed default to those stored in the first checkpoint) or --phantoms N
// (a fresh phantom set generated into OUT/phantoms). Predictions are scored at the source image
// size, as a submission would be (train/inference.h).
#include "train/evaluate_cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>

#include "data/phantom.h"
#include "data/siim.h"
#include "data/siim_dicom.h"
#include "data/siim_layout.h"
#include "engine/error.h"
#include "engine/serialize/atomic_file.h"
#include "train/cli_run.h"
#include "train/inference.h"
#include "train/metrics.h"
#include "train/plot.h"

namespace fcnlab::train {
namespace fs = std::filesystem;

namespace {

struct Options {
  std::vector<std::string> checkpoints;
  std::string data;
  int phantoms = 0;
  int phantom_size = 0;     // 0: the first checkpoint's size
  uint64_t phantom_seed = 7919;
  std::string split;        // val | test | train | all (default: val for --data, all for --phantoms)
  double val_fraction = -1;  // < 0: the first checkpoint's, else 0.2
  int64_t seed = -1;         // split seed; < 0: the first checkpoint's, else 0
  std::string out = "evaluation";
  std::string tta = "none";
  int size = 0;
  int batch = 4;
  std::string device = "cpu";
};

struct Scored {
  std::string name, path;
  ModelMeta meta;
  std::vector<ImageResult> results;
  std::vector<double> head_scores;
  Metrics m;
  // Head (NaN without one): AUC of its probability, sensitivity/specificity at its threshold.
  double head_auc = NAN, head_sens = NAN, head_spec = NAN;
  Confusion head_confusion;
};

// A number stored in the checkpoint's training configuration, under either spelling.
double config_number(const nlohmann::json& meta, const char* dash, const char* under, double fallback) {
  if (!meta.is_object() || !meta.contains("config") || !meta["config"].is_object()) return fallback;
  const nlohmann::json& c = meta["config"];
  for (const char* k : {dash, under})
    if (c.contains(k) && c[k].is_number()) return c[k].get<double>();
  return fallback;
}

// "run/best" from ".../run/best.safetensors"; made unique with a counter when two agree.
std::vector<std::string> checkpoint_names(const std::vector<std::string>& paths) {
  std::vector<std::string> names;
  std::set<std::string> used;
  for (const std::string& p : paths) {
    const fs::path f(p);
    std::string base = f.parent_path().filename().string();
    base = (base.empty() ? "" : base + "/") + f.stem().string();
    std::string name = base;
    for (int k = 2; used.count(name); ++k) name = base + "#" + std::to_string(k);
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

// The original DICOM+RLE release: its cases are train cases (masks are given for those only),
// split as fcnlab-train splits them; each decoded from its .dcm and RLE rows when scored.
std::vector<InferenceInput> dicom_release_inputs(const std::string& data_dir, const std::string& split,
                                                 double val_fraction, uint64_t seed) {
  FCNLAB_CHECK(split != "test", data_dir, ": the DICOM release gives masks (", data::siim::kRleCsv,
               ") for its train cases only; use --split val, train or all");
  auto ds = std::make_shared<const data::SiimDicomDataset>(data::SiimDicomDataset::open(data_dir));
  const std::vector<data::Problem> fatal = ds->blocking_problems();
  FCNLAB_CHECK(fatal.empty(), data_dir, ": the DICOM release's index has ", fatal.size(),
               " problem(s) (fcnlab-inspect --dataset lists them all), the first: ", fatal.front().str());
  std::vector<size_t> cases;
  if (split == "val" || split == "train") {
    const data::TrainValSplit s = data::stratified_split(ds->records(), val_fraction, seed);
    cases = split == "val" ? s.val : s.train;
  } else {
    for (size_t i = 0; i < ds->records().size(); ++i) cases.push_back(i);
  }
  FCNLAB_CHECK(!cases.empty(), data_dir, ": split '", split, "' holds no images");
  std::vector<InferenceInput> inputs;
  for (size_t i : cases) {
    const data::SiimRecord& r = ds->records()[i];
    InferenceInput in{fs::path(r.file).stem().string(), (fs::path(ds->images_dir()) / r.file).string(), "", {}};
    in.load = [ds, i] { return ds->load(i); };
    inputs.push_back(std::move(in));
  }
  return inputs;
}

std::vector<InferenceInput> dataset_inputs(const std::string& data_dir, const std::string& split,
                                           double val_fraction, uint64_t seed) {
  if (data::siim::detect_release(data_dir) == data::siim::Release::dicom)
    return dicom_release_inputs(data_dir, split, val_fraction, seed);
  const data::SiimPngDataset ds = data::SiimPngDataset::open(data_dir);
  std::vector<data::SiimRecord> recs;
  if (split == "val" || split == "train") {
    const data::TrainValSplit s = data::stratified_split(ds.train(), val_fraction, seed);
    for (size_t i : split == "val" ? s.val : s.train) recs.push_back(ds.train()[i]);
  } else if (split == "test") {
    recs = ds.test();
  } else {
    recs = ds.train();
    recs.insert(recs.end(), ds.test().begin(), ds.test().end());
  }
  FCNLAB_CHECK(!recs.empty(), data_dir, ": split '", split, "' holds no images");
  std::vector<InferenceInput> inputs;
  for (const data::SiimRecord& r : recs)
    inputs.push_back({fs::path(r.file).stem().string(), ds.image_path(r), ds.mask_path(r), {}});
  return inputs;
}

std::string cell(double v, int digits = 4) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string markdown_table(const std::vector<Scored>& all, const std::string& what) {
  bool any_head = false;
  for (const Scored& s : all) any_head = any_head || s.meta.has_head;
  std::vector<std::pair<std::string, std::function<std::string(const Scored&)>>> rows = {
      {"model", [](const Scored& s) { return s.meta.model + " w" + format_metric(s.meta.options.width); }},
      {"threshold / min area", [](const Scored& s) {
         return format_metric(s.meta.threshold) + " / " + std::to_string(s.meta.min_area);
       }},
      {"images (positive)", [](const Scored& s) {
         return std::to_string(s.m.images) + " (" + std::to_string(s.m.positives) + ")";
       }},
      {"**competition Dice**", [](const Scored& s) { return "**" + cell(s.m.dice) + "**"; }},
      // An all-empty prediction scores the share of negative images: the bar to beat.
      {"Dice of predicting nothing", [](const Scored& s) {
         return cell(s.m.images ? double(s.m.images - s.m.positives) / double(s.m.images)
                                : std::nan(""));
       }},
      {"Dice, positives only", [](const Scored& s) { return cell(s.m.dice_positive); }},
      {"IoU", [](const Scored& s) { return cell(s.m.iou); }},
      {"pixel accuracy", [](const Scored& s) { return cell(s.m.pixel_accuracy, 5); }},
      {"AUC (max prob)", [](const Scored& s) { return cell(s.m.auc); }},
      {"sensitivity", [](const Scored& s) { return cell(s.m.sensitivity); }},
      {"specificity", [](const Scored& s) { return cell(s.m.specificity); }},
      {"TP / FP / TN / FN", [](const Scored& s) {
         const Confusion& c = s.m.confusion;
         return std::to_string(c.tp) + " / " + std::to_string(c.fp) + " / " + std::to_string(c.tn) +
                " / " + std::to_string(c.fn);
       }},
  };
  if (any_head) {
    rows.push_back({"AUC (head)", [](const Scored& s) { return cell(s.head_auc); }});
    rows.push_back({"sensitivity (head)", [](const Scored& s) { return cell(s.head_sens); }});
    rows.push_back({"specificity (head)", [](const Scored& s) { return cell(s.head_spec); }});
  }
  std::string t = "Evaluation on " + what + "\n\n| metric |";
  // Appends piece by piece (GCC 12 warns -Wrestrict, falsely, on " " + f(s) + " |").
  for (const Scored& s : all) t.append(" ").append(s.name).append(" |");
  t += "\n|---|";
  for (size_t i = 0; i < all.size(); ++i) t += "---:|";
  t += "\n";
  for (const auto& [label, f] : rows) {
    t.append("| ").append(label).append(" |");
    for (const Scored& s : all) t.append(" ").append(f(s)).append(" |");
    t += "\n";
  }
  return t;
}

int run(Options o) {
  FCNLAB_CHECK(o.data.empty() != (o.phantoms == 0), o.data.empty()
                   ? "give the images to score: --data DIR or --phantoms N"
                   : "--data and --phantoms: give one of them");
  FCNLAB_CHECK(o.phantoms >= 0, "--phantoms must be >= 0, got ", o.phantoms);
  FCNLAB_CHECK(o.tta == "none" || o.tta == "flip", "--tta must be none or flip, got '", o.tta, "'");
  FCNLAB_CHECK(o.batch >= 1, "--batch must be >= 1, got ", o.batch);
  if (o.split.empty()) o.split = o.phantoms > 0 ? "all" : "val";
  FCNLAB_CHECK(o.split == "val" || o.split == "test" || o.split == "train" || o.split == "all",
               "--split must be val, test, train or all, got '", o.split, "'");
  const Device device = parse_device(o.device);
#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  FCNLAB_CHECK(device.is_cpu(), "--device ", o.device,
               ": this build of fcnlab has no CUDA kernels (configure with FCNLAB_GPU=cuda)");
#endif
  FCNLAB_CHECK(o.data.empty() || fs::is_directory(o.data), "--data '", o.data,
               "': no such folder (expected the PNG release: png_images/, png_masks/ and the "
               "stage_1_*_images.csv files)");

  // Every checkpoint is loaded before any output: a missing or foreign file fails first.
  std::vector<LoadedModel> models;
  for (const std::string& p : o.checkpoints) models.push_back(load_model_checkpoint(p, device));
  const std::vector<std::string> names = checkpoint_names(o.checkpoints);

  std::string data_dir = o.data, what;
  const double val_fraction = o.val_fraction >= 0
      ? o.val_fraction : config_number(models[0].raw_meta, "val-fraction", "val_fraction", 0.2);
  const uint64_t seed = static_cast<uint64_t>(
      o.seed >= 0 ? o.seed : config_number(models[0].raw_meta, "seed", "seed", 0));
  std::vector<InferenceInput> inputs;
  if (!o.data.empty()) {  // read and checked before the output folder exists
    what = data_dir + ", split " + o.split;
    if (o.split == "val" || o.split == "train")
      what += " (val fraction " + format_metric(val_fraction) + ", seed " + std::to_string(seed) + ")";
    inputs = dataset_inputs(data_dir, o.split, val_fraction, seed);
    check_inputs(inputs);
  }

  std::error_code ec;
  fs::create_directories(o.out, ec);
  FCNLAB_CHECK(!ec && fs::is_directory(o.out), "--out '", o.out, "': cannot create the folder (",
               ec.message(), ")");
  { AtomicFile probe((fs::path(o.out) / "evaluation.md").string()); }  // writable? (then removed)

  if (o.phantoms > 0) {
    data::PhantomSetOptions po;
    po.count = o.phantoms;
    po.size = o.phantom_size > 0 ? o.phantom_size : models[0].meta.size;
    po.seed = o.phantom_seed;
    data_dir = (fs::path(o.out) / "phantoms").string();
    std::printf("fcnlab-evaluate: generating %d phantoms of %dx%d (seed %llu) into %s\n", po.count,
                po.size, po.size, static_cast<unsigned long long>(po.seed), data_dir.c_str());
    if (po.seed == seed && models[0].raw_meta.contains("config"))
      std::printf("fcnlab-evaluate: warning: --phantom-seed %llu is the training seed, so with "
                  "fcnlab-train --phantoms these are the images it trained on\n",
                  static_cast<unsigned long long>(po.seed));
    data::write_phantom_set(data_dir, po);
    what = std::to_string(o.phantoms) + " phantoms (seed " + std::to_string(po.seed) + "), split " + o.split;
    inputs = dataset_inputs(data_dir, o.split, val_fraction, seed);
    check_inputs(inputs);
  }
  std::printf("fcnlab-evaluate: %zu checkpoint(s) on %zu images of %s\n", models.size(),
              inputs.size(), what.c_str());

  std::vector<Scored> all;
  std::string per_image = "checkpoint," + image_results_csv_header();
  per_image.pop_back();  // the header's '\n': one more column follows
  per_image += ",head_probability\n";
  for (size_t k = 0; k < models.size(); ++k) {
    Scored s;
    s.name = names[k];
    s.path = o.checkpoints[k];
    s.meta = models[k].meta;
    InferenceOptions io;
    io.size = o.size;
    io.batch = o.batch;
    io.hflip_tta = o.tta == "flip";
    io.label = s.name;
    run_inference(models[k], inputs, io, [&](ImagePrediction& p) {
      s.results.push_back(p.result);
      s.head_scores.push_back(p.head_score);
      std::string row = image_result_csv_row(p.result);
      row.pop_back();
      per_image += csv_quote(s.name) + "," + row + "," +
                   (p.head_score >= 0 ? format_metric(p.head_score) : std::string()) + "\n";
    });
    s.m = summarize(s.results);
    if (s.meta.has_head) {
      std::vector<bool> labels;
      int64_t tp = 0, fn = 0, tn = 0, fp = 0;
      for (size_t i = 0; i < s.results.size(); ++i) {
        const bool t = s.results[i].truth_positive, call = s.head_scores[i] >= s.meta.head_threshold;
        labels.push_back(t);
        (t ? (call ? tp : fn) : (call ? fp : tn))++;
      }
      s.head_auc = roc_auc(s.head_scores, labels);
      s.head_confusion = Confusion{tp, fp, tn, fn};
      s.head_sens = tp + fn > 0 ? double(tp) / double(tp + fn) : NAN;
      s.head_spec = tn + fp > 0 ? double(tn) / double(tn + fp) : NAN;
    }
    all.push_back(std::move(s));
  }

  const std::string table = markdown_table(all, what);
  std::string csv =
      "checkpoint,path,model,width,threshold,min_area,images,positives,dice,dice_positive,iou,"
      "pixel_accuracy,auc,sensitivity,specificity,tp,fp,tn,fn,head_auc,head_sensitivity,"
      "head_specificity\n";
  std::vector<ConfusionPanel> panels;
  for (const Scored& s : all) {
    const Metrics& m = s.m;
    csv += csv_quote(s.name) + "," + csv_quote(s.path) + "," + s.meta.model + "," +
           format_metric(s.meta.options.width) + "," + format_metric(s.meta.threshold) + "," +
           std::to_string(s.meta.min_area) + "," + std::to_string(m.images) + "," +
           std::to_string(m.positives) + "," + format_metric(m.dice) + "," +
           format_metric(m.dice_positive) + "," + format_metric(m.iou) + "," +
           format_metric(m.pixel_accuracy) + "," + format_metric(m.auc) + "," +
           format_metric(m.sensitivity) + "," + format_metric(m.specificity) + "," +
           std::to_string(m.confusion.tp) + "," + std::to_string(m.confusion.fp) + "," +
           std::to_string(m.confusion.tn) + "," + std::to_string(m.confusion.fn) + "," +
           format_metric(s.head_auc) + "," + format_metric(s.head_sens) + "," +
           format_metric(s.head_spec) + "\n";
    panels.push_back({s.name, m.confusion});
    if (s.meta.has_head) panels.push_back({s.name + " head", s.head_confusion});
  }
  const fs::path out(o.out);
  write_file_atomic((out / "evaluation.md").string(), table.data(), table.size());
  write_file_atomic((out / "evaluation.csv").string(), csv.data(), csv.size());
  write_file_atomic((out / "per_image.csv").string(), per_image.data(), per_image.size());
  write_confusion_png((out / "confusion.png").string(), panels);

  std::printf("\n%s\n", table.c_str());
  std::printf("written: %s/evaluation.md, evaluation.csv, per_image.csv, confusion.png\n",
              o.out.c_str());
  return 0;
}

}  // namespace

int evaluate_main(const std::vector<std::string>& args, std::string* error) {
  Options o;
  CLI::App app{"fcnlab-evaluate: score checkpoints side by side on the same images"};
  app.add_option("checkpoints", o.checkpoints, "checkpoints written by fcnlab-train")->required();
  app.add_option("--data", o.data, "the SIIM-ACR PNG release (or a phantom set in its layout), "
                                   "or the original DICOM+RLE release");
  app.add_option("--phantoms", o.phantoms, "generate N fresh phantoms into OUT/phantoms instead");
  app.add_option("--phantom-size", o.phantom_size, "phantom side (0: the first checkpoint's size)");
  app.add_option("--phantom-seed", o.phantom_seed, "phantom seed")->capture_default_str();
  app.add_option("--split", o.split, "val | test | train | all (default: val with --data, all "
                                     "with --phantoms)");
  app.add_option("--val-fraction", o.val_fraction, "validation share of the train CSV (default: "
                                                   "the first checkpoint's, else 0.2)");
  app.add_option("--seed", o.seed, "split seed (default: the first checkpoint's, else 0)");
  app.add_option("--out,-o", o.out, "output folder")->capture_default_str();
  app.add_option("--tta", o.tta, "none | flip")->capture_default_str();
  app.add_option("--size", o.size, "model input side (0: each checkpoint's)")->capture_default_str();
  app.add_option("--batch", o.batch, "images per forward pass")->capture_default_str();
  app.add_option("--device", o.device, "cpu | cuda")->capture_default_str();
  return parse_and_run(app, args, "fcnlab-evaluate", error, [&] { return run(o); });
}

}  // namespace fcnlab::train
