// test_pth_vgg16.cpp — a separate ctest: Debian's python3-torch writes a full-size random VGG16
// state_dict in the legacy stream format of torchvision's vgg16-397923af.pth
// (tests/fixtures/pth/make_vgg16_legacy.py); fcnlab imports it and every one of the 32 tensors
// (26 backbone + 6 classifier) must match bit-exact: SHA-256 of its raw float32 bytes and sampled
// bit patterns, against what Python computed. Then the state dict is mapped into FCN-32s (width 1,
// 3 channels; models/pretrained.h): the 26 backbone tensors and fc6/fc7 (reshaped into
// convolutions) must hold torch's bytes exactly, classifier.6 is ignored, score_fr stays zero
// and the upsampling bilinear. Last, fcnlab-train --pretrained trains a one-channel FCN-8s one
// step with the backbone frozen: its checkpoint holds the grey fold of conv1_1 and torch's fc7.
//
// Where /usr/bin/python3 (or $FCNLAB_PYTHON) cannot `import torch`, it prints why and exits 77,
// which CMake declares as SKIP_RETURN_CODE: ctest reports it as *Skipped*, never as passed.
// The ~553 MB file goes to /dev/shm when available (else the system temp dir) and is removed.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "engine/serialize/pth.h"
#include "engine/serialize/sha256.h"
#include "models/models.h"
#include "models/pretrained.h"
#include "engine/serialize/checkpoint.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using namespace fcnlab;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::cerr << "FAILED: " << what << "\n";
  }
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

struct TempDir {
  fs::path path;
  TempDir() {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    path = base / ("fcnlab_vgg16_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

int main() {
  const char* env = std::getenv("FCNLAB_PYTHON");
  const std::string python = env && *env ? env : "/usr/bin/python3";
  if (std::system((quote(python) + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    std::cout << "SKIPPED: " << python << " cannot import torch (install Debian's python3-torch, "
              << "or set FCNLAB_PYTHON); the full-size VGG16 legacy import was NOT checked\n";
    return 77;
  }
  TempDir dir;
  const std::string script = std::string(FCNLAB_SOURCE_DIR) + "/tests/fixtures/pth/make_vgg16_legacy.py";
  auto t0 = std::chrono::steady_clock::now();
  if (std::system((quote(python) + " " + quote(script) + " " + quote(dir.path.string())).c_str()) != 0) {
    std::cerr << "FAILED: " << script << " did not run\n";
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();

  nlohmann::json info;
  std::ifstream((dir.path / "vgg16.json").string()) >> info;
  const std::string pth = (dir.path / "vgg16_legacy.pth").string();
  PthFile f = read_pth(pth);
  auto t2 = std::chrono::steady_clock::now();

  expect(f.format == PthFormat::legacy, "format is legacy");
  expect(f.skipped.empty(), "no skipped entries");
  expect(f.tensors.size() == 32 && info["tensors"].size() == 32, "32 tensors");
  int backbone = 0;
  int64_t numel = 0;
  for (const auto& [name, e] : info["tensors"].items()) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) {
      expect(false, "tensor " + name + " present");
      continue;
    }
    const Tensor& t = it->second;
    backbone += name.rfind("features.", 0) == 0;
    numel += t.numel();
    expect(t.dtype() == DType::f32, name + " is f32");
    expect(t.shape().vec() == e["shape"].get<std::vector<int64_t>>(), name + " shape");
    expect(sha256_hex(t.raw_data(), t.nbytes()) == e["sha256"].get<std::string>(),
           name + " bytes (SHA-256) equal torch's");
    for (const auto& [index, hex] : e["samples"].items()) {
      uint32_t bits;
      std::memcpy(&bits, t.data<float>() + std::stoll(index), 4);
      expect(bits == std::stoul(hex.get<std::string>(), nullptr, 16), name + "[" + index + "] bits");
    }
  }
  expect(backbone == 26, "26 backbone tensors (features.*)");
  expect(numel == 138357544 && info["numel"] == numel, "138,357,544 parameters");
  expect(f.tensors.at("classifier.0.weight").shape() == Shape{4096, 25088}, "fc6 shape");

  // ---- into FCN-32s: every mapped tensor holds torch's bytes (a reshape keeps them in order).
  auto t3 = std::chrono::steady_clock::now();
  auto model = make_model("fcn32s", ModelOptions{.classes = 21, .in_channels = 3, .random_init = false});
  const Tensor upscore = model->parameter("upscore.weight").clone();
  PretrainedReport report = load_vgg16_pretrained(*model, f.tensors, pth);
  auto t4 = std::chrono::steady_clock::now();
  const Tensor rgb_w = f.tensors.at("features.0.weight").clone();  // for the grey fold below
  const Tensor rgb_b = f.tensors.at("features.0.bias").clone();
  f.tensors.clear();  // ~553 MB back before the checks
  std::cout << report.str();
  expect(report.naming == "torchvision", "torchvision naming detected");
  expect(report.loaded.size() == 30, "30 tensors loaded (26 backbone + fc6/fc7)");
  expect(report.ignored.size() == 2, "classifier.6 ignored");
  int exact = 0;
  for (const auto& k : vgg16_keys())
    for (const std::string part : {".weight", ".bias"}) {
      const std::string from = k.torchvision + part, to = k.fcnlab + part;
      const Tensor p = model->parameter(to);
      const bool ok = sha256_hex(p.raw_data(), p.nbytes()) == info["tensors"][from]["sha256"].get<std::string>();
      expect(ok, to + " holds " + from + " bit-exact");
      exact += ok && from.rfind("features.", 0) == 0;
    }
  expect(exact == 26, "26 backbone tensors bit-exact in fcn32s");
  expect(model->parameter("fc6.weight").shape() == Shape({4096, 512, 7, 7}), "fc6 reshaped to [4096, 512, 7, 7]");
  expect(model->parameter("fc7.weight").shape() == Shape({4096, 4096, 1, 1}), "fc7 reshaped to [4096, 4096, 1, 1]");
  double score_sq = 0;
  for (const char* n : {"score_fr.weight", "score_fr.bias"}) {
    const Tensor t = model->parameter(n);
    for (int64_t i = 0; i < t.numel(); ++i) score_sq += t.data<float>()[i] * t.data<float>()[i];
  }
  expect(score_sq == 0.0, "score_fr stays zero");
  expect(std::memcmp(model->parameter("upscore.weight").raw_data(), upscore.raw_data(), upscore.nbytes()) == 0,
         "upscore stays bilinear");

  // ---- fcnlab-train --pretrained, the practitioner's path: a one-channel FCN-8s at width 1 with
  // the backbone frozen, one SGD step on phantoms. The checkpoint's conv1_1 must be the exact fold
  // for the trainer's X-ray normalisation (mean 0.449, std 0.226; models/pretrained.h GreyInput),
  // and the frozen fc7 must still hold torch's bytes.
  auto t5 = std::chrono::steady_clock::now();
  const std::string run_dir = (dir.path / "train").string();
  const std::vector<std::string> targs = {
      "fcnlab-train", "--model", "fcn8s", "--pretrained", pth, "--freeze-backbone",
      "--phantoms", "10", "--size", "32", "--val-fraction", "0.2", "--epochs", "1",
      "--steps-per-epoch", "1", "--batch", "1", "--optimizer", "sgd", "--lr", "1e-4",
      "--workers", "1", "--out", run_dir};
  std::vector<const char*> targv;
  for (const auto& a : targs) targv.push_back(a.c_str());
  const int trc = train::train_main(static_cast<int>(targv.size()), targv.data());
  expect(trc == 0, "fcnlab-train --pretrained --freeze-backbone runs (exit " + std::to_string(trc) + ")");
  if (trc == 0) {
    const Checkpoint ck = load_checkpoint(run_dir + "/last.safetensors");
    const Tensor& w1 = ck.model.at("conv1_1.weight");
    const Tensor& b1 = ck.model.at("conv1_1.bias");
    expect(w1.shape() == Shape({64, 1, 3, 3}), "conv1_1 takes one channel");
    double worst = 0;
    for (int64_t o = 0; o < 64; ++o) {
      double shift = 0;
      for (int64_t k = 0; k < 9; ++k) {
        double sum = 0;
        for (int64_t c = 0; c < 3; ++c) {
          const double wc = rgb_w.data<float>()[(o * 3 + c) * 9 + k];
          sum += wc * 0.226 / kImageNetStd[c];
          shift += wc * (0.449 - kImageNetMean[c]) / kImageNetStd[c];
        }
        worst = std::max(worst, std::fabs(w1.data<float>()[o * 9 + k] - sum) / (std::fabs(sum) + 1e-3));
      }
      const double want_b = rgb_b.data<float>()[o] + shift;
      worst = std::max(worst, std::fabs(b1.data<float>()[o] - want_b) / (std::fabs(want_b) + 1e-3));
    }
    expect(worst < 1e-5, "conv1_1 in the trained checkpoint is the grey fold (worst relative error " +
                             std::to_string(worst) + ")");
    const Tensor& fc7 = ck.model.at("fc7.weight");
    expect(sha256_hex(fc7.raw_data(), fc7.nbytes()) == info["tensors"]["classifier.3.weight"]["sha256"].get<std::string>(),
           "the frozen fc7 still holds classifier.3.weight bit-exact after a training step");
  }
  auto t6 = std::chrono::steady_clock::now();

  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::cout << "vgg16 legacy .pth: " << info["file_size"] << " bytes; python wrote it in "
            << secs(t0, t1) << " s, load_pth read it in " << secs(t1, t2) << " s, mapping into "
            << "fcn32s took " << secs(t3, t4) << " s, checks took "
            << secs(t2, t5) - secs(t3, t4) << " s, fcnlab-train --pretrained (one step) took "
            << secs(t5, t6) << " s; " << failures
            << " failures\n";
  return failures == 0 ? 0 : 1;
}
