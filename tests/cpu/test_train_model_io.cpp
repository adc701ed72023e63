// Model checkpoints (train/model_io.h): ModelMeta survives JSON, weights + head + optimizer
// round-trip through one file, a checkpoint from another model or width is refused with both
// named and nothing loaded, files without model metadata and unwritable folders are clear
// errors with no file left behind; the classifier head scores the global maximum.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "models/toy_fcn.h"
#include "tests/common/temp_dir.h"
#include "train/model_io.h"

using namespace fcnlab;
using namespace fcnlab::train;
namespace fs = std::filesystem;

namespace {

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

ModelMeta toy_meta(double width) {
  ModelMeta m;
  m.model = "toyfcn";
  m.options.classes = 2;
  m.options.in_channels = 1;
  m.options.width = width;
  m.options.seed = 5;
  m.size = 32;
  m.normalization = data::Normalization::dataset(0.49f, 0.28f, 1);
  m.threshold = 0.35;
  m.min_area = 17;
  return m;
}

}  // namespace

TEST_CASE("model_io: ModelMeta round-trips through JSON and names a missing field") {
  ModelMeta m = toy_meta(0.25);
  m.has_head = true;
  m.head_layer = "fc7";
  m.head_threshold = 0.62;
  m.clahe = true;
  m.clahe_tiles = 4;
  ModelMeta r = ModelMeta::from_json(m.to_json(), "x.safetensors");
  CHECK(r.model == "toyfcn");
  CHECK(r.options.width == 0.25);
  CHECK(r.options.seed == 5);
  CHECK(r.size == 32);
  CHECK(r.normalization.channels == 1);
  CHECK(r.normalization.mean[0] == doctest::Approx(0.49f));
  CHECK(r.threshold == 0.35);
  CHECK(r.min_area == 17);
  CHECK(r.has_head);
  CHECK(r.head_layer == "fc7");
  CHECK(r.head_threshold == 0.62);
  CHECK(r.clahe);
  CHECK(r.clahe_tiles == 4);

  nlohmann::json j = m.to_json();
  j.erase("width");
  CHECK_THROWS_WITH(ModelMeta::from_json(j, "ck.safetensors"),
                    doctest::Contains("ck.safetensors: model metadata has no field 'width'"));
  j = m.to_json();
  j["size"] = "big";
  CHECK_THROWS_WITH(ModelMeta::from_json(j, "ck.safetensors"), doctest::Contains("'size'"));
}

TEST_CASE("model_io: weights, head and optimizer round-trip through one checkpoint") {
  test::TempDir dir("model_io");
  ToyFcn net(1, 2, 4, 11);
  ClassifierHead head(2, 3);
  auto params = net.named_parameters();
  for (auto& p : head.named_parameters()) params.push_back({"head." + p.name, p.tensor});
  Adam opt(params, AdamOptions{.lr = 0.01});
  // One real step so the optimizer has state to save.
  Generator gen(1);
  Tensor x = Tensor::normal({2, 1, 16, 16}, 0, 1, gen);
  Tensor scores = net(x);
  Tensor loss = add(mean(scores), mean(head(scores)));
  loss.backward();
  opt.step();

  ModelMeta meta = toy_meta(4);
  meta.has_head = true;
  meta.head_layer = "out";
  const std::string path = dir / "ck.safetensors";
  save_model_checkpoint(path, net, &head, &opt, meta, {{"epoch", 7}});
  CHECK(dir.listing() == std::vector<std::string>{"ck.safetensors"});

  Checkpoint ck = load_checkpoint(path);
  CHECK(ck.meta.at("epoch") == 7);
  CHECK(ck.meta.contains("optimizer"));
  ModelMeta back = checkpoint_model_meta(ck, path);
  CHECK(back.min_area == 17);
  CHECK(back.has_head);
  check_same_architecture(back, meta, path, true);  // no throw

  ToyFcn net2(1, 2, 4, 99);
  ClassifierHead head2(2, 42);
  load_model_weights(ck, path, net2, &head2);
  for (const auto& [name, t] : net.state_dict()) {
    INFO(name);
    CHECK(same_values(net2.state_dict().at(name), t));
  }
  CHECK(same_values(head2.state_dict().at("fc.weight"), head.state_dict().at("fc.weight")));

  auto params2 = net2.named_parameters();
  for (auto& p : head2.named_parameters()) params2.push_back({"head." + p.name, p.tensor});
  Adam opt2(params2, AdamOptions{.lr = 0.01});
  opt2.load_state_dict(ck.optimizer, ck.meta.at("optimizer"));
  CHECK(opt2.step_count() == 1);
}

TEST_CASE("model_io: a checkpoint from another width is refused naming both, nothing loaded") {
  test::TempDir dir("model_io_w");
  ToyFcn net(1, 2, 4, 1);
  const std::string path = dir / "w4.safetensors";
  save_model_checkpoint(path, net, nullptr, nullptr, toy_meta(4));
  Checkpoint ck = load_checkpoint(path);
  ModelMeta stored = checkpoint_model_meta(ck, path);

  ModelMeta wanted = toy_meta(8);
  CHECK_THROWS_WITH(check_same_architecture(stored, wanted, path),
                    doctest::Contains("holds toyfcn width 4 (2 classes, 1 input channel) but this "
                                      "run builds toyfcn width 8"));
  wanted = toy_meta(4);
  wanted.model = "fcn8s";
  CHECK_THROWS_WITH(check_same_architecture(stored, wanted, path),
                    doctest::Contains("model toyfcn vs fcn8s"));

  // The weights themselves do not fit a width-8 net: one error, and the net is untouched.
  ToyFcn other(1, 2, 8, 2);
  const TensorMap before = other.state_dict();
  std::vector<Tensor> copies;
  for (const auto& [n, t] : before) copies.push_back(t.clone());
  CHECK_THROWS_WITH(load_model_weights(ck, path, other, nullptr),
                    doctest::Contains("w4.safetensors: the model weights do not fit the net"));
  size_t i = 0;
  for (const auto& [n, t] : other.state_dict()) CHECK(same_values(t, copies[i++]));

  // A head is wanted but the checkpoint has none.
  ToyFcn same(1, 2, 4, 3);
  ClassifierHead head(2, 1);
  CHECK_THROWS_WITH(load_model_weights(ck, path, same, &head),
                    doctest::Contains("no classification head weights"));
}

TEST_CASE("model_io: a checkpoint without model metadata and an unwritable folder are clear errors") {
  test::TempDir dir("model_io_bad");
  Checkpoint plain;
  plain.model["w"] = Tensor::zeros({2});
  plain.meta = {{"model", "ToyFcn"}};  // what fcnlab-toy-train writes
  const std::string path = dir / "toy.safetensors";
  save_checkpoint(path, plain);
  Checkpoint ck = load_checkpoint(path);
  CHECK_THROWS_WITH(checkpoint_model_meta(ck, path),
                    doctest::Contains("toy.safetensors: not a model checkpoint written by fcnlab-train"));

  ToyFcn net(1, 2, 2, 1);
  const std::string missing = dir.file("no_such_dir/ck.safetensors");
  CHECK_THROWS_WITH(save_model_checkpoint(missing, net, nullptr, nullptr, toy_meta(2)),
                    doctest::Contains("no_such_dir"));
  CHECK_FALSE(fs::exists(dir / "no_such_dir"));
  CHECK(dir.listing() == std::vector<std::string>{"toy.safetensors"});

  // has_head and the head argument must agree.
  ModelMeta m = toy_meta(2);
  m.has_head = true;
  CHECK_THROWS_WITH(save_model_checkpoint(dir / "h.safetensors", net, nullptr, nullptr, m),
                    doctest::Contains("has_head"));
  CHECK_FALSE(fs::exists(dir / "h.safetensors"));
}

TEST_CASE("model_io: the classifier head scores the global maximum of each channel") {
  ClassifierHead head(2, 0);
  Tensor w = head.parameter("fc.weight");
  w.set_flat(0, 1.0);
  w.set_flat(1, -2.0);
  head.parameter("fc.bias").set_flat(0, 0.5);
  // Channel 0's max is 3 (at one pixel), channel 1's max is 1.
  Tensor f = Tensor::zeros({1, 2, 3, 4});
  f.set_flat(5, 3.0);
  f.set_flat(12 + 7, 1.0);
  f.set_flat(12 + 8, -4.0);
  Tensor logit = head(f);
  REQUIRE(logit.shape() == Shape{1});
  CHECK(logit.item() == doctest::Approx(3.0 - 2.0 + 0.5));
  CHECK_THROWS_WITH(head(Tensor::zeros({1, 3, 2, 2})), doctest::Contains("expected 2 feature channels"));
}
