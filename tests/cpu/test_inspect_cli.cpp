// fcnlab-inspect's model modes, run in-process through model_inspect_main on tiny models:
// --dump writes .npy files equal to the captured layer outputs, --feature-maps writes a grid PNG
// of the expected size, inputs (.npy, gray and RGB .png) are normalised as the trainer does,
// --weights loads strictly, and every bad flag, model, layer or file is a clear error with
// exit code 2 (usage) or 1 (everything else) and nothing written.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "data/image.h"
#include "data/phantom.h"
#include "data/transforms.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/serialize/npy.h"
#include "engine/serialize/safetensors.h"
#include "models/describe.h"
#include "models/feature_maps.h"
#include "models/inspect_cli.h"
#include "models/models.h"
#include "tests/common/temp_dir.h"
#include "train/model_io.h"
#include "train/overlay.h"

using namespace fcnlab;
namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

Run inspect(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Run r;
  r.code = model_inspect_main(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

constexpr double kTiny = 0.0625;

// A tiny model with random weights (seed 5), its state_dict saved to `path`.
std::shared_ptr<GraphModel> tiny_with_weights(const std::string& name, const std::string& path,
                                              int64_t channels = 1) {
  auto g = make_model(name, ModelOptions{.classes = 2, .in_channels = channels, .width = kTiny, .seed = 5});
  // score layers start at zero; make them non-zero so the dumped scores are not trivially 0
  Generator gen(9);
  for (auto& p : g->named_parameters())
    if (p.name.rfind("score", 0) == 0) p.tensor.copy_(Tensor::normal(p.tensor.shape(), 0, 0.1, gen));
  save_safetensors(path, g->state_dict());
  return g;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("inspect --dump writes each layer's output as .npy equal to the captured tensor") {
  test::TempDir dir("inspect_dump");
  auto g = tiny_with_weights("fcn8s", dir / "w.safetensors");
  Generator gen(4);
  const Tensor x = Tensor::normal({2, 1, 48, 53}, 0, 1, gen);
  save_npy(dir / "x.npy", x);
  const Run r = inspect({"--model", "fcn8s", "--width", "0.0625", "--weights", dir / "w.safetensors",
                         "--input", dir / "x.npy", "--dump", "conv1_1,pool5,score_pool4c,score",
                         "--out", dir / "out"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  NoGrad ng;
  g->eval();
  TensorMap want;
  g->forward(x, {"conv1_1", "pool5", "score_pool4c", "score"}, want);
  for (const auto& [name, t] : want) {
    INFO(name);
    const Tensor got = load_npy(dir / ("out/" + name + ".npy"));
    CHECK(bit_equal(got, t));
    CHECK(r.out.find("wrote " + (dir / ("out/" + name + ".npy"))) != std::string::npos);
  }
  CHECK(want.at("score").shape() == Shape({2, 2, 48, 53}));
}

TEST_CASE("inspect --dump maps '/' in GoogLeNet layer names to '_' in file names") {
  test::TempDir dir("inspect_slash");
  auto g = tiny_with_weights("fcn-googlenet", dir / "w.safetensors");
  Generator gen(6);
  const Tensor x = Tensor::normal({1, 1, 64, 64}, 0, 1, gen);
  save_npy(dir / "x.npy", x);
  const Run r = inspect({"--model", "fcn-googlenet", "--width", "0.0625", "--weights",
                         dir / "w.safetensors", "--input", dir / "x.npy", "--dump",
                         "inception_3a/output", "--out", dir / "o"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  NoGrad ng;
  g->eval();
  TensorMap want;
  g->forward(x, {"inception_3a/output"}, want);
  CHECK(bit_equal(load_npy(dir / "o/inception_3a_output.npy"), want.at("inception_3a/output")));
  CHECK(layer_file_stem("conv1/7x7_s2") == "conv1_7x7_s2");
}

TEST_CASE("inspect without --input runs on a phantom: --feature-maps writes a grid PNG per layer") {
  test::TempDir dir("inspect_fm");
  const Run r = inspect({"--model", "fcn32s", "--width", "0.0625", "--size", "64x80",
                         "--feature-maps", "conv1_1,fc7", "--out", dir / "maps"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("synthetic chest phantom") != std::string::npos);
  CHECK(r.out.find("random initialisation") != std::string::npos);
  // conv1_1 at 64x80 with pad 100: 4 channels of 262x278, shrunk to 121x128 tiles, 2x2 grid
  const auto fm = data::read_png_info(dir / "maps/conv1_1.png");
  const auto [th, tw] = feature_map_tile_size(262, 278, FeatureMapOptions{});
  CHECK(th == 121);
  CHECK(fm.width == 2 + 2 * (tw + 2));
  CHECK(fm.height > 2 + 2 * (th + 2));  // plus the caption row
  CHECK(fs::exists(dir / "maps/fc7.png"));
  CHECK(r.out.find("4 channels of 262x278") != std::string::npos);
}

TEST_CASE("inspect --input .png: gray and RGB, resized, normalised with the ImageNet statistics") {
  test::TempDir dir("inspect_png");
  data::GrayImage gray(6, 4);
  for (int i = 0; i < 24; ++i) gray.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(10 * i);
  data::write_png_gray8(dir / "g.png", gray);
  Run r = inspect({"--model", "fcn32s", "--width", "0.0625", "--input", dir / "g.png", "--dump",
                   "data", "--out", dir / "o"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  Tensor d = load_npy(dir / "o/data.npy");
  REQUIRE(d.shape() == Shape({1, 1, 4, 6}));
  for (int i = 0; i < 24; ++i)
    CHECK(d.flat(i) == doctest::Approx((10 * i / 255.0 - 0.485) / 0.229).epsilon(1e-6));

  train::RgbImage rgb(2, 2, {0, 0, 0});
  rgb.set(0, 1, {255, 128, 0});
  train::write_png_rgb(dir / "c.png", rgb);
  r = inspect({"--model", "fcn32s", "--width", "0.0625", "--channels", "3", "--input", dir / "c.png",
               "--batch", "2", "--dump", "data", "--out", dir / "o"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  d = load_npy(dir / "o/data.npy");
  REQUIRE(d.shape() == Shape({2, 3, 2, 2}));
  CHECK(d.at({1, 0, 0, 1}) == doctest::Approx((1.0 - 0.485) / 0.229).epsilon(1e-6));
  CHECK(d.at({1, 1, 0, 1}) == doctest::Approx((128 / 255.0 - 0.456) / 0.224).epsilon(1e-6));
  CHECK(d.at({0, 2, 0, 1}) == doctest::Approx((0 - 0.406) / 0.225).epsilon(1e-6));
  CHECK(d.at({0, 0, 1, 1}) == doctest::Approx(-0.485 / 0.229).epsilon(1e-6));

  r = inspect({"--model", "fcn32s", "--width", "0.0625", "--input", dir / "g.png", "--size", "8x12",
               "--dump", "data", "--out", dir / "o"});
  REQUIRE(r.code == 0);
  CHECK(load_npy(dir / "o/data.npy").shape() == Shape({1, 1, 8, 12}));
}

TEST_CASE("inspect --time prints a per-layer time table and the forward total") {
  const Run r = inspect({"--model", "fcn16s", "--width", "0.0625", "--size", "48", "--time",
                         "--trials", "2"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("conv1_1 ") != std::string::npos);
  CHECK(r.out.find("upscore16 ") != std::string::npos);
  CHECK(r.out.find("ms, mean of 2 runs after a warm-up on cpu") != std::string::npos);
}

#if defined(FCNLAB_GPU_SIMT)
// The CUDA kernels emulated on the CPU: the time table names the kernel each conv layer ran.
TEST_CASE("inspect --time --device cuda names each conv layer's kernel (simt)") {
  const Run r = inspect({"--model", "fcn8s", "--width", "0.125", "--size", "32", "--time",
                         "--trials", "1", "--device", "cuda"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto line_of = [&](const std::string& layer) {
    const size_t at = r.out.find("\n" + layer + " ");
    return at == std::string::npos ? std::string() : r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
  };
  CHECK(line_of("conv1_1").find("direct conv") != std::string::npos);     // 1 channel, 3x3, 8 filters
  CHECK(line_of("conv3_2").find("implicit GEMM") != std::string::npos);   // 32 channels x 3x3 = 288
  CHECK(line_of("conv5_1").find("Winograd F(2x2,3x3)") != std::string::npos);  // 64 -> 64, 3x3
  CHECK(line_of("score_pool3").find("direct conv") != std::string::npos); // 32 -> 2, 1x1
  CHECK(line_of("upscore8").find("phase GEMM (adjoint)") != std::string::npos);
  CHECK(line_of("relu1_1").find("GEMM") == std::string::npos);
  CHECK(r.out.find("kernel") != std::string::npos);
}
#endif

TEST_CASE("inspect --model prints the layer table") {
  Run r = inspect({"--model", "fcn-alexnet", "--classes", "21", "--channels", "3"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("FCN-AlexNet at 1x3x500x500") != std::string::npos);
  CHECK(r.out.find("parameters   58,704,590 (56,954,261 learned") != std::string::npos);
  r = inspect({"--model", "unet-vgg16", "--width", "0.25", "--size", "96x128", "--batch", "2"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("at 2x1x96x128") != std::string::npos);
}

TEST_CASE("inspect --paper-table prints the paper table") {
  const Run r = inspect({"--paper-table"});
  REQUIRE(r.code == 0);
  CHECK(r.out == paper_table());
  CHECK(r.out.find("134,346,581") != std::string::npos);
}

TEST_CASE("inspect: usage errors exit 2, other errors exit 1, each saying what was wrong") {
  test::TempDir dir("inspect_err");
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {{"--model", "nope"}, 1, "unknown model 'nope'; known models: fcn32s, fcn16s, fcn8s"},
      {{"--model", "fcn32s", "--bogus"}, 2, "--bogus"},
      {{"--model", "fcn32s", "--size", "5xx"}, 2, "--size '5xx': expected HxW"},
      {{"--model", "fcn32s", "--size", "0x5"}, 2, "sides must be >= 1"},
      {{"--model", "fcn32s", "--classes", "0"}, 2, "--classes"},
      {{"--paper-table", "--model", "fcn32s"}, 2, "--paper-table takes no other flags"},
      {{"--model", "fcn32s", "--dump", "conv1_1"}, 2, "need --out DIR"},
      {{"--model", "fcn32s", "--out", "x"}, 2, "--out is only used by --dump and --feature-maps"},
      {{"--model", "fcn32s", "--trials", "3"}, 2, "--trials is only used by --time"},
      {{"--dump", "conv1_1", "--out", "x"}, 2, "--model NAME is needed"},
      {{"--model", "fcn32s", "--width", "0.0625", "--size", "48", "--time", "--device", "tpu"}, 1,
       "device 'tpu': expected cpu, cuda or cuda:N"},
      {{"--model", "fcn32s", "--width", "0.0625", "--dump", "conv1_1,nope", "--out", dir / "o"}, 1,
       "has no layer 'nope'; its layers are: data, conv1_1, relu1_1"},
      {{"--model", "fcn32s", "--width", "0.0625", "--feature-maps", "nope", "--out", dir / "o"}, 1,
       "has no layer 'nope'"},
      {{"--model", "fcn32s", "--weights", dir / "none.safetensors"}, 1,
       "none.safetensors: cannot open weights file"},
      {{"--model", "fcn32s", "--width", "0.0625", "--input", dir / "none.png", "--dump", "data", "--out",
        dir / "o"}, 1, "none.png"},
      {{"--model", "fcn32s", "--width", "0.0625", "--input", dir / "x.jpg", "--dump", "data", "--out",
        dir / "o"}, 1, "--input takes a .png or a .npy file"},
      {{"--model", "fcn-googlenet", "--width", "0.0625", "--size", "1"}, 1, "use a larger input size"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    INFO(joined);
    const Run r = inspect(c.args);
    CHECK(r.code == c.code);
    CHECK_MESSAGE(r.err.find(c.expect) != std::string::npos, r.err);
    CHECK(r.err.rfind("fcnlab-inspect: error: ", 0) == 0);
  }
  CHECK(!fs::exists(dir / "o"));  // nothing was written by any of them
}

TEST_CASE("inspect --weights loads strictly: missing, unexpected and mis-shaped keys are listed") {
  test::TempDir dir("inspect_weights");
  auto g = make_model("fcn32s", ModelOptions{.classes = 2, .in_channels = 1, .width = kTiny});
  TensorMap sd = g->state_dict();
  sd.erase("fc7.bias");
  sd["conv9_9.weight"] = Tensor::zeros({1});
  sd["score_fr.weight"] = Tensor::zeros({3, 3, 1, 1});
  save_safetensors(dir / "w.safetensors", sd);
  const Run r = inspect({"--model", "fcn32s", "--width", "0.0625", "--weights", dir / "w.safetensors"});
  CHECK(r.code == 1);
  CHECK(r.err.find("w.safetensors: the weights do not fit") != std::string::npos);
  CHECK(r.err.find("missing keys: fc7.bias") != std::string::npos);
  CHECK(r.err.find("unexpected keys: conv9_9.weight") != std::string::npos);
  CHECK(r.err.find("score_fr.weight") != std::string::npos);

  // an .npy input with the wrong channel count
  save_npy(dir / "x.npy", Tensor::zeros({1, 3, 32, 32}));
  const Run r2 = inspect({"--model", "fcn32s", "--width", "0.0625", "--input", dir / "x.npy",
                          "--time", "--trials", "1"});
  CHECK(r2.code == 1);
  CHECK(r2.err.find("x.npy: the array has 3 channels, the model takes 1") != std::string::npos);
}

TEST_CASE("inspect --weights with an fcnlab-train checkpoint: model, size and preprocessing from it") {
  test::TempDir dir("inspect_ckpt");
  auto g = tiny_with_weights("fcn8s", dir / "unused.safetensors");
  train::ModelMeta meta;
  meta.model = "fcn8s";
  meta.options = ModelOptions{.classes = 2, .in_channels = 1, .width = kTiny};
  meta.size = 48;
  meta.normalization = data::Normalization::dataset(0.5f, 0.25f, 1);
  train::save_model_checkpoint(dir / "best.safetensors", *g, nullptr, nullptr, meta);

  const Run r = inspect({"--weights", dir / "best.safetensors", "--dump", "data,score", "--out", dir / "o"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  // The phantom at the checkpoint's side, normalised with the checkpoint's statistics.
  const data::Phantom ph = data::render_phantom(48, true, 0, 0);
  Tensor x = Tensor::empty({1, 1, 48, 48});
  for (int i = 0; i < 48 * 48; ++i) x.set_flat(i, (ph.image.pixels[static_cast<size_t>(i)] * (1.0f / 255.0f) - 0.5f) * 4.0f);
  // Within float rounding: the expression above may be fused (FMA) where the loader's is not.
  const Tensor d = load_npy(dir / "o/data.npy");
  REQUIRE(d.shape() == x.shape());
  int off = 0;
  for (int i = 0; i < 48 * 48; ++i) off += std::abs(d.flat(i) - x.flat(i)) > 1e-6 * (1 + std::abs(x.flat(i)));
  CHECK(off == 0);
  NoGrad ng;
  g->eval();
  CHECK(bit_equal(load_npy(dir / "o/score.npy"), g->forward(d)));

  // Asking for another architecture than the checkpoint holds is an error naming both.
  const Run bad = inspect({"--model", "fcn32s", "--weights", dir / "best.safetensors"});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("best.safetensors: checkpoint holds fcn8s") != std::string::npos);
}

TEST_CASE("inspect --pretrained: models it cannot serve are errors that say why") {
  test::TempDir dir("inspect_pre");
  TensorMap sd;
  sd["features.0.weight"] = Tensor::zeros({64, 3, 3, 3});
  sd["features.0.bias"] = Tensor::zeros({64});
  save_safetensors(dir / "vgg.safetensors", sd);
  Run r = inspect({"--model", "fcn-alexnet", "--width", "0.0625", "--pretrained", dir / "vgg.safetensors"});
  CHECK(r.code == 1);
  CHECK(r.err.find("pretrained import into FCN-AlexNet") != std::string::npos);
  r = inspect({"--model", "fcn8s", "--width", "0.0625", "--pretrained", dir / "vgg.safetensors"});
  CHECK(r.code == 1);
  CHECK(r.err.find("width != 1") != std::string::npos);
  r = inspect({"--model", "fcn8s", "--weights", dir / "vgg.safetensors", "--pretrained", dir / "vgg.safetensors"});
  CHECK(r.code == 2);
  CHECK(r.err.find("give one") != std::string::npos);
}

TEST_CASE("is_model_inspect picks the model modes and leaves --dataset alone") {
  CHECK(is_model_inspect({"--paper-table"}));
  CHECK(is_model_inspect({"--model", "fcn8s"}));
  CHECK(is_model_inspect({"--model=fcn8s"}));
  CHECK(!is_model_inspect({"--dataset", "dir"}));
  CHECK(!is_model_inspect({"--datasets"}));
}
