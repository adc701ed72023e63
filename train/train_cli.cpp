// train_cli.cpp — fcnlab-train's command line: flags and --config resolved into one
// TrainConfig (command line > config file > defaults), --resume's stored configuration, checks,
// then run_training. Kept in the library so that tests drive the program's exact path.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "engine/cli.h"
#include "engine/error.h"
#include "engine/serialize/checkpoint.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace fcnlab::train {

namespace {

std::string key_of(std::string k) {
  for (char& ch : k)
    if (ch == '_') ch = '-';
  return k;
}

}  // namespace

int train_main(int argc, const char* const* argv) {
  CLI::App app{
      "fcnlab-train: train an FCN to segment pneumothorax (SIIM-ACR PNG release or phantoms).\n"
      "Writes config.json, metrics.csv, steps.csv, progress.png, last.safetensors and\n"
      "best.safetensors into --out."};
  fcnlab::cli::use_fcnlab_errors(app, "fcnlab-train");
  TrainConfig cli;
  std::string config_file;
  add_train_options(app, cli, config_file);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    std::set<std::string> given = given_options(app);
    if (!config_file.empty()) {
      nlohmann::json j = read_config_file(config_file);
      apply_json(j, cli, given, config_file);
      for (const auto& [k, v] : j.items()) given.insert(key_of(k));
    }
    TrainConfig c = cli;
    if (!cli.resume.empty()) {
      Checkpoint ck = load_checkpoint(cli.resume);
      FCNLAB_CHECK(ck.meta.is_object() && ck.meta.contains("config"), cli.resume,
                   ": not a checkpoint of an fcnlab-train run (no stored configuration)");
      c = resolve_resume(ck.meta.at("config"), cli, given, cli.resume);
    }
    validate_config(c, given);
    TrainResult r = run_training(c);
    if (r.history.empty()) return 0;
    const EpochRecord& best = r.history.at(static_cast<size_t>(r.best_epoch - 1));
    std::printf("fcnlab-train: best validation Dice %.4f (positive images only: %s) at epoch %d "
                "(threshold %.2f, min area %lld); results in %s\n",
                best.dice, format_metric(best.dice_positive).c_str(), best.epoch, best.threshold,
                static_cast<long long>(best.min_area), r.out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "\nfcnlab-train: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace fcnlab::train
