// fcnlab-train's configuration (train/config.h): flags and config keys come from one table,
// JSON and the TOML subset read the same values, unknown keys / wrong types / TOML tables are
// errors naming the file, line and key; contradictory flags are refused; a resumed run keeps
// its configuration and refuses changes other than epochs, out, workers, ...
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include <fstream>

#include "tests/common/temp_dir.h"
#include "train/config.h"

using namespace fcnlab;
using namespace fcnlab::train;
using nlohmann::json;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

TrainConfig valid() {
  TrainConfig c;
  c.phantoms = 40;
  return c;
}

}  // namespace

TEST_CASE("train config: flags parse into the config and are reported as given") {
  CLI::App app;
  TrainConfig c;
  std::string config_file;
  add_train_options(app, c, config_file);
  std::vector<std::string> args = {"--lr", "0.1", "--lr",  "0.005", "--model", "fcn16s", "--augment",
                                   "--class-weights", "1,4", "--seed", "9", "--weight-decay", "0"};
  std::vector<const char*> argv = {"fcnlab-train"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(int(argv.size()), argv.data());
  CHECK(c.lr == 0.005);
  CHECK(c.model == "fcn16s");
  CHECK(c.augment);
  CHECK(c.class_weights == std::vector<double>{1, 4});
  CHECK(c.seed == 9);
  CHECK(c.weight_decay == 0);
  CHECK(given_options(app) ==
        std::set<std::string>{"lr", "model", "augment", "class-weights", "seed", "weight-decay"});
}

TEST_CASE("train config: JSON and the TOML subset give the same configuration") {
  test::TempDir dir("train_cfg");
  write(dir / "a.json", R"({"model": "fcn32s", "lr": 0.002, "class_weights": [1, 3.5],
                            "augment": true, "epochs": 7, "out": "x y"})");
  write(dir / "a.toml", "# a comment\nmodel = \"fcn32s\"  # trailing\nlr = 2e-3\n"
                        "class-weights = [1, 3.5,]\naugment = true\nepochs = 7\nout = 'x y'\n");
  TrainConfig a, b;
  apply_json(read_config_file(dir / "a.json"), a, {}, "a.json");
  apply_json(read_config_file(dir / "a.toml"), b, {}, "a.toml");
  CHECK(a.to_json() == b.to_json());
  CHECK(a.model == "fcn32s");
  CHECK(a.class_weights == std::vector<double>{1, 3.5});
  CHECK(a.epochs == 7);
  CHECK(a.out == "x y");

  // The command line wins: skipped keys keep their value.
  TrainConfig c;
  c.lr = 0.5;
  apply_json(read_config_file(dir / "a.json"), c, {"lr"}, "a.json");
  CHECK(c.lr == 0.5);
  CHECK(c.epochs == 7);

  // The resolved configuration reads back identically.
  TrainConfig d;
  apply_json(a.to_json(), d, {}, "resolved");
  CHECK(d.to_json() == a.to_json());
}

TEST_CASE("train config: bad config files name the file, line and key") {
  test::TempDir dir("train_cfg_bad");
  TrainConfig c;
  write(dir / "u.json", R"({"lr": 0.1, "learning_rate": 0.2})");
  CHECK_THROWS_WITH(apply_json(read_config_file(dir / "u.json"), c, {}, "u.json"),
                    doctest::Contains("u.json: unknown option 'learning_rate' (valid: data,"));
  write(dir / "t.json", R"({"epochs": "ten"})");
  CHECK_THROWS_WITH(apply_json(read_config_file(dir / "t.json"), c, {}, "t.json"),
                    doctest::Contains("t.json: 'epochs' must be an integer, got \"ten\""));
  write(dir / "m.json", R"({"epochs": 3,})");
  CHECK_THROWS_WITH(read_config_file(dir / "m.json"), doctest::Contains("not valid JSON"));
  write(dir / "tab.toml", "lr = 0.1\n[optimizer]\nname = 'sgd'\n");
  CHECK_THROWS_WITH(read_config_file(dir / "tab.toml"),
                    doctest::Contains("tab.toml:2: TOML tables ([optimizer]) are not supported"));
  write(dir / "v.toml", "lr = 0.1\nepochs = ten\n");
  CHECK_THROWS_WITH(read_config_file(dir / "v.toml"), doctest::Contains("v.toml:2: cannot read the value ten"));
  write(dir / "c.yaml", "lr: 0.1\n");
  CHECK_THROWS_WITH(read_config_file(dir / "c.yaml"), doctest::Contains("expected a .json or .toml file"));
  CHECK_THROWS_WITH(read_config_file(dir / "missing.json"), doctest::Contains("cannot open the file"));
}

TEST_CASE("train config: contradictory and out-of-range flags are refused") {
  CHECK_NOTHROW(validate_config(valid(), {}));
  TrainConfig c = valid();
  c.data = "/some/where";
  CHECK_THROWS_WITH(validate_config(c, {"data", "phantoms"}),
                    doctest::Contains("--data and --phantoms contradict each other"));
  c = TrainConfig{};
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("no training data"));
  c = valid();
  c.optimizer = "adam";
  CHECK_NOTHROW(validate_config(c, {"optimizer"}));
  CHECK_THROWS_WITH(validate_config(c, {"optimizer", "momentum"}),
                    doctest::Contains("--momentum applies to --optimizer sgd only"));
  c = valid();
  c.kernels = "cudnn";
  CHECK_THROWS_WITH(validate_config(c, {"kernels"}), doctest::Contains("contradicts --device cpu"));
  c = valid();
  c.freeze_backbone = true;
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--freeze-backbone without --pretrained"));
  c = valid();
  c.loss = "dice";
  c.class_weights = {1, 5};
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--loss dice has none"));
  c = valid();
  c.pos_oversample = 1.0;
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--pos-oversample must be in (0, 1)"));
  c = valid();
  c.accum = 0;
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--accum must be >= 1"));
  c = valid();
  c.workers = -1;
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--workers must be in [0, 64] (0: automatic)"));
  c.workers = 0;
  CHECK_NOTHROW(validate_config(c, {}));
  c = valid();
  c.size = 16;
  CHECK_THROWS_WITH(validate_config(c, {"size"}), doctest::Contains("--phantom-size 32 or more"));
  c.phantom_size = 32;
  CHECK_NOTHROW(validate_config(c, {"size", "phantom-size"}));
  c = valid();
  c.loss = "focal";
  CHECK_THROWS_WITH(validate_config(c, {}), doctest::Contains("--loss must be ce, dice or ce+dice"));
  c = valid();
  c.loss = "ce+dice";
  c.dice = "batch";
  CHECK_NOTHROW(validate_config(c, {"loss", "dice"}));
  c.dice = "pixel";
  CHECK_THROWS_WITH(validate_config(c, {"loss", "dice"}),
                    doctest::Contains("--dice must be image or batch, got 'pixel'"));
  c = valid();
  c.loss = "ce";
  c.dice = "batch";
  CHECK_THROWS_WITH(validate_config(c, {"loss", "dice"}), doctest::Contains("--loss ce has none"));
  c = valid();
  c.phantom_contrast = 4;
  CHECK_NOTHROW(validate_config(c, {"phantom-contrast"}));
  c.phantom_contrast = 20;
  CHECK_THROWS_WITH(validate_config(c, {"phantom-contrast"}),
                    doctest::Contains("--phantom-contrast must be in [0.25, 10], got 20"));
  c = valid();
  c.phantoms = 0;
  c.data = "/some/where";
  c.phantom_contrast = 4;
  CHECK_THROWS_WITH(validate_config(c, {"data", "phantom-contrast"}),
                    doctest::Contains("--phantom-contrast applies to --phantoms only"));
#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  c = valid();
  c.device = "cuda";
  CHECK_THROWS_WITH(validate_config(c, {"device"}), doctest::Contains("no CUDA kernels"));
#endif
}

TEST_CASE("train config: a resumed run keeps its configuration") {
  TrainConfig stored = valid();
  stored.lr = 0.003;
  stored.epochs = 4;
  stored.out = "run1";
  TrainConfig cli;
  cli.epochs = 8;
  cli.workers = 1;
  cli.resume = "run1/last.safetensors";
  TrainConfig r = resolve_resume(stored.to_json(), cli, {"epochs", "workers", "resume"}, cli.resume);
  CHECK(r.epochs == 8);
  CHECK(r.workers == 1);
  CHECK(r.lr == 0.003);
  CHECK(r.phantoms == 40);
  CHECK(r.out == "run1");  // --out not given: the checkpoint's folder
  CHECK(r.resume == "run1/last.safetensors");

  cli.lr = 0.1;
  CHECK_THROWS_WITH(resolve_resume(stored.to_json(), cli, {"epochs", "lr", "resume"}, cli.resume),
                    doctest::Contains("--lr 0.1 vs the run's 0.003"));
  // Giving a fixed option with the run's own value is fine.
  cli.lr = 0.003;
  CHECK_NOTHROW(resolve_resume(stored.to_json(), cli, {"lr", "resume"}, cli.resume));
}

TEST_CASE("train config: --workers 0 picks the loader threads for the device and the machine") {
  TrainConfig c;
  CHECK(c.workers == 0);  // automatic by default
  CHECK(resolved_workers(c, 16) == 2);  // cpu: the cores compute; loading is not the bottleneck
  c.device = "cuda";
  CHECK(resolved_workers(c, 2) == 2);
  CHECK(resolved_workers(c, 6) == 3);
  CHECK(resolved_workers(c, 16) == 8);
  CHECK(resolved_workers(c, 128) == 8);
  c.workers = 5;  // as given, on any device
  CHECK(resolved_workers(c, 16) == 5);
  c.device = "cpu";
  CHECK(resolved_workers(c, 1) == 5);
}
