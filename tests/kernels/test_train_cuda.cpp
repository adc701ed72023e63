// fcnlab-train's whole loop on the CUDA backend (under simt: the hand kernels run on the CPU)
// against the same run on the CPU: loader batches in pinned memory, the model, loss, backward,
// Adam and the validation metrics all on the device. Same seed, same data: the step losses and
// the validation numbers agree to float rounding.
#include <doctest/doctest.h>

#include <cmath>

#include "data/phantom.h"
#include "tests/common/temp_dir.h"
#include "train/trainer.h"

using namespace fcnlab;
using namespace fcnlab::train;

TEST_CASE("train: --device cuda runs the training loop and matches --device cpu step for step") {
  test::TempDir dir("train_cuda");
  data::PhantomSetOptions po;
  po.count = 24;
  po.size = 32;
  po.seed = 2;
  po.contrast = 4;
  po.threads = 2;
  data::write_phantom_set(dir / "data", po);
  auto config = [&](const std::string& device) {
    TrainConfig c;
    c.data = dir / "data";
    c.out = dir / ("run_" + device);
    c.device = device;
    c.model = "fcn8s";
    c.width = 1.0 / 64;
    c.size = 32;
    c.batch = 4;
    c.epochs = 1;
    c.steps_per_epoch = 3;
    c.optimizer = "adam";
    c.lr = 3e-3;
    c.weight_decay = 0;
    c.loss = "ce+dice";
    c.dice = "batch";
    c.class_weights = {1, 10};
    c.workers = 2;
    c.seed = 5;
    return c;
  };
  const TrainResult cpu = run_training(config("cpu"));
  const TrainResult dev = run_training(config("cuda"));
  REQUIRE(cpu.step_losses.size() == 3);
  REQUIRE(dev.step_losses.size() == cpu.step_losses.size());
  for (size_t i = 0; i < cpu.step_losses.size(); ++i) {
    INFO("step ", i + 1);
    CHECK(dev.step_losses[i] == doctest::Approx(cpu.step_losses[i]).epsilon(1e-4));
  }
  // the first step's loss does not depend on the update, the third on two of them
  CHECK(cpu.step_losses[0] != cpu.step_losses[2]);
  REQUIRE(dev.history.size() == 1);
  const EpochRecord &a = cpu.history[0], &b = dev.history[0];
  CHECK(b.val_loss == doctest::Approx(a.val_loss).epsilon(1e-4));
  CHECK(b.dice == doctest::Approx(a.dice).epsilon(1e-4));
}
