// Equivalence with PyTorch: tiny-width FCN-8s, FCN-AlexNet and U-Net-VGG16 written independently
// in PyTorch with fcnlab's layer names (tests/fixtures/torch/make_torch_fixtures.py), their
// state_dicts saved by torch in the zip and the legacy containers, an input and the outputs of
// named layers. fcnlab loads each state_dict strictly into make_model(same options), runs the
// input and must match every dumped layer: |a - b| <= 1e-4 * max(max|b|, FLT_MIN), elementwise,
// i.e. relative to the layer's largest magnitude (a per-element relative error would be
// meaningless where a value is a near-cancelling sum).
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/serialize/pth.h"
#include "engine/serialize/safetensors.h"
#include "models/models.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {

const std::string kDir = std::string(FCNLAB_SOURCE_DIR) + "/tests/fixtures/torch/";

struct Fixture {
  std::string net;
  ModelOptions options;
  Tensor input;
  std::vector<std::string> layers;
  TensorMap outputs;  // layer -> PyTorch's output
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) v.push_back(x);
  return v;
}

Fixture load_fixture(const std::string& net) {
  SafetensorsContents io = load_safetensors(kDir + net + "_io.safetensors");
  Fixture f;
  f.net = io.metadata.at("model");
  REQUIRE(f.net == net);
  f.options.classes = std::stoll(io.metadata.at("classes"));
  f.options.in_channels = std::stoll(io.metadata.at("in_channels"));
  f.options.width = std::stod(io.metadata.at("width"));
  f.options.random_init = false;  // every weight comes from the fixture
  f.input = io.tensors.at("input");
  f.layers = split(io.metadata.at("layers"));
  for (const auto& l : f.layers) f.outputs[l] = io.tensors.at("out." + l);
  return f;
}

// "" when |a - b| <= rel * max(max|b|, FLT_MIN) everywhere, else the worst element and its index.
std::string compare_relative_to_max(const Tensor& a, const Tensor& b, double rel) {
  if (a.shape() != b.shape()) return "shape " + a.shape().str() + " != expected " + b.shape().str();
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double scale = 0;
  for (double v : y) scale = std::max(scale, std::fabs(v));
  const double tol = rel * std::max(scale, static_cast<double>(FLT_MIN));
  size_t worst = 0;
  double err = -1;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::fabs(x[i] - y[i]) > err) err = std::fabs(x[i] - y[i]), worst = i;
  if (err <= tol) return "";
  std::ostringstream os;
  os << "max |a - b| = " << err << " > " << tol << " (max|b| " << scale << ") at "
     << test::index_of(b.shape(), static_cast<int64_t>(worst)) << ": " << x[worst] << " vs "
     << y[worst];
  return os.str();
}

// Runs the fixture's input through a model holding `state`; returns the captured layers.
TensorMap run(const Fixture& f, const TensorMap& state) {
  auto g = make_model(f.net, f.options);
  g->load_state_dict(state, /*strict=*/true);  // the names are fcnlab's, one to one
  g->eval();
  NoGrad ng;
  TensorMap captured;
  Tensor y = g->forward(f.input, f.layers, captured);
  CHECK(y.shape() == f.outputs.at("score").shape());
  return captured;
}

void check_equivalent(const std::string& net) {
  const Fixture f = load_fixture(net);
  for (auto [suffix, format] : {std::pair{"_zip.pth", PthFormat::zip}, std::pair{"_legacy.pth", PthFormat::legacy}}) {
    PthFile pth = read_pth(kDir + net + suffix);
    CHECK(pth.format == format);
    TensorMap captured = run(f, pth.tensors);
    for (const auto& l : f.layers) {
      INFO(net, std::string(suffix), " layer ", l);
      CHECK(compare_relative_to_max(captured.at(l), f.outputs.at(l), 1e-4) == "");
    }
  }
}

}  // namespace

TEST_CASE("torch equivalence: FCN-8s (tiny width) matches PyTorch at every dumped layer, zip and legacy") {
  check_equivalent("fcn8s");
}

TEST_CASE("torch equivalence: FCN-AlexNet (groups, LRN, 63x63 upscore) matches PyTorch, zip and legacy") {
  check_equivalent("fcn-alexnet");
}

TEST_CASE("torch equivalence: U-Net-VGG16 (transposed convs, crops, concat) matches PyTorch, zip and legacy") {
  check_equivalent("unet-vgg16");
}

TEST_CASE("torch equivalence: fcnlab's own fixed bilinear upsampling equals Caffe's upsample_filt") {
  // The fixture's upscore weights were built by Python from surgery.upsample_filt; a fresh fcnlab
  // model builds its own. Identical filters mean loaded and fresh models upsample alike.
  for (const std::string net : {"fcn8s", "fcn-alexnet"}) {
    const Fixture f = load_fixture(net);
    TensorMap sd = load_pth(kDir + net + "_zip.pth");
    auto g = make_model(net, f.options);
    for (const std::string l : {"upscore2", "upscore_pool4", "upscore8", "upscore"}) {
      if (!sd.count(l + ".weight")) continue;
      INFO(net, " ", l);
      CHECK(test::compare(g->parameter(l + ".weight"), sd.at(l + ".weight"), 0, 0) == "");
    }
  }
}

TEST_CASE("torch equivalence: the comparison catches a wrong weight, a wrong LRN and a wrong crop") {
  // The check must be able to fail: small deliberate changes show up in the final score.
  const Fixture f = load_fixture("fcn-alexnet");
  TensorMap sd = load_pth(kDir + "fcn-alexnet_zip.pth");
  TensorMap changed = sd;
  changed["conv4.bias"] = sd.at("conv4.bias").clone();
  changed["conv4.bias"].set_flat(0, changed["conv4.bias"].flat(0) + 0.05);
  CHECK(compare_relative_to_max(run(f, changed).at("score"), f.outputs.at("score"), 1e-4) != "");

  // The LRN layer with another k must be seen at norm1.
  auto g = make_model("fcn-alexnet", f.options);
  g->load_state_dict(sd);
  g->eval();
  std::dynamic_pointer_cast<LRN>(g->layer("norm1").module)->options.k = 2.0;
  NoGrad ng;
  TensorMap captured;
  g->forward(f.input, {"norm1"}, captured);
  CHECK(compare_relative_to_max(captured.at("norm1"), f.outputs.at("norm1"), 1e-4) != "");

  // A crop one pixel off (31 is right: that one must match, 32 must not).
  const Fixture e = load_fixture("fcn8s");
  auto h = make_model("fcn8s", e.options);
  h->load_state_dict(load_pth(kDir + "fcn8s_zip.pth"));
  h->eval();
  TensorMap up;
  h->forward(e.input, {"upscore8"}, up);
  const int64_t H = e.input.size(2), W = e.input.size(3);
  CHECK(compare_relative_to_max(crop(up.at("upscore8"), 31, 31, H, W), e.outputs.at("score"), 1e-4) == "");
  CHECK(compare_relative_to_max(crop(up.at("upscore8"), 32, 32, H, W), e.outputs.at("score"), 1e-4) != "");
}
