// trainer.cpp — fcnlab-train's loop (see trainer.h for what it writes and why).
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "data/loader.h"
#include "data/phantom.h"
#include "data/siim.h"
#include "data/siim_dicom.h"
#include "data/siim_layout.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/clip.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "engine/progress.h"
#include "engine/serialize/atomic_file.h"
#include "engine/serialize/checkpoint.h"
#include "models/pretrained.h"
#include "train/metrics.h"
#include "train/model_io.h"
#include "train/plot.h"
#include "train/tune.h"

#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/runtime.h"
#endif

namespace fcnlab::train {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- records

json EpochRecord::to_json() const {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"epoch", epoch},
          {"train_loss", num(train_loss)},
          {"val_loss", num(val_loss)},
          {"dice", num(dice)},
          {"dice_positive", num(dice_positive)},
          {"iou", num(iou)},
          {"pixel_accuracy", num(pixel_accuracy)},
          {"auc", num(auc)},
          {"sensitivity", num(sensitivity)},
          {"specificity", num(specificity)},
          {"threshold", threshold},
          {"min_area", min_area},
          {"dice_default", num(dice_default)},
          {"head_auc", num(head_auc)},
          {"head_sensitivity", num(head_sensitivity)},
          {"head_specificity", num(head_specificity)},
          {"lr", lr},
          {"images_per_second", num(images_per_second)},
          {"skipped", skipped},
          {"seconds", seconds},
          {"data_wait", num(data_wait)}};
}

EpochRecord EpochRecord::from_json(const json& j) {
  auto num = [&](const char* k) {
    return j.contains(k) && j.at(k).is_number() ? j.at(k).get<double>() : std::nan("");
  };
  EpochRecord r;
  r.epoch = j.at("epoch").get<int>();
  r.train_loss = num("train_loss");
  r.val_loss = num("val_loss");
  r.dice = num("dice");
  r.dice_positive = num("dice_positive");
  r.iou = num("iou");
  r.pixel_accuracy = num("pixel_accuracy");
  r.auc = num("auc");
  r.sensitivity = num("sensitivity");
  r.specificity = num("specificity");
  r.threshold = num("threshold");
  r.min_area = j.value("min_area", int64_t{0});
  r.dice_default = num("dice_default");
  r.head_auc = num("head_auc");
  r.head_sensitivity = num("head_sensitivity");
  r.head_specificity = num("head_specificity");
  r.lr = num("lr");
  r.images_per_second = num("images_per_second");
  r.skipped = j.value("skipped", int64_t{0});
  r.seconds = num("seconds");
  r.data_wait = num("data_wait");  // NaN for runs recorded before it was measured
  return r;
}

std::string metrics_csv(const std::vector<EpochRecord>& history) {
  std::ostringstream os;
  os << "epoch,train_loss,val_loss,val_dice,val_dice_pos,val_iou,val_pixel_acc,val_auc,"
        "val_sensitivity,val_specificity,threshold,min_area,val_dice_at_0.5,head_auc,"
        "head_sensitivity,head_specificity,lr,images_per_s,skipped,seconds,data_wait\n";
  for (const auto& r : history) {
    os << r.epoch << "," << format_metric(r.train_loss) << "," << format_metric(r.val_loss) << ","
       << format_metric(r.dice) << "," << format_metric(r.dice_positive) << ","
       << format_metric(r.iou) << "," << format_metric(r.pixel_accuracy) << ","
       << format_metric(r.auc) << "," << format_metric(r.sensitivity) << ","
       << format_metric(r.specificity) << "," << format_metric(r.threshold) << "," << r.min_area
       << "," << format_metric(r.dice_default) << "," << format_metric(r.head_auc) << ","
       << format_metric(r.head_sensitivity) << "," << format_metric(r.head_specificity) << ","
       << format_metric(r.lr) << "," << format_metric(r.images_per_second) << "," << r.skipped
       << "," << format_metric(r.seconds) << "," << format_metric(r.data_wait) << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------- the run

namespace {

// Forgets what a failed run wrote, unless a checkpoint makes the folder worth keeping.
class OutputGuard {
 public:
  explicit OutputGuard(std::string dir) : dir_(std::move(dir)), existed_(fs::exists(dir_)) {}
  void wrote(const std::string& path) { written_.push_back(path); }
  void keep() { keep_ = true; }
  ~OutputGuard() {
    if (keep_ || fs::exists(fs::path(dir_) / "last.safetensors")) return;
    std::error_code ec;
    if (!existed_) {
      fs::remove_all(dir_, ec);
    } else {
      for (const auto& p : written_) fs::remove_all(p, ec);
    }
  }

 private:
  std::string dir_;
  bool existed_;
  bool keep_ = false;
  std::vector<std::string> written_;
};

void prepare_output_folder(const std::string& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  FCNLAB_CHECK(!ec && fs::is_directory(out), "--out '", out, "': cannot create the folder (",
               ec ? ec.message() : "a file of that name exists", ")");
  const std::string probe = (fs::path(out) / ".fcnlab-write-test").string();
  try {
    write_file_atomic(probe, "", 0);
  } catch (const std::exception& e) {
    FCNLAB_FAIL("--out '", out, "': the folder is not writable (", e.what(), ")");
  }
  fs::remove(probe, ec);
}

std::string problems_text(const std::vector<data::Problem>& problems) {
  std::string s;
  for (size_t i = 0; i < problems.size() && i < 5; ++i) s += "\n  " + problems[i].str();
  if (problems.size() > 5) s += "\n  ... and " + std::to_string(problems.size() - 5) + " more";
  return s;
}

LrSchedule make_schedule(const TrainConfig& c, int64_t total_steps) {
  const int64_t n = std::max<int64_t>(1, total_steps);
  LrSchedule s;
  switch (parse_schedule_kind(c.schedule)) {
    case ScheduleKind::constant: s = LrSchedule::constant(c.lr); break;
    case ScheduleKind::step: s = LrSchedule::steps(c.lr, std::max<int64_t>(1, n / 3), 0.1); break;
    case ScheduleKind::poly: s = LrSchedule::poly(c.lr, n, 0.9); break;
    case ScheduleKind::cosine: s = LrSchedule::cosine(c.lr, n); break;
  }
  if (c.warmup > 0) s.with_warmup(c.warmup);
  s.validate();
  return s;
}

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& c, std::vector<ParamInfo> params) {
  if (c.optimizer == "sgd")
    return std::make_unique<SGD>(std::move(params),
                                 SgdOptions{.lr = c.lr, .momentum = c.momentum, .weight_decay = c.weight_decay});
  AdamOptions o{.lr = c.lr, .weight_decay = c.weight_decay};
  if (c.optimizer == "adamw") return std::make_unique<AdamW>(std::move(params), o);
  return std::make_unique<Adam>(std::move(params), o);
}

// The segmentation loss (and the head's, weighted). scores (N, 2, S, S), mask i32 (N, S, S).
Tensor compute_loss(const TrainConfig& c, const Forward& f, const Tensor& mask,
                    const Tensor& mask_f, const Tensor& label_f) {
  Tensor loss;
  if (c.loss == "ce" || c.loss == "ce+dice") {
    CrossEntropyOptions o;
    o.class_weights = c.class_weights;
    loss = cross_entropy(f.scores, mask, o);
  }
  if (c.loss == "dice" || c.loss == "ce+dice") {
    DiceOptions o;
    o.per_image = c.dice == "image";
    Tensor d = dice_loss(select_channel(softmax(f.scores), 1), mask_f, o);
    loss = loss.defined() ? add(loss, d) : d;
  }
  if (f.head_logits.defined())
    loss = add(loss, scale(bce_with_logits(f.head_logits, label_f), c.head_weight));
  return loss;
}

std::vector<Dropout*> dropout_layers(GraphModel& net) {
  std::vector<Dropout*> out;
  for (const auto& l : net.layers())
    if (l.kind == LayerKind::dropout)
      if (auto* d = dynamic_cast<Dropout*>(l.module.get())) out.push_back(d);
  return out;
}

json dropout_state(GraphModel& net) {
  json j = json::array();
  for (Dropout* d : dropout_layers(net))
    j.push_back({d->generator().seed(), d->generator().offset()});
  return j;
}

void restore_dropout_state(GraphModel& net, const json& j, const std::string& path) {
  std::vector<Dropout*> layers = dropout_layers(net);
  FCNLAB_CHECK(j.is_array() && j.size() == layers.size(), path, ": the stored dropout state has ",
               j.is_array() ? j.size() : 0, " generator(s), the model has ", layers.size());
  for (size_t i = 0; i < layers.size(); ++i)
    layers[i]->generator().set_state(j[i][0].get<uint64_t>(), j[i][1].get<uint64_t>());
}

// steps.csv rows of earlier epochs (kept on --resume), as text.
std::string earlier_step_rows(const std::string& path, int before_epoch) {
  std::ifstream f(path);
  std::string line, rows;
  bool header = true;
  while (std::getline(f, line)) {
    if (header) {
      header = false;
      continue;
    }
    const int epoch = std::atoi(line.c_str());
    if (epoch >= 1 && epoch < before_epoch) rows += line + "\n";
  }
  return rows;
}

struct Validation {
  double loss = 0;
  Metrics tuned, at_default;
  double threshold = 0.5;
  int64_t min_area = 0;
  double head_auc = std::nan(""), head_sensitivity = std::nan(""), head_specificity = std::nan("");
  int64_t skipped = 0;
  double empty_dice = 0;  // what an all-empty prediction scores: the share of negative images
};

Validation validate(const TrainConfig& c, GraphModel& net, ClassifierHead* head,
                    const std::string& head_layer, data::Loader& loader,
                    const std::vector<std::string>& ids, Device dev, int epoch) {
  NoGrad ng;
  net.eval();
  if (head) head->eval();
  const std::vector<double> thresholds = default_thresholds();
  const int64_t pixels = int64_t(c.size) * c.size;
  std::vector<ImageCurve> curves;
  std::vector<double> head_prob;
  std::vector<bool> truth_pos;
  double loss_sum = 0;
  int64_t loss_n = 0;
  loader.start_epoch(epoch);
  data::Batch b;
  std::vector<uint8_t> truth(static_cast<size_t>(pixels));
  while (loader.next(b)) {
    Forward f = forward_model(net, head, head_layer, b.image.to(dev));
    const int64_t n = b.image.size(0);
    Tensor loss = compute_loss(c, f, b.mask.to(dev), b.mask.to(DType::f32).to(dev),
                               b.label.to(DType::f32).to(dev));
    loss_sum += loss.to(Device::cpu()).item() * double(n);
    loss_n += n;
    BatchPrediction p = prediction_from_forward(f);
    const int32_t* m = b.mask.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < pixels; ++k) truth[k] = m[i * pixels + k] != 0;
      curves.push_back(image_curve(ids.at(b.indices[i]), p.image_prob(i), truth.data(), pixels,
                                   thresholds));
      truth_pos.push_back(b.label.data<int32_t>()[i] != 0);
      if (head) head_prob.push_back(p.head_score[i]);
    }
  }
  FCNLAB_CHECK(!curves.empty(), "validation: every validation image was skipped as unreadable");
  Validation v;
  v.skipped = loader.skipped_count();
  for (const auto& s : loader.skipped())
    std::fprintf(stderr, "fcnlab-train: warning: validation skipped %s\n", s.reason.c_str());
  v.loss = loss_sum / double(loss_n);
  TuneResult t = tune_postprocessing(curves, thresholds, default_min_areas(pixels));
  v.threshold = t.threshold;
  v.min_area = t.min_area;
  size_t t_best = 0, t_half = 0;
  for (size_t i = 0; i < thresholds.size(); ++i) {
    if (std::abs(thresholds[i] - t.threshold) < std::abs(thresholds[t_best] - t.threshold)) t_best = i;
    if (std::abs(thresholds[i] - 0.5) < std::abs(thresholds[t_half] - 0.5)) t_half = i;
  }
  std::vector<ImageResult> tuned, at_default;
  for (const auto& cv : curves) {
    tuned.push_back(curve_result(cv, t_best, t.min_area));
    at_default.push_back(curve_result(cv, t_half, 0));
  }
  v.tuned = summarize(tuned);
  v.empty_dice = 1.0 - double(std::count(truth_pos.begin(), truth_pos.end(), true)) /
                           double(truth_pos.size());
  v.at_default = summarize(at_default);
  if (head) {
    v.head_auc = roc_auc(head_prob, truth_pos);
    int64_t tp = 0, fn = 0, tn = 0, fp = 0;
    for (size_t i = 0; i < head_prob.size(); ++i) {
      const bool called = head_prob[i] > 0.5;
      if (truth_pos[i]) (called ? tp : fn)++;
      else (called ? fp : tn)++;
    }
    v.head_sensitivity = tp + fn ? double(tp) / double(tp + fn) : std::nan("");
    v.head_specificity = tn + fp ? double(tn) / double(tn + fp) : std::nan("");
  }
  return v;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace

TrainResult run_training(const TrainConfig& c) {
  const Device dev = parse_device(c.device);
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  kernels::cuda::set_kernel_source(kernels::cuda::parse_kernel_source(c.kernels));
  if (dev.is_cuda()) {
    std::string why;
    FCNLAB_CHECK(kernels::cuda::device_available(&why), "--device ", c.device,
                 ": no usable CUDA device (", why, ")");
  }
#endif
  const bool resuming = !c.resume.empty();
  const std::string out = c.out;
  auto path_in = [&](const char* name) { return (fs::path(out) / name).string(); };

  // ---- everything that can be checked before writing anything
  Checkpoint resume_ck;
  json train_state;
  int resumed_epochs = 0;  // the --epochs the resumed run was planned with (0: not resuming)
  if (resuming) {
    resume_ck = load_checkpoint(c.resume);
    FCNLAB_CHECK(resume_ck.meta.is_object() && resume_ck.meta.contains("train"), c.resume,
                 ": not a training checkpoint (no 'train' state); --resume wants the ",
                 "last.safetensors of an fcnlab-train run");
    FCNLAB_CHECK(!resume_ck.optimizer.empty() && resume_ck.meta.contains("optimizer"), c.resume,
                 ": holds no optimizer state (best.safetensors keeps only the weights); resume ",
                 "from last.safetensors");
    train_state = resume_ck.meta.at("train");
    const json& stored_config = resume_ck.meta.value("config", json::object());
    if (stored_config.contains("epochs") && stored_config.at("epochs").is_number_integer())
      resumed_epochs = stored_config.at("epochs").get<int>();
  }
  if (!c.data.empty())
    FCNLAB_CHECK(fs::is_directory(c.data), "--data '", c.data,
                 "': no such folder (expected the PNG release: png_images/, png_masks/, ",
                 "stage_1_train_images.csv; or the DICOM release: dicom-images-train/, train-rle.csv)");

  ModelMeta meta;
  meta.model = c.model;
  meta.options = ModelOptions{.classes = 2, .in_channels = 1, .width = c.width,
                              .freeze_backbone = c.freeze_backbone, .dropout = true,
                              .seed = c.seed};
  meta.size = c.size;
  // Grey X-rays into a 1-channel net, normalised by the mean of ImageNet's channel statistics
  // (so the input's scale is ImageNet's); a pretrained conv1_1 is folded for exactly this
  // normalisation (models/pretrained.h GreyInput).
  meta.normalization = data::Normalization::dataset(0.449f, 0.226f, 1);
  std::shared_ptr<GraphModel> net = make_model(c.model, meta.options);
  std::shared_ptr<ClassifierHead> head;
  if (c.head) {
    meta.has_head = true;
    meta.head_layer = default_head_layer(*net);
    head = std::make_shared<ClassifierHead>(layer_channels(*net, meta.head_layer, c.size),
                                            c.seed + 1);
  }
  if (!c.pretrained.empty()) {
    const GreyInput grey{meta.normalization.mean[0], meta.normalization.std[0]};
    PretrainedReport report = load_pretrained_file(*net, c.pretrained, &grey);
    std::printf("fcnlab-train: --pretrained %s\n%s\n", c.pretrained.c_str(), report.str().c_str());
  }
  if (resuming) {
    ModelMeta stored = checkpoint_model_meta(resume_ck, c.resume);
    check_same_architecture(stored, meta, c.resume, true);
    load_model_weights(resume_ck, c.resume, *net, head.get());
    restore_dropout_state(*net, train_state.at("dropout"), c.resume);
    meta.threshold = stored.threshold;
    meta.min_area = stored.min_area;
  }
  // On the device before the optimizer exists, so that restored state lands beside the weights.
  net->to(dev);
  if (head) head->to(dev);
  std::vector<ParamInfo> params = net->named_parameters();
  if (head)
    for (auto p : head->named_parameters()) {
      p.name = "head." + p.name;
      params.push_back(p);
    }
  std::unique_ptr<Optimizer> opt = make_optimizer(c, params);
  if (resuming) opt->load_state_dict(resume_ck.optimizer, resume_ck.meta.at("optimizer"));
  resume_ck = Checkpoint{};  // the tensors are copied; free them

  // ---- the output folder (from here on a failure removes what this call wrote)
  OutputGuard guard(out);
  prepare_output_folder(out);
  std::string data_root = c.data;
  if (c.phantoms > 0) {
    data_root = path_in("phantoms");
    const bool present = fs::exists(fs::path(data_root) / "stage_1_train_images.csv") &&
                         fs::exists(fs::path(data_root) / "stage_1_test_images.csv");
    if (!present) {
      guard.wrote(data_root);
      data::PhantomSetOptions po;
      po.count = c.phantoms;
      po.size = c.phantom_size > 0 ? c.phantom_size : c.size;
      po.seed = c.seed;
      po.contrast = c.phantom_contrast;
      std::printf("fcnlab-train: generating %d phantoms (%dx%d, contrast %g) into %s\n",
                  po.count, po.size, po.size, po.contrast, data_root.c_str());
      std::fflush(stdout);
      data::write_phantom_set(data_root, po);
    }
  }
  // The PNG release (or phantoms in its layout), or the original DICOM+RLE release: both index
  // their train cases as SiimRecords, and the loader reads either (data/loader.h).
  const data::siim::Release release = data::siim::detect_release(data_root);
  std::optional<data::SiimPngDataset> png;
  std::optional<data::SiimDicomDataset> dcm;
  std::vector<data::SiimRecord> records;
  std::string listing;  // the file that lists the train cases, for messages
  if (release == data::siim::Release::png) {
    png = data::SiimPngDataset::open(data_root);
    FCNLAB_CHECK(png->csv_problems().empty(), data_root, ": the CSVs have ", png->csv_problems().size(),
                 " problem(s) (fcnlab-inspect --dataset lists them all):", problems_text(png->csv_problems()));
    records = png->train();
    listing = data_root + "/" + data::siim::kTrainCsv;
  } else {
    dcm = data::SiimDicomDataset::open(data_root);
    const std::vector<data::Problem> fatal = dcm->blocking_problems();
    FCNLAB_CHECK(fatal.empty(), data_root, ": the DICOM release's index has ", fatal.size(),
                 " problem(s) (fcnlab-inspect --dataset lists them all):", problems_text(fatal));
    records = dcm->records();
    listing = dcm->rle_csv();
  }
  FCNLAB_CHECK(records.size() >= 2, listing, " lists ", records.size(),
               " image(s); training needs at least 2 (one for validation)");
  data::TrainValSplit split = data::stratified_split(records, c.val_fraction, c.seed);
  FCNLAB_CHECK(!split.train.empty() && !split.val.empty(), data_root, ": splitting ",
               records.size(), " images with --val-fraction ", c.val_fraction,
               " leaves an empty train or validation set");
  std::vector<std::string> val_ids;
  for (size_t i : split.val) val_ids.push_back(fs::path(records[i].file).stem().string());
  const auto source = [&](const std::vector<size_t>& cases) -> std::shared_ptr<data::SampleSource> {
    if (png) return std::make_shared<data::SiimSource>(*png, data::siim::Split::train, cases);
    return std::make_shared<data::SiimDicomSource>(*dcm, cases);
  };

  data::LoaderConfig lc;
  lc.batch_size = c.batch;
  const int workers = resolved_workers(c, std::max(1u, std::thread::hardware_concurrency()));
  lc.workers = workers;
  lc.size = c.size;
  lc.seed = c.seed;
  lc.shuffle = true;
  lc.positive_fraction = c.pos_oversample;
  lc.augment.enabled = c.augment;
  lc.normalization = meta.normalization;
  lc.skip_bad = !c.strict;
  data::Loader train_loader(source(split.train), lc);
  data::LoaderConfig vc = lc;
  vc.shuffle = false;
  vc.positive_fraction = 0;
  vc.augment.enabled = false;
  data::Loader val_loader(source(split.val), vc);

  // Steps per epoch (micro-batches, then optimizer steps) fix the schedule's length.
  int64_t micro_per_epoch = train_loader.batches_in_epoch(0);
  if (c.steps_per_epoch > 0) micro_per_epoch = std::min<int64_t>(micro_per_epoch, c.steps_per_epoch);
  const int64_t steps_per_epoch = (micro_per_epoch + c.accum - 1) / c.accum;
  const LrSchedule schedule = make_schedule(c, steps_per_epoch * c.epochs);

  TrainResult result;
  result.out = out;
  result.workers = workers;
  int start_epoch = 1;
  int64_t global_step = 0;
  int bad_epochs = 0;
  if (resuming) {
    start_epoch = train_state.at("epoch").get<int>() + 1;
    global_step = train_state.at("global_step").get<int64_t>();
    result.best_dice = train_state.at("best_dice").get<double>();
    result.best_epoch = train_state.at("best_epoch").get<int>();
    bad_epochs = train_state.at("bad_epochs").get<int>();
    for (const auto& r : train_state.at("history")) result.history.push_back(EpochRecord::from_json(r));
    FCNLAB_CHECK(start_epoch <= c.epochs, c.resume, ": the run has already trained ",
                 start_epoch - 1, " epoch(s); give --epochs larger than that to continue");
  }
  std::string step_rows = resuming ? earlier_step_rows(path_in("steps.csv"), start_epoch) : "";

  write_text(path_in("config.json"), c.to_json().dump(2) + "\n");
  guard.wrote(path_in("config.json"));

  std::printf("fcnlab-train: %s, %lld parameters (%lld trainable)%s\n", meta.describe().c_str(),
              static_cast<long long>(net->num_parameters() + (head ? head->num_parameters() : 0)),
              static_cast<long long>(net->num_parameters(true) + (head ? head->num_parameters(true) : 0)),
              head ? ", with a classification head" : "");
  std::printf("fcnlab-train: %zu train / %zu validation images from %s at %dx%d; %d epoch(s) of "
              "%lld step(s), batch %d x accum %d; %s, %s; loss %s; %s; %d loader thread(s)%s\n",
              split.train.size(), split.val.size(), data_root.c_str(), c.size, c.size, c.epochs,
              static_cast<long long>(steps_per_epoch), c.batch, c.accum, c.optimizer.c_str(),
              schedule.str().c_str(), c.loss.c_str(), dev.str().c_str(), workers,
              c.workers == 0 ? " (automatic; --workers N to choose)" : "");
  if (resuming) {
    std::printf("fcnlab-train: resuming %s at epoch %d (step %lld)\n", c.resume.c_str(),
                start_epoch, static_cast<long long>(global_step));
    // More epochs than the run was planned with stretch a decaying schedule: say what that does
    // to the learning rate from here on, so the jump in the step log is no surprise.
    if (resumed_epochs > 0 && resumed_epochs != c.epochs) {
      const LrSchedule planned = make_schedule(c, steps_per_epoch * resumed_epochs);
      std::printf("fcnlab-train: note: --epochs %d, the resumed run was planned for %d: the learning-rate "
                  "schedule now spans %d epochs, so at step %lld the rate is %s (the original plan: %s)\n",
                  c.epochs, resumed_epochs, c.epochs, static_cast<long long>(global_step),
                  format_metric(c.lr * schedule.factor(global_step)).c_str(),
                  format_metric(c.lr * planned.factor(global_step)).c_str());
    }
  }
  std::fflush(stdout);

  bool warned_data_wait = false;
  for (int epoch = start_epoch; epoch <= c.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    net->train();
    if (head) head->train();
    train_loader.start_epoch(epoch - 1);
    opt->zero_grad();
    char label[32];
    std::snprintf(label, sizeof label, "epoch %d/%d", epoch, c.epochs);
    Progress progress(micro_per_epoch, c.batch, label);
    data::Batch b;
    int64_t micro = 0, images = 0;
    // Time spent blocked on the loader: near 0 while it keeps ahead of the model.
    double data_wait_seconds = 0;
    auto next_batch = [&]() {
      const auto w0 = std::chrono::steady_clock::now();
      const bool got = train_loader.next(b);
      data_wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      return got;
    };
    double loss_sum = 0, step_loss_sum = 0;
    int step_micro = 0;
    int64_t loss_n = 0;
    auto diverged = [&](const std::string& what) {
      const bool have_last = fs::exists(path_in("last.safetensors"));
      progress.finish();
      FCNLAB_FAIL("training diverged: ", what, " at epoch ", epoch, ", step ", micro,
                  " (try a smaller --lr or --clip); ",
                  have_last ? "the last good checkpoint is " + path_in("last.safetensors") +
                                  " (epoch " + std::to_string(epoch - 1) + ")"
                            : std::string("no checkpoint was written yet"));
    };
    auto optimizer_step = [&]() {
      opt->set_lr_factor(schedule.factor(global_step));
      if (c.clip > 0) {
        const double norm = clip_grad_norm(params, c.clip);
        if (!std::isfinite(norm)) diverged("the gradient norm is " + fmt("%g", norm));
      }
      opt->step();
      opt->zero_grad();
      ++global_step;
    };
    // One optimizer step over the accumulated micro-batches; steps.csv gets their mean loss.
    auto finish_step = [&]() {
      optimizer_step();
      const double step_loss = step_loss_sum / step_micro;
      step_loss_sum = 0;
      step_micro = 0;
      result.step_losses.push_back(step_loss);
      std::ostringstream row;
      row << epoch << "," << global_step << "," << format_metric(step_loss) << ","
          << format_metric(c.lr * schedule.factor(global_step - 1)) << "\n";
      step_rows += row.str();
    };
    while (micro < micro_per_epoch && next_batch()) {
      for (const auto& s : b.skipped)
        std::fprintf(stderr, "\nfcnlab-train: warning: skipped %s\n", s.reason.c_str());
      const int64_t n = b.image.size(0);
      Forward f = forward_model(*net, head.get(), meta.head_layer, b.image.to(dev));
      Tensor loss = compute_loss(c, f, b.mask.to(dev), b.mask.to(DType::f32).to(dev),
                                 b.label.to(DType::f32).to(dev));
      const double loss_v = loss.to(Device::cpu()).item();
      ++micro;
      if (!std::isfinite(loss_v)) diverged("the loss is " + fmt("%g", loss_v));
      (c.accum > 1 ? scale(loss, 1.0 / c.accum) : loss).backward();
      loss_sum += loss_v * double(n);
      loss_n += n;
      images += n;
      step_loss_sum += loss_v;
      ++step_micro;
      if (micro % c.accum == 0 || micro == micro_per_epoch) finish_step();
      progress.update(micro, "loss " + fmt("%.4f", loss_v));
    }
    if (step_micro > 0) finish_step();  // the epoch ran short of micro_per_epoch (skipped images)
    progress.finish("loss " + fmt("%.4f", loss_n ? loss_sum / double(loss_n) : 0.0));
    const double train_seconds = progress.elapsed_seconds();
    const int64_t train_skipped = train_loader.skipped_count();

    Validation v = validate(c, *net, head.get(), meta.head_layer, val_loader, val_ids, dev, 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    EpochRecord r;
    r.epoch = epoch;
    r.train_loss = loss_n ? loss_sum / double(loss_n) : std::nan("");
    r.val_loss = v.loss;
    r.dice = v.tuned.dice;
    r.dice_positive = v.tuned.dice_positive;
    r.iou = v.tuned.iou;
    r.pixel_accuracy = v.tuned.pixel_accuracy;
    r.auc = v.tuned.auc;
    r.sensitivity = v.tuned.sensitivity;
    r.specificity = v.tuned.specificity;
    r.threshold = v.threshold;
    r.min_area = v.min_area;
    r.dice_default = v.at_default.dice;
    r.head_auc = v.head_auc;
    r.head_sensitivity = v.head_sensitivity;
    r.head_specificity = v.head_specificity;
    r.lr = c.lr * schedule.factor(std::max<int64_t>(0, global_step - 1));
    r.images_per_second = train_seconds > 0 ? double(images) / train_seconds : 0;
    r.data_wait = train_seconds > 0 ? std::min(1.0, data_wait_seconds / train_seconds) : 0;
    r.skipped = train_skipped + v.skipped;
    r.seconds = seconds;
    result.history.push_back(r);

    const bool improved = result.best_epoch == 0 || r.dice > result.best_dice;
    if (improved) {
      result.best_dice = r.dice;
      result.best_epoch = epoch;
      bad_epochs = 0;
    } else {
      ++bad_epochs;
    }
    meta.threshold = v.threshold;
    meta.min_area = v.min_area;

    json history = json::array();
    for (const auto& h : result.history) history.push_back(h.to_json());
    json state = {{"epoch", epoch},           {"global_step", global_step},
                  {"best_dice", result.best_dice}, {"best_epoch", result.best_epoch},
                  {"bad_epochs", bad_epochs},  {"history", history},
                  {"dropout", dropout_state(*net)}};
    json extra = {{"train", state}, {"config", c.to_json()}, {"metrics", r.to_json()}};
    save_model_checkpoint(path_in("last.safetensors"), *net, head.get(), opt.get(), meta, extra);
    if (improved) {
      json best_extra = {{"config", c.to_json()}, {"metrics", r.to_json()}, {"epoch", epoch}};
      save_model_checkpoint(path_in("best.safetensors"), *net, head.get(), nullptr, meta, best_extra);
    }
    write_text(path_in("metrics.csv"), metrics_csv(result.history));
    write_text(path_in("steps.csv"), "epoch,step,loss,lr\n" + step_rows);
    EpochHistory eh;
    for (const auto& h : result.history) {
      eh.epoch.push_back(h.epoch);
      eh.train_loss.push_back(h.train_loss);
      eh.val_loss.push_back(h.val_loss);
      eh.val_dice.push_back(h.dice);
      eh.val_dice_positive.push_back(h.dice_positive);
      eh.val_iou.push_back(h.iou);
    }
    write_progress_png(path_in("progress.png"), eh);

    std::printf("epoch %d/%d  train loss %.4f  val loss %.4f  val Dice %.4f (all-empty %.4f; "
                "positives %s; at threshold %.2f, min area %lld; %.4f at 0.5)  IoU %.4f  AUC %s  "
                "sens %s  spec %s",
                epoch, c.epochs, r.train_loss, r.val_loss, r.dice, v.empty_dice,
                format_metric(r.dice_positive).c_str(), r.threshold,
                static_cast<long long>(r.min_area), r.dice_default, r.iou,
                format_metric(r.auc).c_str(), format_metric(r.sensitivity).c_str(),
                format_metric(r.specificity).c_str());
    if (head)
      std::printf("  head AUC %s sens %s spec %s", format_metric(r.head_auc).c_str(),
                  format_metric(r.head_sensitivity).c_str(), format_metric(r.head_specificity).c_str());
    if (r.data_wait >= 0.1) std::printf("  waited on data %.0f%%", 100 * r.data_wait);
    std::printf("  %.1f img/s  %s%s%s\n", r.images_per_second, format_duration(seconds).c_str(),
                improved ? "  * best" : "",
                r.skipped ? ("  (" + std::to_string(r.skipped) + " unreadable image(s) skipped)").c_str() : "");
    if (r.data_wait >= 0.25 && !warned_data_wait) {
      warned_data_wait = true;
      std::printf("fcnlab-train: note: training waited for the data loader %.0f%% of the time this epoch; "
                  "more --workers may help (now %d, this machine has %u cores)\n",
                  100 * r.data_wait, workers, std::thread::hardware_concurrency());
    }
    std::fflush(stdout);

    if (c.patience > 0 && bad_epochs >= c.patience && epoch < c.epochs) {
      std::printf("fcnlab-train: early stop: no better validation Dice for %d epoch(s) (best %.4f "
                  "at epoch %d)\n", bad_epochs, result.best_dice, result.best_epoch);
      result.early_stopped = true;
      break;
    }
    if (c.stop_after > 0 && epoch == c.stop_after && epoch < c.epochs) {
      std::printf("fcnlab-train: stopping after epoch %d as asked (--stop-after); continue with "
                  "--resume %s\n", epoch, path_in("last.safetensors").c_str());
      result.interrupted = true;
      break;
    }
  }
  guard.keep();
  return result;
}

}  // namespace fcnlab::train
