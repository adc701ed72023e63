// Module infrastructure: registration, dotted names, enumeration order, state_dict round trips,
// strict-mode errors, train/eval, moves in place, parameter counts, Sequential.
#include <doctest/doctest.h>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/nn/module.h"
#include "engine/ops/elementwise.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {

// y = x * weight + bias, elementwise over n values; counts forward calls in a buffer.
struct Affine : Module {
  Tensor weight, bias, calls;
  explicit Affine(int64_t n) {
    weight = register_parameter("weight", Tensor::ones({n}, DType::f64));
    bias = register_parameter("bias", Tensor::zeros({n}, DType::f64));
    calls = register_buffer("calls", Tensor::zeros({1}, DType::f64));
  }
  std::string type_name() const override { return "Affine"; }
  Tensor forward(const Tensor& x) override {
    calls.set_flat(0, calls.flat(0) + 1);
    return add(mul(x, weight), bias);
  }
};

// No parameters; records how often its train hook ran.
struct Relu : Module {
  int hook_calls = 0;
  std::string type_name() const override { return "Relu"; }
  Tensor forward(const Tensor& x) override { return relu(x); }
  void on_train(bool) override { ++hook_calls; }
};

// features (Sequential: conv1_1, relu1_1, conv1_2) -> head; an own parameter registered last.
struct Net : Module {
  std::shared_ptr<Sequential> features;
  std::shared_ptr<Affine> head;
  Tensor temperature;
  Net() {
    features = register_module("features", std::make_shared<Sequential>());
    features->add("conv1_1", std::make_shared<Affine>(3));
    features->add("relu1_1", std::make_shared<Relu>());
    features->add("conv1_2", std::make_shared<Affine>(3));
    head = register_module("head", std::make_shared<Affine>(3));
    temperature = register_parameter("temperature", Tensor::ones({1}, DType::f64));
  }
  Tensor forward(const Tensor& x) override { return head->forward(features->forward(x)); }
};

// Fills every parameter of m with distinct random values.
void randomize(Module& m, uint64_t seed) {
  Generator g(seed);
  for (auto& p : m.named_parameters()) init::uniform_(p.tensor, -1, 1, g);
}

std::vector<std::string> names_of(const std::vector<ParamInfo>& ps) {
  std::vector<std::string> v;
  for (const auto& p : ps) v.push_back(p.name);
  return v;
}

}  // namespace

TEST_CASE("named_parameters: dotted names, own parameters first, children in registration order") {
  Net net;
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"temperature", "features.conv1_1.weight", "features.conv1_1.bias",
                                 "features.conv1_2.weight", "features.conv1_2.bias", "head.weight",
                                 "head.bias"});
  std::vector<Tensor> ps = net.parameters();
  REQUIRE(ps.size() == 7);
  CHECK(ps[1].same(net.features->child("conv1_1") ? std::static_pointer_cast<Affine>(
                                                        net.features->child("conv1_1"))->weight
                                                  : Tensor()));
  CHECK(net.parameter("features.conv1_2.bias").same(
      std::static_pointer_cast<Affine>(net.child("features.conv1_2"))->bias));
  for (const Tensor& p : ps) CHECK(p.requires_grad());
  auto bufs = net.named_buffers();
  REQUIRE(bufs.size() == 3);
  CHECK(bufs[0].first == "features.conv1_1.calls");
  CHECK(bufs[2].first == "head.calls");
  CHECK(net.has_parameter("head.bias"));
  CHECK(!net.has_parameter("head.gamma"));
  CHECK(!net.has_parameter("tail.bias"));
  CHECK_THROWS_WITH_AS(net.parameter("features.conv9.weight"),
                       doctest::Contains("no parameter named 'features.conv9.weight'"), Error);
  auto mods = net.named_modules();
  REQUIRE(mods.size() == 6);
  CHECK(mods[2].first == "features.conv1_1");
  CHECK(mods[5].first == "head");
}

TEST_CASE("registration rejects empty, dotted and duplicate names") {
  Affine a(2);
  CHECK_THROWS_WITH_AS(a.register_parameter("weight", Tensor::ones({2})),
                       doctest::Contains("'weight' is already a parameter"), Error);
  CHECK_THROWS_WITH_AS(a.register_buffer("bias", Tensor::ones({2})),
                       doctest::Contains("'bias' is already a parameter"), Error);
  CHECK_THROWS_WITH_AS(a.register_parameter("a.b", Tensor::ones({2})),
                       doctest::Contains("must not contain '.'"), Error);
  CHECK_THROWS_WITH_AS(a.register_module("", std::make_shared<Relu>()),
                       doctest::Contains("must not be empty"), Error);
  CHECK_THROWS_AS(a.register_parameter("ints", Tensor::ones({2}, DType::i32)), Error);
  Module plain;
  CHECK_THROWS_WITH_AS(plain.forward(Tensor::ones({1})), doctest::Contains("no single-input forward"),
                       Error);
}

TEST_CASE("parameter counts, total and trainable") {
  Net net;
  CHECK(net.num_parameters() == 1 + 3 * 6);
  CHECK(net.num_parameters(true) == 19);
  net.head->set_requires_grad(false);  // frozen head
  CHECK(net.num_parameters() == 19);
  CHECK(net.num_parameters(true) == 13);
  CHECK(net.summary().find("parameters: 19 (13 trainable)") != std::string::npos);
  CHECK(net.summary().find("conv1_2 (Affine)  weight [3]  bias [3]") != std::string::npos);
}

TEST_CASE("state_dict round trip: values equal after loading into a fresh module") {
  Net a;
  randomize(a, 7);
  a.features->child("conv1_1")->buffer("calls").fill_(5.0);
  TensorMap sd = a.state_dict();
  CHECK(sd.size() == 7 + 3);
  CHECK(sd.count("features.conv1_2.weight"));
  CHECK(sd.count("head.calls"));

  Net b;
  Tensor handle = b.parameter("head.weight");
  LoadReport r = b.load_state_dict(sd);
  CHECK(r.ok());
  CHECK(r.loaded.size() == 10);
  for (const auto& [name, t] : b.state_dict()) {
    INFO(name);
    CHECK_EXACT(t, sd.at(name));
    CHECK(!t.same(sd.at(name)));  // copied, not shared
  }
  CHECK(handle.same(b.parameter("head.weight")));  // loaded in place
  CHECK(b.buffer("features.conv1_1.calls").item() == 5.0);
  // Later changes to a do not reach b.
  a.parameter("head.bias").fill_(42.0);
  CHECK(b.parameter("head.bias").to_vector() != a.parameter("head.bias").to_vector());
  // Loading converts dtype: an f32 checkpoint into the f64 module.
  TensorMap sd32;
  for (auto& [n, t] : sd) sd32[n] = t.to(DType::f32);
  Net c;
  c.load_state_dict(sd32);
  CHECK(c.parameter("temperature").dtype() == DType::f64);
  CHECK_CLOSE(c.parameter("temperature"), sd.at("temperature"), 1e-7, 0);
}

TEST_CASE("strict load_state_dict lists every missing, unexpected and mis-shaped key, loads nothing") {
  Net a;
  randomize(a, 3);
  TensorMap sd = a.state_dict();
  sd.erase("features.conv1_1.bias");
  sd.erase("head.calls");
  sd["head.gamma"] = Tensor::ones({3}, DType::f64);
  sd["fc8.weight"] = Tensor::ones({2}, DType::f64);
  sd["head.weight"] = Tensor::ones({1, 3}, DType::f64);
  sd["temperature"] = Tensor::ones({2, 2}, DType::f64);

  Net b;
  CHECK_THROWS_WITH_AS(
      b.load_state_dict(sd),
      "load_state_dict: missing keys: features.conv1_1.bias, head.calls; unexpected keys: "
      "fc8.weight, head.gamma; shape mismatch: temperature expected [1], got [2, 2], head.weight "
      "expected [3], got [1, 3]",
      Error);
  // Nothing was loaded: b still has its constructor values (ones / zeros).
  CHECK(b.parameter("features.conv1_2.weight").to_vector() == std::vector<double>{1, 1, 1});

  LoadReport r = b.load_state_dict(sd, /*strict=*/false);
  CHECK(!r.ok());
  CHECK(r.missing == std::vector<std::string>{"features.conv1_1.bias", "head.calls"});
  CHECK(r.unexpected == std::vector<std::string>{"fc8.weight", "head.gamma"});
  CHECK(r.mismatched.size() == 2);
  CHECK(r.loaded.size() == 6);
  CHECK_EXACT(b.parameter("features.conv1_2.weight"), a.parameter("features.conv1_2.weight"));
  CHECK(b.parameter("head.weight").to_vector() == std::vector<double>{1, 1, 1});  // skipped
}

TEST_CASE("train()/eval() propagate to every descendant and run the hook") {
  Net net;
  auto relu_mod = std::static_pointer_cast<Relu>(net.child("features.relu1_1"));
  for (auto& [n, m] : net.named_modules()) CHECK(m->is_training());
  net.eval();
  for (auto& [n, m] : net.named_modules()) {
    INFO(n);
    CHECK(!m->is_training());
  }
  CHECK(relu_mod->hook_calls == 1);
  net.features->train();
  CHECK(!net.is_training());
  CHECK(net.features->is_training());
  CHECK(net.child("features.conv1_2")->is_training());
  CHECK(!net.head->is_training());
}

TEST_CASE("forward, backward and zero_grad through the module tree") {
  Net net;
  randomize(net, 11);
  Tensor x = Tensor::from_vector<double>({0.5, -0.25, 2.0}, {3});
  Tensor y = net.forward(x);
  // By hand: h1 = x*w1 + b1, r = relu(h1), h2 = r*w2 + b2, y = h2*w3 + b3.
  auto w = [&](const char* n) { return net.parameter(n).to_vector(); };
  auto w1 = w("features.conv1_1.weight"), b1 = w("features.conv1_1.bias");
  auto w2 = w("features.conv1_2.weight"), b2 = w("features.conv1_2.bias");
  auto w3 = w("head.weight"), b3 = w("head.bias");
  auto xv = x.to_vector();
  for (int i = 0; i < 3; ++i) {
    double h1 = xv[i] * w1[i] + b1[i];
    double r = h1 > 0 ? h1 : 0;
    CHECK(y.flat(i) == doctest::Approx((r * w2[i] + b2[i]) * w3[i] + b3[i]).epsilon(1e-14));
  }
  CHECK(net.buffer("head.calls").item() == 1.0);
  sum(y).backward();
  CHECK(net.parameter("head.bias").grad().to_vector() == std::vector<double>{1, 1, 1});
  CHECK(!net.parameter("temperature").grad().defined());  // not used by forward
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("to(DType) and to(Device) keep the same tensor objects") {
  Net net;
  randomize(net, 5);
  Tensor w = net.parameter("head.weight");
  std::vector<double> before = w.to_vector();
  sum(net.forward(Tensor::ones({3}, DType::f64))).backward();
  net.to(DType::f32);
  CHECK(w.dtype() == DType::f32);
  CHECK(w.same(net.parameter("head.weight")));
  CHECK(w.requires_grad());
  CHECK(w.grad().dtype() == DType::f32);
  CHECK(net.buffer("head.calls").dtype() == DType::f32);
  CHECK_CLOSE(w, Tensor::from_vector<double>(before, {3}), 1e-7, 0);
  net.to(Device::cpu());  // same device: nothing changes
  CHECK(w.same(net.parameter("head.weight")));
  CHECK_THROWS_AS(net.to(DType::i32), Error);
}

TEST_CASE("per-parameter lr/decay multipliers are set by name and reported by named_parameters") {
  Net net;
  net.set_mults_by_local_name("bias", 2.0, 0.0);  // FCN: biases at 2x lr, no decay
  net.set_param_mults("temperature", 0.0, 1.0);
  for (const auto& p : net.named_parameters()) {
    INFO(p.name);
    bool is_bias = p.name.size() > 4 && p.name.substr(p.name.size() - 4) == "bias";
    CHECK(p.lr_mult == (is_bias ? 2.0 : p.name == "temperature" ? 0.0 : 1.0));
    CHECK(p.decay_mult == (is_bias ? 0.0 : 1.0));
  }
}

TEST_CASE("Sequential: default names 0, 1, ..., forward chains, index checks") {
  Sequential s({std::make_shared<Affine>(2), std::make_shared<Relu>()});
  s.add(std::make_shared<Affine>(2));
  CHECK(s.size() == 3);
  CHECK(names_of(s.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  s.parameter("0.weight").fill_(-2.0);
  s.parameter("2.bias").fill_(0.5);
  Tensor y = s.forward(Tensor::from_vector<double>({1.0, -3.0}, {2}));
  CHECK(y.to_vector() == std::vector<double>{0.5, 6.5});
  CHECK(s[1].type_name() == "Relu");
  CHECK_THROWS_WITH_AS(s[3], doctest::Contains("index 3 out of range (size 3)"), Error);
}
