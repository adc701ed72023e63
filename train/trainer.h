// trainer.h — fcnlab-train's loop: data (the PNG release or generated phantoms, a stratified
// train/val split), the model from the zoo, optimizer and LR schedule, gradient accumulation,
// the loss (ce | dice | ce+dice, optional joint classification head), validation after every
// epoch with the threshold and minimum area tuned on it, and everything written into the
// output folder atomically:
//   config.json        the resolved configuration
//   metrics.csv        one row per epoch
//   steps.csv          epoch, step, loss, lr per optimizer step
//   progress.png       loss and Dice curves
//   last.safetensors   model, head, optimizer and the state --resume needs, every epoch
//   best.safetensors   the epoch with the best (tuned) validation Dice
//   phantoms/          with --phantoms: the generated data set
// --resume continues from last.safetensors: model, optimizer, schedule position, epoch, data
// order (a function of seed and epoch) and the dropout generators, so that on the CPU the
// continued run's losses equal an uninterrupted run's bit for bit.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace fcnlab::train {

// One epoch's numbers (a metrics.csv row).
struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, val_loss = 0;
  // Segmentation metrics at the tuned threshold / min_area (what the checkpoint stores).
  double dice = 0, dice_positive = 0, iou = 0, pixel_accuracy = 0;
  double auc = 0, sensitivity = 0, specificity = 0;
  double threshold = 0.5;
  int64_t min_area = 0;
  double dice_default = 0;  // at threshold 0.5, min_area 0 (not tuned)
  // Classification head (NaN without one): AUC, and sensitivity/specificity at 0.5.
  double head_auc = 0, head_sensitivity = 0, head_specificity = 0;
  double lr = 0;
  double images_per_second = 0;
  int64_t skipped = 0;  // corrupt images skipped this epoch
  double seconds = 0;
  // Share of the training time (not validation) spent blocked waiting for the next batch: near
  // 0 while the loader keeps ahead; large when the model waits on PNG decoding (more --workers).
  double data_wait = 0;

  nlohmann::json to_json() const;
  static EpochRecord from_json(const nlohmann::json& j);
};

// The metrics.csv text (header + one row per record).
std::string metrics_csv(const std::vector<EpochRecord>& history);

struct TrainResult {
  std::vector<EpochRecord> history;  // every epoch so far, resumed ones included
  std::vector<double> step_losses;   // the losses of the optimizer steps this call ran
  int best_epoch = 0;
  double best_dice = 0;
  bool early_stopped = false;
  bool interrupted = false;          // --stop-after reached
  std::string out;                   // the output folder
  int workers = 0;                   // loader threads used (--workers or the automatic choice)
};

// Runs (or continues, with c.resume) a training run. A non-finite loss throws after naming
// the last good checkpoint; bad input throws before anything is written (an output folder
// this call created is removed again when nothing in it is worth keeping).
TrainResult run_training(const TrainConfig& c);

// The whole program: parses args (argv[0] included), resolves --config and --resume, runs.
// Returns the exit status; errors go to stderr as "fcnlab-train: error: ...".
int train_main(int argc, const char* const* argv);

}  // namespace fcnlab::train
