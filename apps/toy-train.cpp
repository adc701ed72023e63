// fcnlab-toy-train — the first end-to-end run: trains the tiny FCN-shaped ToyFcn on the toy
// disc task (data/toy_discs.h) on the CPU, shows progress, evaluates held-out Dice and writes
//   DIR/loss.csv       step, loss, lr
//   DIR/panel.png      input | truth | prediction for 4 held-out images
//   DIR/model.safetensors  a fcnlab checkpoint (model + optimizer + metadata)
// Everything is written to a temporary name and renamed. The real trainer is fcnlab-train.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <sstream>

#include "data/image.h"
#include "data/toy_discs.h"
#include "engine/autograd.h"
#include "engine/cli.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "engine/progress.h"
#include "engine/serialize/atomic_file.h"
#include "engine/serialize/checkpoint.h"
#include "models/toy_fcn.h"

using namespace fcnlab;

namespace {

struct Config {
  int steps = 300, batch = 8, size = 32, width = 8;
  double lr = 0.01;
  uint64_t seed = 1;
  std::string out = "toy-out";
};

// Foreground Dice of argmax predictions over a batch (an image pair both empty counts 1).
double mean_dice(const Tensor& pred, const Tensor& mask) {
  const int64_t n = mask.size(0), hw = mask.numel() / n;
  const int32_t* p = pred.data<int32_t>();
  const int32_t* t = mask.data<int32_t>();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double inter = 0, sp = 0, st = 0;
    for (int64_t j = i * hw; j < (i + 1) * hw; ++j) {
      inter += (p[j] == 1 && t[j] == 1);
      sp += (p[j] == 1);
      st += (t[j] == 1);
    }
    total += (sp + st) == 0 ? 1.0 : 2 * inter / (sp + st);
  }
  return total / static_cast<double>(n);
}

// Rows: one image each as input | truth | prediction, 2-pixel gaps.
data::GrayImage make_panel(const data::ToyBatch& b, const Tensor& pred, int rows) {
  const int s = static_cast<int>(b.mask.size(1)), gap = 2;
  data::GrayImage panel(3 * s + 2 * gap, rows * s + (rows - 1) * gap, 64);
  for (int r = 0; r < rows; ++r)
    for (int y = 0; y < s; ++y)
      for (int x = 0; x < s; ++x) {
        const int64_t i = (static_cast<int64_t>(r) * s + y) * s + x;
        double v = b.image.data<float>()[i];
        int py = r * (s + gap) + y;
        panel.at(py, x) = static_cast<uint8_t>(std::clamp(127.5 + 80 * v, 0.0, 255.0));
        panel.at(py, s + gap + x) = b.mask.data<int32_t>()[i] ? 255 : 0;
        panel.at(py, 2 * (s + gap) + x) = pred.data<int32_t>()[i] ? 255 : 0;
      }
  return panel;
}

int run(const Config& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(c.out, ec);
  FCNLAB_CHECK(!ec && fs::is_directory(c.out), "--out '", c.out, "': cannot create the folder (",
               ec.message(), ")");

  ToyFcn net(1, 2, c.width, c.seed);
  Adam opt(net.named_parameters(), AdamOptions{.lr = c.lr});
  std::printf("fcnlab-toy-train: ToyFcn width %d (%lld parameters), %d steps of %d images %dx%d, Adam lr %g\n",
              c.width, static_cast<long long>(net.num_parameters(true)), c.steps, c.batch, c.size,
              c.size, c.lr);

  std::ostringstream csv;
  csv << "step,loss,lr\n";
  Progress progress(c.steps, c.batch, "train");
  double loss_v = 0;
  for (int step = 1; step <= c.steps; ++step) {
    data::ToyBatch b = data::make_toy_discs(c.batch, c.size, c.seed, static_cast<uint64_t>(step));
    Tensor loss = cross_entropy(net(b.image), b.mask);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_v = loss.item();
    FCNLAB_CHECK(std::isfinite(loss_v), "training diverged: loss is ", loss_v, " at step ", step,
                 " (try a smaller --lr)");
    csv << step << "," << loss_v << "," << c.lr << "\n";
    char extra[48];
    std::snprintf(extra, sizeof extra, "loss %.4f", loss_v);
    progress.update(step, extra);
  }
  progress.finish();

  NoGrad ng;
  net.eval();
  data::ToyBatch held = data::make_toy_discs(64, c.size, c.seed + 1000003, 0);
  Tensor pred = argmax_channels(net(held.image));
  const double dice = mean_dice(pred, held.mask);

  const std::string dir = c.out + "/";
  write_file_atomic(dir + "loss.csv", csv.str().data(), csv.str().size());
  data::write_png_gray8(dir + "panel.png", make_panel(held, pred, 4));
  Checkpoint ck;
  ck.model = net.state_dict();
  ck.optimizer = opt.state_dict();
  ck.meta = {{"model", "ToyFcn"}, {"width", c.width}, {"steps", c.steps},
             {"held_out_dice", dice}, {"optimizer", opt.state_json()}};
  save_checkpoint(dir + "model.safetensors", ck);

  std::printf("final training loss %.4f, held-out Dice %.3f on 64 images, %.0f images/s\n", loss_v,
              dice, progress.items_per_second());
  std::printf("results in %s: loss.csv, panel.png (input | truth | prediction), model.safetensors\n",
              c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the tiny ToyFcn on the toy disc segmentation task (CPU)"};
  fcnlab::cli::use_fcnlab_errors(app, "fcnlab-toy-train");
  Config c;
  app.add_option("--steps", c.steps, "training steps")->check(fcnlab::cli::positive());
  app.add_option("--batch", c.batch, "images per step")->check(fcnlab::cli::positive());
  app.add_option("--size", c.size, "image side in pixels")->check(fcnlab::cli::in_range(8, 512));
  app.add_option("--width", c.width, "channels of the first conv")->check(fcnlab::cli::in_range(1, 256));
  app.add_option("--lr", c.lr, "Adam learning rate")->check(fcnlab::cli::positive());
  app.add_option("--seed", c.seed, "data and init seed");
  app.add_option("--out", c.out, "output folder");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nfcnlab-toy-train: error: %s\n", e.what());
    return 1;
  }
}
