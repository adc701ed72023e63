// config.h — fcnlab-train's configuration: one struct, one table of its fields that gives both
// the command-line flags (CLI11) and the config-file keys, so a flag and a key can never drift
// apart. Precedence: command line > --config file > defaults. The resolved configuration is
// written into the output folder as config.json (and kept in every checkpoint, for --resume).
//
// Config files: JSON ({"model": "fcn8s", "lr": 0.001, "class-weights": [1, 5]}) or a flat TOML
// subset (model = "fcn8s" / lr = 1e-3 / class-weights = [1, 5] / augment = true, # comments);
// keys are the flag names, '_' and '-' alike. TOML tables are refused with a message saying so.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace fcnlab::train {

struct TrainConfig {
  // ---- data
  std::string data;            // the PNG release (or a phantom set in its layout)
  int phantoms = 0;            // generate this many phantoms into <out>/phantoms instead
  int phantom_size = 0;        // their side (0: --size)
  double phantom_contrast = 1; // their lesion conspicuity (data/phantom.h; 1 = subtle)
  double val_fraction = 0.2;   // of the train CSV, stratified by has_pneumo
  // ---- model
  std::string model = "fcn8s";
  double width = 1.0;
  std::string pretrained;      // backbone weights (.safetensors / .pth)
  bool freeze_backbone = false;
  bool head = false;           // joint image-level classification head
  double head_weight = 0.5;    // its BCE loss weight
  // ---- optimisation
  int size = 512;
  int epochs = 10;
  int batch = 8;
  int accum = 1;               // micro-batches per optimizer step
  std::string optimizer = "sgd";  // sgd | adam | adamw
  double lr = 0.01;
  double momentum = 0.9;       // sgd
  double weight_decay = 1e-4;
  std::string schedule = "poly";  // constant | step | poly | cosine
  int warmup = 0;              // linear warm-up, optimizer steps
  double clip = 0;             // gradient-norm clipping (0: off)
  std::string loss = "ce";     // ce | dice | ce+dice
  std::string dice = "image";  // image: mean of per-image soft Dice; batch: one over the batch
  std::vector<double> class_weights;  // cross-entropy weight per class
  double pos_oversample = 0;   // share of positive images per epoch (0: natural)
  bool augment = false;
  int steps_per_epoch = 0;     // 0: the whole training split each epoch
  int patience = 0;            // early stopping: epochs without a better val Dice (0: off)
  // ---- machine
  std::string device = "cpu";  // cpu | cuda
  std::string kernels = "hand";  // hand | cudnn (cuda only)
  int workers = 0;             // data-loading threads; 0: automatic (resolved_workers)
  uint64_t seed = 0;
  // ---- run
  std::string out = "runs/train";
  std::string resume;          // a last.safetensors to continue
  bool strict = false;         // a corrupt image is fatal (default: skipped and counted)
  int stop_after = 0;          // stop after this epoch as though interrupted (for --resume tests)

  nlohmann::json to_json() const;
};

// The loader threads a run uses: --workers when given; else on cuda, where the GPU can outrun two
// PNG-decoding threads (about 25 ms of CPU per 1024x1024 image), half the cores between 2 and 8;
// on the CPU 2 (training there is far slower than loading, and the cores are busy computing).
int resolved_workers(const TrainConfig& c, unsigned cores);

// Registers every field as "--<name>" on app (plus --config FILE into *config_file).
void add_train_options(CLI::App& app, TrainConfig& c, std::string& config_file);
// The field names the user gave on the command line ("lr", "weight-decay").
std::set<std::string> given_options(const CLI::App& app);

// Sets the fields named in j (keys: field names, '_' or '-'), skipping those in `skip`.
// Unknown keys and values of the wrong type throw naming `where` and the key.
void apply_json(const nlohmann::json& j, TrainConfig& c, const std::set<std::string>& skip,
                const std::string& where);
// Reads a .json or .toml file into JSON (errors name the file, line and what was expected).
nlohmann::json read_config_file(const std::string& path);
// The flat TOML subset as JSON ("where" names the source in errors).
nlohmann::json parse_toml_subset(const std::string& text, const std::string& where);

// Ranges and contradictions ("--data and --phantoms: give one of them", "--momentum applies to
// --optimizer sgd only", "--device cuda: this build has no CUDA kernels"); `given` are the
// options named on the command line or in the config file.
void validate_config(const TrainConfig& c, const std::set<std::string>& given);

// The configuration a --resume run uses: the stored one, with the options the user gave that a
// continued run may change (epochs, out, workers, device, kernels, patience, stop-after, strict)
// taken from `cli`; any other option given with a different value is a contradiction (error).
TrainConfig resolve_resume(const nlohmann::json& stored, const TrainConfig& cli,
                           const std::set<std::string>& given, const std::string& path);

// The field names in table order (help, errors listing valid keys).
std::vector<std::string> config_keys();

}  // namespace fcnlab::train
