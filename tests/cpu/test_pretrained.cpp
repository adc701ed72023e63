// Pretrained VGG16 import (models/pretrained.h): torchvision and timm names onto conv1_1 ...
// conv5_3, fc6, fc7; the Linear -> convolution reshape (checked as the same function, not only
// the same bytes); conv1_1 summed over RGB for one channel (same response to a gray image);
// the ImageNet classifier ignored; U-Net's unused fc6/fc7; every error listing keys by name;
// the model checks; reading files by extension and the SHA-256 check of known names.
// Mapping is tested at tiny width through map_vgg16_state_dict; one test imports a full-width
// U-Net encoder from a file (~60 MB), the full VGG16 into FCN-32s is tests/torch/.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/serialize/safetensors.h"
#include "engine/serialize/sha256.h"
#include "models/models.h"
#include "models/pretrained.h"
#include "tests/common/check.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;
namespace fs = std::filesystem;

namespace {

const std::string kTorchDir = std::string(FCNLAB_SOURCE_DIR) + "/tests/fixtures/torch/";
const std::string kPthDir = std::string(FCNLAB_SOURCE_DIR) + "/tests/fixtures/pth/";

// A VGG16 state dict in torchvision (or timm) naming whose shapes fit `like` (an FCN at some
// width, 3 input channels), random values, with a `classes`-way ImageNet-style head.
TensorMap vgg16_state(const GraphModel& like, bool timm, Generator& gen, int64_t classes = 10) {
  TensorMap sd;
  const TensorMap shapes = like.state_dict();
  for (const auto& k : vgg16_keys()) {
    const std::string from = timm ? k.timm : k.torchvision, to = k.fcnlab;
    Shape w = shapes.at(to + ".weight").shape();
    if (!timm && to.rfind("fc", 0) == 0) w = Shape{w[0], w[1] * w[2] * w[3]};  // a Linear
    sd[from + ".weight"] = Tensor::normal(w, 0, 1, gen);
    sd[from + ".bias"] = Tensor::normal(shapes.at(to + ".bias").shape(), 0, 1, gen);
  }
  const int64_t fc = shapes.at("fc7.bias").size(0);
  const std::string head = timm ? "head.fc" : "classifier.6";
  sd[head + ".weight"] = Tensor::normal({classes, fc}, 0, 1, gen);
  sd[head + ".bias"] = Tensor::normal({classes}, 0, 1, gen);
  return sd;
}

ModelOptions tiny(int64_t channels = 3) {
  return ModelOptions{.classes = 2, .in_channels = channels, .width = 0.0625, .random_init = false};
}

bool same_values(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && a.to_vector() == b.to_vector();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("pretrained: torchvision names map onto conv1_1 ... conv5_3, fc6, fc7, and classifier.6 is ignored") {
  Generator gen(1);
  auto g = make_model("fcn32s", tiny());
  const TensorMap sd = vgg16_state(*g, false, gen);
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, g->state_dict(), "tv", &r);
  CHECK(r.naming == "torchvision");
  CHECK(m.size() == 30);
  CHECK(r.loaded.size() == 30);
  CHECK(r.loaded.front() == "features.0.weight -> conv1_1.weight");
  CHECK(r.ignored == std::vector<std::string>{"classifier.6.weight", "classifier.6.bias"});
  REQUIRE(r.converted.size() == 2);
  CHECK(r.converted[0] == "classifier.0.weight [256, 1568] -> fc6.weight [256, 32, 7, 7] (Linear as convolution)");
  const char* pairs[][2] = {{"features.0", "conv1_1"},  {"features.7", "conv2_2"},
                            {"features.14", "conv3_3"}, {"features.17", "conv4_1"},
                            {"features.28", "conv5_3"}, {"classifier.0", "fc6"},
                            {"classifier.3", "fc7"}};
  for (auto [from, to] : pairs)
    for (std::string part : {".weight", ".bias"}) {
      INFO(from, part);
      CHECK(m.at(to + part).shape() == g->parameter(to + part).shape());
      CHECK(same_values(m.at(to + part), sd.at(from + part)));
    }
}

TEST_CASE("pretrained: fc6 as a 7x7 convolution computes the same function as torchvision's Linear") {
  // classifier.0 reads pool5 flattened as (C, H, W); the reshaped filter must give the same
  // 4096 (here 256) numbers on a 7x7 pool5.
  Generator gen(2);
  auto g = make_model("fcn32s", tiny());
  const TensorMap sd = vgg16_state(*g, false, gen);
  TensorMap m = map_vgg16_state_dict(sd, g->state_dict(), "tv", nullptr);
  Tensor pool5 = Tensor::normal({1, 32, 7, 7}, 0, 1, gen);
  NoGrad ng;
  Tensor conv = conv2d(pool5, m.at("fc6.weight"), m.at("fc6.bias"));
  Tensor lin = linear(pool5.reshape({1, 32 * 49}), sd.at("classifier.0.weight"), sd.at("classifier.0.bias"));
  CHECK(conv.shape() == Shape({1, 256, 1, 1}));
  CHECK(test::compare(conv.reshape({1, 256}), lin, 1e-4, 1e-5) == "");
}

TEST_CASE("pretrained: timm names (pre_logits.fc1/fc2 already 4-d, head.fc) land in the same places") {
  Generator gen(3);
  auto g = make_model("fcn8s", tiny());
  const TensorMap sd = vgg16_state(*g, true, gen);
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, g->state_dict(), "timm", &r);
  CHECK(r.naming == "timm");
  CHECK(r.converted.empty());
  CHECK(r.ignored == std::vector<std::string>{"head.fc.weight", "head.fc.bias"});
  CHECK(same_values(m.at("fc6.weight"), sd.at("pre_logits.fc1.weight")));
  CHECK(same_values(m.at("fc7.bias"), sd.at("pre_logits.fc2.bias")));
  CHECK(same_values(m.at("conv4_3.weight"), sd.at("features.21.weight")));
}

TEST_CASE("pretrained: one input channel gets conv1_1 summed over RGB, with the same response to gray") {
  Generator gen(4);
  auto rgb = make_model("fcn32s", tiny(3));
  auto gray = make_model("fcn32s", tiny(1));
  const TensorMap sd = vgg16_state(*rgb, false, gen);
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, gray->state_dict(), "tv", &r);
  REQUIRE(m.at("conv1_1.weight").shape() == Shape({4, 1, 3, 3}));
  CHECK(r.converted.front() == "features.0.weight [4, 3, 3, 3] -> conv1_1.weight [4, 1, 3, 3] (summed over RGB for 1 input channel)");
  const Tensor& w3 = sd.at("features.0.weight");
  for (int64_t i = 0; i < 4 * 9; ++i) {
    const int64_t o = i / 9, k = i % 9;
    const double want = static_cast<float>(w3.flat(o * 27 + k) + w3.flat(o * 27 + 9 + k) + w3.flat(o * 27 + 18 + k));
    CHECK(m.at("conv1_1.weight").flat(i) == want);
  }
  // A gray image through the summed filter = the same image as R = G = B through the original.
  rgb->load_state_dict(map_vgg16_state_dict(sd, rgb->state_dict(), "tv", nullptr), false);
  gray->load_state_dict(m, false);
  rgb->eval();
  gray->eval();
  Tensor x = Tensor::uniform({1, 1, 20, 24}, 0, 1, gen);
  NoGrad ng;
  TensorMap a, b;
  gray->forward(x, {"relu1_1", "pool2"}, a);
  rgb->forward(concat_channels({x, x, x}), {"relu1_1", "pool2"}, b);
  CHECK(test::compare(a.at("relu1_1"), b.at("relu1_1"), 1e-5, 1e-5) == "");
  CHECK(test::compare(a.at("pool2"), b.at("pool2"), 1e-4, 1e-5) == "");
}

TEST_CASE("pretrained: U-Net-VGG16 takes the 26 convolution tensors and reports fc6/fc7 as not used") {
  Generator gen(5);
  auto like = make_model("fcn32s", tiny());
  auto unet = make_model("unet-vgg16", tiny(3));
  const TensorMap sd = vgg16_state(*like, false, gen);
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, unet->state_dict(), "tv", &r);
  CHECK(m.size() == 26);
  CHECK(r.not_used == std::vector<std::string>{"classifier.0.weight", "classifier.0.bias",
                                               "classifier.3.weight", "classifier.3.bias"});
  CHECK(r.str().find("not used (this model has no fc6/fc7): classifier.0.weight") != std::string::npos);
  // A features-only file (no classifier at all) is complete for U-Net ...
  TensorMap features;
  for (const auto& [k, t] : sd)
    if (k.rfind("features.", 0) == 0) features[k] = t;
  CHECK(map_vgg16_state_dict(features, unet->state_dict(), "f", nullptr).size() == 26);
  // ... but not for an FCN, which needs fc6 and fc7.
  CHECK_THROWS_WITH_AS(map_vgg16_state_dict(features, like->state_dict(), "f", nullptr),
                       doctest::Contains("missing keys: classifier.0.weight, classifier.0.bias, "
                                         "classifier.3.weight, classifier.3.bias"), Error);
}

TEST_CASE("pretrained: missing, unexpected and mis-shaped keys are all listed by name, with both shapes") {
  Generator gen(6);
  auto g = make_model("fcn16s", tiny());
  TensorMap sd = vgg16_state(*g, false, gen);
  sd.erase("features.10.bias");
  sd["features.30.weight"] = Tensor::zeros({4});
  sd["features.12.weight"] = Tensor::zeros({16, 16, 5, 5});
  sd["classifier.0.weight"] = Tensor::zeros({256, 1000});
  const std::string msg = message_of([&] { map_vgg16_state_dict(sd, g->state_dict(), "bad.pth", nullptr); });
  CHECK(msg.find("'bad.pth'") != std::string::npos);
  CHECK(msg.find("nothing was loaded") != std::string::npos);
  CHECK(msg.find("missing keys: features.10.bias") != std::string::npos);
  CHECK(msg.find("unexpected keys: features.30.weight") != std::string::npos);
  CHECK(msg.find("features.12.weight [16, 16, 5, 5] does not fit conv3_2.weight [16, 16, 3, 3]") != std::string::npos);
  CHECK(msg.find("classifier.0.weight [256, 1000] does not fit fc6.weight [256, 32, 7, 7]") != std::string::npos);
  // An integer tensor where a weight belongs.
  TensorMap ints = vgg16_state(*g, false, gen);
  ints["features.2.bias"] = Tensor::zeros({4}, DType::i32);
  CHECK_THROWS_WITH_AS(map_vgg16_state_dict(ints, g->state_dict(), "i.pth", nullptr),
                       doctest::Contains("features.2.bias is i32, expected floating point for conv1_2.bias"), Error);
}

TEST_CASE("pretrained: NaN or infinite weights are refused by key, but not in keys the model does not use") {
  // torchvision's vgg16_features-amdegroot file has a classifier of NaN.
  Generator gen(11);
  auto g = make_model("fcn32s", tiny());
  TensorMap sd = vgg16_state(*g, false, gen);
  sd["classifier.0.weight"].set_flat(5, std::nan(""));
  sd["features.26.bias"].set_flat(0, INFINITY);
  const std::string msg = message_of([&] { map_vgg16_state_dict(sd, g->state_dict(), "nan.pth", nullptr); });
  CHECK(msg.find("classifier.0.weight holds 1 NaN/infinite values (a file whose classifier is not valid weights?)") != std::string::npos);
  CHECK(msg.find("features.26.bias holds 1 NaN/infinite values") != std::string::npos);
  sd["features.26.bias"].set_flat(0, 0.5);
  auto unet = make_model("unet-vgg16", tiny(3));
  PretrainedReport r;
  CHECK(map_vgg16_state_dict(sd, unet->state_dict(), "nan.pth", &r).size() == 26);
  CHECK(r.not_used.front() == "classifier.0.weight");
}

TEST_CASE("pretrained: common mix-ups get a hint (vgg16_bn, DataParallel prefix, fcnlab weights)") {
  Generator gen(7);
  auto g = make_model("fcn32s", tiny());
  TensorMap bn = vgg16_state(*g, false, gen);
  bn["features.1.running_mean"] = Tensor::zeros({4});
  CHECK_THROWS_WITH_AS(map_vgg16_state_dict(bn, g->state_dict(), "bn.pth", nullptr),
                       doctest::Contains("a vgg16_bn file?"), Error);
  TensorMap dp;
  for (const auto& [k, t] : vgg16_state(*g, false, gen)) dp["module." + k] = t;
  CHECK_THROWS_WITH_AS(map_vgg16_state_dict(dp, g->state_dict(), "dp.pth", nullptr),
                       doctest::Contains("'module.' prefix"), Error);
  CHECK_THROWS_WITH_AS(map_vgg16_state_dict(g->state_dict(), g->state_dict(), "mine.safetensors", nullptr),
                       doctest::Contains("load it with --weights"), Error);
}

TEST_CASE("pretrained: FCN-AlexNet, FCN-GoogLeNet, other widths and channel counts are clear errors") {
  Generator gen(8);
  auto like = make_model("fcn32s", tiny());
  const TensorMap sd = vgg16_state(*like, false, gen);
  auto alex = make_model("fcn-alexnet", tiny());
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(*alex, sd), doctest::Contains("FCN-AlexNet: there are no public PyTorch weights"), Error);
  auto goog = make_model("fcn-googlenet", tiny());
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(*goog, sd), doctest::Contains("FCN-GoogLeNet: there are no public PyTorch weights"), Error);
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(*like, sd), doctest::Contains("conv1_1 has 4 filters, ImageNet VGG16 has 64"), Error);
  auto two = make_model("fcn8s", tiny(2));
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(*two, sd), doctest::Contains("takes 2 input channels"), Error);
  CHECK(pretrained_model_names() == std::vector<std::string>{"fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce", "unet-vgg16"});
  // A graph of another family (no conv1_1 ... conv5_3).
  GraphModel other("Toy", 3);
  other.conv("c1", "data", 4, 3, Conv2dOptions{}, true, gen);
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(other, sd), doctest::Contains("Toy: not a VGG16 model"), Error);
}

TEST_CASE("pretrained: a torch-written torchvision-layout file (legacy stream) reads and maps exactly") {
  // vgg16_w64_torchvision.pth: torchvision's VGG16 module at 1/64 of the channels, saved by torch.
  std::string check;
  TensorMap sd = read_pretrained_file(kTorchDir + "vgg16_w64_torchvision.pth", &check);
  CHECK(check.find("not a known file name") != std::string::npos);
  CHECK(sd.size() == 32);
  CHECK(sd.at("classifier.0.weight").shape() == Shape({64, 8 * 49}));
  auto g = make_model("fcn32s", ModelOptions{.classes = 2, .in_channels = 3, .width = 1.0 / 64, .random_init = false});
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, g->state_dict(), "w64", &r);
  CHECK(r.loaded.size() == 30);
  CHECK(r.ignored.size() == 2);
  CHECK(same_values(m.at("fc6.weight"), sd.at("classifier.0.weight")));
  CHECK(same_values(m.at("conv5_1.weight"), sd.at("features.24.weight")));
}

TEST_CASE("pretrained: a full-width U-Net-VGG16 encoder imports from a .safetensors file, decoder kept") {
  // ~15M encoder values: the real sizes, without fc6's 103M (tests/torch covers those).
  Generator gen(9);
  test::TempDir dir("pretrained");
  auto unet = make_model("unet-vgg16", ModelOptions{.classes = 2, .in_channels = 1, .random_init = false});
  const Tensor up4 = unet->parameter("up4.weight").clone();
  TensorMap sd;
  int64_t c = 3;
  for (const auto& k : vgg16_keys()) {
    if (std::string(k.fcnlab).rfind("fc", 0) == 0) continue;
    const int64_t out = unet->channels(k.fcnlab);
    sd[std::string(k.timm) + ".weight"] = Tensor::uniform({out, c, 3, 3}, -0.1, 0.1, gen);
    sd[std::string(k.timm) + ".bias"] = Tensor::uniform({out}, -0.1, 0.1, gen);
    c = out;
  }
  sd["head.fc.weight"] = Tensor::zeros({1000, 4096});  // timm naming, head ignored
  sd["head.fc.bias"] = Tensor::zeros({1000});
  const std::string file = dir / "encoder.safetensors";
  save_safetensors(file, sd);
  PretrainedReport r = load_pretrained_file(*unet, file);
  CHECK(r.naming == "timm");
  CHECK(r.loaded.size() == 26);
  CHECK(r.file_check.find("SHA-256 not checked") != std::string::npos);
  CHECK(std::find(r.kept.begin(), r.kept.end(), "up4.weight") != r.kept.end());
  CHECK(std::find(r.kept.begin(), r.kept.end(), "score.bias") != r.kept.end());
  CHECK(same_values(unet->parameter("conv5_3.weight"), sd.at("features.28.weight")));
  CHECK(same_values(unet->parameter("conv3_1.bias"), sd.at("features.10.bias")));
  CHECK(unet->parameter("conv1_1.weight").shape() == Shape({64, 1, 3, 3}));
  CHECK(same_values(unet->parameter("up4.weight"), up4));
  CHECK(r.str().find("summed over RGB") != std::string::npos);

  // One bad shape: an error naming it, and the model keeps every value it had.
  const Tensor before = unet->parameter("conv2_1.weight").clone();
  TensorMap bad = sd;
  bad["features.5.weight"] = Tensor::ones({128, 64, 3, 3});
  bad["features.28.weight"] = Tensor::zeros({512, 512, 1, 1});
  CHECK_THROWS_WITH_AS(load_vgg16_pretrained(*unet, bad, "bad"),
                       doctest::Contains("features.28.weight [512, 512, 1, 1] does not fit conv5_3.weight [512, 512, 3, 3]"), Error);
  CHECK(same_values(unet->parameter("conv2_1.weight"), before));
}

TEST_CASE("pretrained files: missing, wrong extension, truncated, corrupt and unknown pickle globals are errors naming the file") {
  test::TempDir dir("pretrained_bad");
  CHECK_THROWS_WITH_AS(read_pretrained_file(dir / "absent.pth"), doctest::Contains("absent.pth': no such file"), Error);
  { std::ofstream(dir / "w.npz") << "x"; }
  CHECK_THROWS_WITH_AS(read_pretrained_file(dir / "w.npz"), doctest::Contains("unknown extension '.npz'; expected .pth"), Error);

  // Truncated copies of a torch zip, a legacy stream and a safetensors file.
  auto truncated = [&](const std::string& src, const std::string& name, double keep) {
    std::ifstream in(src, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir / name, std::ios::binary) << bytes.substr(0, static_cast<size_t>(bytes.size() * keep));
    return dir / name;
  };
  for (double keep : {0.5, 0.999}) {
    INFO("keep ", keep);
    CHECK_THROWS_WITH_AS(read_pretrained_file(truncated(kTorchDir + "fcn8s_zip.pth", "z.pth", keep)), doctest::Contains("z.pth"), Error);
    CHECK_THROWS_WITH_AS(read_pretrained_file(truncated(kTorchDir + "vgg16_w64_torchvision.pth", "l.pth", keep)), doctest::Contains("l.pth"), Error);
    CHECK_THROWS_WITH_AS(read_pretrained_file(truncated(kTorchDir + "unet-vgg16_io.safetensors", "s.safetensors", keep)), doctest::Contains("s.safetensors"), Error);
  }
  // Not a weight file at all, under a weight file's extension.
  { std::ofstream(dir / "text.safetensors") << "hello, not weights"; }
  CHECK_THROWS_WITH_AS(read_pretrained_file(dir / "text.safetensors"), doctest::Contains("text.safetensors"), Error);
  { std::ofstream(dir / "text.pth") << "hello, not weights"; }
  CHECK_THROWS_WITH_AS(read_pretrained_file(dir / "text.pth"), doctest::Contains("text.pth"), Error);
  // A pickle that would call os.system: refused by name.
  const std::string evil = message_of([] { read_pretrained_file(kPthDir + "evil_system.pt"); });
  CHECK(evil.find("evil_system.pt") != std::string::npos);
  CHECK(evil.find("global 'posix.system' is not allowed") != std::string::npos);
}

TEST_CASE("pretrained files: a known name must have the known size and SHA-256, an unknown name gets a note") {
  test::TempDir dir("pretrained_known");
  const auto& known = known_pretrained_files();
  REQUIRE(known.size() == 2);
  CHECK(std::string(known[0].name) == "vgg16-397923af.pth");
  CHECK(std::string(known[0].sha256).rfind("397923af", 0) == 0);  // torch.hub's name convention
  CHECK(std::string(known[1].name) == "vgg16.tv_in1k.safetensors");
  // A small file under the torchvision name: the size gives it away (an incomplete download).
  fs::copy_file(kTorchDir + "vgg16_w64_torchvision.pth", dir / "vgg16-397923af.pth");
  CHECK_THROWS_WITH_AS(read_pretrained_file(dir / "vgg16-397923af.pth"),
                       doctest::Contains("139918 bytes, but the known file vgg16-397923af.pth has 553433881"), Error);
  // Under timm's name (size not recorded) the SHA-256 does.
  Generator gen(10);
  save_safetensors(dir / "vgg16.tv_in1k.safetensors", {{"features.0.weight", Tensor::normal({2, 3, 3, 3}, 0, 1, gen)}});
  const std::string msg = message_of([&] { read_pretrained_file(dir / "vgg16.tv_in1k.safetensors"); });
  CHECK(msg.find("vgg16.tv_in1k.safetensors': SHA-256 ") != std::string::npos);
  CHECK(msg.find("but the known file vgg16.tv_in1k.safetensors has 57b026918159a6bf") != std::string::npos);
  CHECK(msg.find(sha256_file(dir / "vgg16.tv_in1k.safetensors")) != std::string::npos);
}

TEST_CASE("pretrained: with the grey input's normalisation conv1_1 is folded exactly, where the plain RGB sum is not") {
  Generator gen(9);
  auto rgb = make_model("fcn32s", tiny(3));
  auto gray = make_model("fcn32s", tiny(1));
  auto summed = make_model("fcn32s", tiny(1));
  const TensorMap sd = vgg16_state(*rgb, false, gen);
  const GreyInput grey{0.449f, 0.226f};
  PretrainedReport r;
  TensorMap m = map_vgg16_state_dict(sd, gray->state_dict(), "tv", &r, &grey);
  REQUIRE(m.at("conv1_1.weight").shape() == Shape({4, 1, 3, 3}));
  REQUIRE(m.at("conv1_1.bias").shape() == Shape({4}));
  CHECK(r.converted.front().find("features.0.weight [4, 3, 3, 3] -> conv1_1.weight [4, 1, 3, 3] "
                                 "(folded from RGB for 1 input channel normalised by mean 0.449, std 0.226") == 0);
  rgb->load_state_dict(map_vgg16_state_dict(sd, rgb->state_dict(), "tv", nullptr), false);
  gray->load_state_dict(m, false);
  summed->load_state_dict(map_vgg16_state_dict(sd, summed->state_dict(), "tv", nullptr), false);
  rgb->eval();
  gray->eval();
  summed->eval();

  // One grey image g in [0, 1]: ImageNet-normalised per channel for the RGB net, (g - 0.449) / 0.226
  // for the one-channel nets.
  const int64_t H = 20, W = 24;
  Tensor g = Tensor::uniform({1, 1, H, W}, 0, 1, gen);
  std::vector<Tensor> planes;
  for (int c = 0; c < 3; ++c) planes.push_back(scale(add_scalar(g, -kImageNetMean[c]), 1.0 / kImageNetStd[c]));
  const Tensor x_rgb = concat_channels(planes);
  const Tensor x_grey = scale(add_scalar(g, -grey.mean), 1.0 / grey.std);
  NoGrad ng;
  TensorMap a, b, s;
  gray->forward(x_grey, {"conv1_1"}, a);
  rgb->forward(x_rgb, {"conv1_1"}, b);
  summed->forward(x_grey, {"conv1_1"}, s);
  // conv1_1 pads by 100: outputs 100 .. 100 + H - 3 see only image pixels.
  const auto interior = [&](const Tensor& t) { return crop(t, 100, 100, H - 2, W - 2); };
  CHECK(test::compare(interior(a.at("conv1_1")), interior(b.at("conv1_1")), 1e-5, 1e-5) == "");
  // The plain sum is off by the per-channel mean and std differences: far past that tolerance.
  CHECK(test::compare(interior(s.at("conv1_1")), interior(b.at("conv1_1")), 1e-3, 1e-3) != "");
}
