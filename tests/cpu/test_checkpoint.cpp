// Atomic file writes and fcnlab checkpoints: a failed write leaves neither a file nor a temp
// file, a missing folder is a clear error, an existing checkpoint is replaced only by a complete
// one; checkpoints round-trip model, optimizer and JSON meta, and a plain safetensors file is
// told apart from a checkpoint.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/serialize/atomic_file.h"
#include "engine/serialize/checkpoint.h"
#include "engine/serialize/safetensors.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;
namespace fs = std::filesystem;

namespace {

using test::TempDir;


std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

void check_same_maps(const TensorMap& got, const TensorMap& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [name, t] : want) {
    INFO("tensor ", name);
    REQUIRE(got.count(name) == 1);
    CHECK(same_bytes(got.at(name), t));
  }
}

Checkpoint sample_checkpoint(float scale) {
  Generator gen(7);
  Checkpoint ck;
  ck.model["conv1_1.weight"] = Tensor::normal({4, 3, 3, 3}, 0.0, scale, gen);
  ck.model["conv1_1.bias"] = Tensor::full({4}, scale);
  ck.model["bn.num_batches"] = Tensor::from_vector<int32_t>({12}, Shape{});
  ck.optimizer["conv1_1.weight.momentum"] = Tensor::uniform({4, 3, 3, 3}, -1.0, 1.0, gen);
  ck.optimizer["conv1_1.bias.momentum"] = Tensor::zeros({4}, DType::f64);
  ck.optimizer["step"] = Tensor::from_vector<int32_t>({1000}, Shape{});
  ck.meta = {{"epoch", 3},
             {"lr", 1e-4},
             {"model", "fcn8s"},
             {"history", {{{"loss", 0.5}, {"dice", 0.25}}, {{"loss", 0.375}, {"dice", 0.5}}}},
             {"note", "quotes \" and \xc3\xa9"}};
  return ck;
}

// Stands in for a CUDA backend when none is built in: host memory behind the device's
// allocator, every transfer counted, so a test can see that saving went through copy_bytes.
struct FakeDevice {
  struct Alloc final : Allocator {
    void* allocate(size_t n) override { return n ? std::malloc(n) : nullptr; }
    void deallocate(void* p, size_t) override { std::free(p); }
  };
  static inline Alloc alloc;
  static inline int to_host = 0;
  static void copy(void* dst, Device dd, const void* src, Device sd, size_t n) {
    if (dd.is_cpu() && sd.is_cuda()) ++to_host;
    if (n) std::memcpy(dst, src, n);
  }
  bool installed = false;
  FakeDevice() {
    try {
      allocator_for(Device::cuda());  // a real backend is there: use it
    } catch (const Error&) {
      register_device_backend(DeviceType::cuda, &alloc, &copy);
      installed = true;
    }
  }
  ~FakeDevice() {
    if (installed) register_device_backend(DeviceType::cuda, nullptr, nullptr);
  }
};

}  // namespace

TEST_CASE("atomic file: a complete write lands at the path, with no temp file left") {
  TempDir dir;
  const std::string p = dir.file("out.txt");
  write_file_atomic(p, "hello", 5);
  CHECK(read_text(p) == "hello");
  write_file_atomic(p, [](AtomicFile& f) {
    f.write("new ");
    f.write("content");
  });
  CHECK(read_text(p) == "new content");
  CHECK(dir.listing() == std::vector<std::string>{"out.txt"});
  CHECK(atomic_temp_path(p) == p + ".tmp-" + std::to_string(::getpid()));
}

TEST_CASE("atomic file: a failed write leaves no file and no temp file") {
  TempDir dir;
  const std::string p = dir.file("out.bin");
  CHECK_THROWS_WITH_AS(write_file_atomic(p,
                                         [&](AtomicFile& f) {
                                           f.write("partial");
                                           // The temp file exists while writing, beside the target.
                                           CHECK(fs::exists(atomic_temp_path(p)));
                                           FCNLAB_FAIL("disk went away");
                                         }),
                       "disk went away", Error);
  CHECK_FALSE(fs::exists(p));
  CHECK(dir.listing().empty());
  {
    AtomicFile f(p);
    f.write("never committed");
  }  // destroyed without commit()
  CHECK(dir.listing().empty());
  AtomicFile g(p);
  g.write("x");
  g.commit();
  CHECK_THROWS_WITH_AS(g.write("y"), doctest::Contains("already committed"), Error);
  CHECK(read_text(p) == "x");
}

TEST_CASE("atomic file: a missing folder is a clear error naming the path") {
  TempDir dir;
  const std::string p = dir.file("no/such/folder/ck.safetensors");
  std::string msg;
  try {
    write_file_atomic(p, "x", 1);
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("cannot write '" + p + "'") != std::string::npos);
  CHECK(msg.find("does not exist") != std::string::npos);
  CHECK(msg.find("No such file or directory") != std::string::npos);
  CHECK_THROWS_WITH_AS(save_checkpoint(p, sample_checkpoint(1.f)),
                       doctest::Contains("does not exist"), Error);
  CHECK(dir.listing().empty());
  // A path whose "folder" is a regular file cannot be written either.
  write_file_atomic(dir.file("plain"), "x", 1);
  CHECK_THROWS_WITH_AS(write_file_atomic(dir.file("plain") + "/ck", "x", 1),
                       doctest::Contains("cannot write"), Error);
}

TEST_CASE("checkpoint: model, optimizer and meta round-trip exactly") {
  TempDir dir;
  const Checkpoint ck = sample_checkpoint(0.5f);
  const std::string p = dir.file("epoch3.safetensors");
  save_checkpoint(p, ck);
  Checkpoint back = load_checkpoint(p);
  check_same_maps(back.model, ck.model);
  check_same_maps(back.optimizer, ck.optimizer);
  CHECK(back.meta == ck.meta);
  CHECK(back.meta["history"][1]["dice"].get<double>() == 0.5);
  CHECK(dir.listing() == std::vector<std::string>{"epoch3.safetensors"});

  // It is a plain safetensors file with prefixed names and the documented metadata.
  SafetensorsContents raw = load_safetensors(p);
  CHECK(raw.tensors.count("model/conv1_1.weight") == 1);
  CHECK(raw.tensors.count("optim/step") == 1);
  CHECK(raw.tensors.size() == 6);
  CHECK(raw.metadata.at("format") == "fcnlab-checkpoint");
  CHECK(raw.metadata.at("version") == "1");
  CHECK(nlohmann::json::parse(raw.metadata.at("meta")) == ck.meta);

  // Empty maps and null meta also round-trip.
  save_checkpoint(p, Checkpoint{});
  Checkpoint empty = load_checkpoint(p);
  CHECK(empty.model.empty());
  CHECK(empty.optimizer.empty());
  CHECK(empty.meta.is_null());
}

TEST_CASE("checkpoint: an existing checkpoint is replaced only when the new one is complete") {
  TempDir dir;
  const std::string p = dir.file("last.safetensors");
  const Checkpoint a = sample_checkpoint(1.f);
  save_checkpoint(p, a);
  const std::string bytes_a = read_text(p);

  // A writer that dies part-way through the new file.
  CHECK_THROWS_AS(write_file_atomic(p,
                                    [&](AtomicFile& f) {
                                      f.write(bytes_a.substr(0, bytes_a.size() / 2));
                                      FCNLAB_FAIL("interrupted");
                                    }),
                  Error);
  CHECK(read_text(p) == bytes_a);
  // A checkpoint that cannot be serialized (an undefined tensor).
  Checkpoint bad = sample_checkpoint(2.f);
  bad.optimizer["broken"] = Tensor();
  CHECK_THROWS_WITH_AS(save_checkpoint(p, bad), doctest::Contains("'optim/broken' is undefined"),
                       Error);
  CHECK(read_text(p) == bytes_a);
  check_same_maps(load_checkpoint(p).model, a.model);
  CHECK(dir.listing() == std::vector<std::string>{"last.safetensors"});

  // A complete new checkpoint does replace it.
  const Checkpoint b = sample_checkpoint(3.f);
  save_checkpoint(p, b);
  Checkpoint back = load_checkpoint(p);
  check_same_maps(back.model, b.model);
  CHECK(back.model.at("conv1_1.bias").flat(0) == 3.0);
  CHECK(dir.listing() == std::vector<std::string>{"last.safetensors"});
}

TEST_CASE("checkpoint: plain safetensors, other versions and stray tensors are clear errors") {
  TempDir dir;
  TensorMap weights;
  weights["conv1_1.weight"] = Tensor::zeros({2, 3, 3, 3});
  const std::string plain = dir.file("vgg16.safetensors");
  save_safetensors(plain, weights, {{"format", "pt"}});
  CHECK_THROWS_WITH_AS(load_checkpoint(plain),
                       doctest::Contains("a valid safetensors file but not an fcnlab checkpoint"),
                       Error);
  save_safetensors(plain, weights);
  CHECK_THROWS_WITH_AS(load_checkpoint(plain), doctest::Contains("got no \"format\""), Error);

  TensorMap prefixed;
  prefixed["model/w"] = Tensor::zeros({1});
  save_safetensors(plain, prefixed, {{"format", "fcnlab-checkpoint"}, {"version", "2"}});
  CHECK_THROWS_WITH_AS(load_checkpoint(plain), doctest::Contains("checkpoint version \"2\""), Error);

  prefixed["extra/w"] = Tensor::zeros({1});
  save_safetensors(plain, prefixed, {{"format", "fcnlab-checkpoint"}, {"version", "1"}});
  CHECK_THROWS_WITH_AS(load_checkpoint(plain),
                       doctest::Contains("tensor 'extra/w' is neither under \"model/\" nor \"optim/\""),
                       Error);

  save_safetensors(plain, {}, {{"format", "fcnlab-checkpoint"}, {"version", "1"}, {"meta", "{oops"}});
  CHECK_THROWS_WITH_AS(load_checkpoint(plain), doctest::Contains("\"meta\" is not valid JSON"), Error);

  // Not a safetensors file at all: the safetensors error, naming the path.
  const std::string zip = "PK\x03\x04 not safetensors";
  write_file_atomic(plain, zip.data(), zip.size());
  CHECK_THROWS_WITH_AS(load_checkpoint(plain), doctest::Contains("header too large"), Error);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir.file("missing.safetensors")),
                       doctest::Contains("no such file"), Error);
}

TEST_CASE("checkpoint: tensors on a CUDA device are copied to the host for saving") {
  FakeDevice dev;
  TempDir dir;
  const Checkpoint host = sample_checkpoint(1.5f);
  Checkpoint on_device = host;
  for (auto& [name, t] : on_device.model) t = t.to(Device::cuda());
  for (auto& [name, t] : on_device.optimizer) t = t.to(Device::cuda());
  REQUIRE(on_device.model.at("conv1_1.weight").device().is_cuda());
  FakeDevice::to_host = 0;
  save_checkpoint(dir.file("gpu.safetensors"), on_device);
  if (dev.installed) CHECK(FakeDevice::to_host == 6);  // one transfer per tensor
  Checkpoint back = load_checkpoint(dir.file("gpu.safetensors"));
  CHECK(back.model.at("conv1_1.weight").device().is_cpu());
  check_same_maps(back.model, host.model);
  check_same_maps(back.optimizer, host.optimizer);
  // Byte for byte what saving the host copies gives.
  save_checkpoint(dir.file("cpu.safetensors"), host);
  CHECK(read_text(dir.file("gpu.safetensors")) == read_text(dir.file("cpu.safetensors")));
}
