// bench_loader.cpp — loader throughput: 1024x1024 PNG phantoms (generated once into a temporary
// directory) -> decode -> area resize to 512x512 -> flip/shift-scale-rotate/intensity
// augmentation -> ImageNet-normalised f32 (N, 3, 512, 512) batches. Reports images/s per worker
// count (real time, since the work is on the loader's threads), plus single-thread decode alone.
//   ./build/bench/fcnlab-bench-cpu --benchmark_filter=Loader
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "data/loader.h"
#include "data/phantom.h"

namespace {

const int kImages = 32;

// The phantom set, generated on first use and removed at exit.
const std::string& phantom_dir() {
  static const std::string dir = [] {
    std::string d = (std::filesystem::temp_directory_path() /
                     ("fcnlab_bench_loader_" + std::to_string(::getpid())))
                        .string();
    fcnlab::data::PhantomSetOptions o;
    o.count = kImages;
    o.size = 1024;
    o.seed = 1;
    o.test_fraction = 0.0;
    o.compress_png = true;  // inflate cost like the release's zlib-compressed PNGs
    fcnlab::data::write_phantom_set(d, o);
    static std::string to_remove = d;
    std::atexit([] { std::filesystem::remove_all(to_remove); });
    return d;
  }();
  return dir;
}

void BM_LoaderPng1024ToAugmented512(benchmark::State& state) {
  using namespace fcnlab::data;
  auto src = std::make_shared<SiimSource>(SiimPngDataset::open(phantom_dir()), siim::Split::train);
  LoaderConfig c;
  c.batch_size = 8;
  c.size = 512;
  c.workers = static_cast<int>(state.range(0));
  c.prefetch = 4;
  c.augment.enabled = true;
  c.augment.ssr_p = 1.0;  // every sample warped: the slow path
  c.augment.color_p = 1.0;
  Loader loader(src, c);
  int epoch = 0;
  int64_t images = 0;
  // process CPU time per image: independent of how busy the machine is
  auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  };
  const double cpu0 = cpu_now();
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    Batch b;
    while (loader.next(b)) {
      images += b.image.size(0);
      benchmark::DoNotOptimize(b.image.raw_data());
    }
  }
  const double cpu_s = cpu_now() - cpu0;
  state.SetItemsProcessed(images);
  state.counters["images/s"] = benchmark::Counter(double(images), benchmark::Counter::kIsRate);
  state.counters["cpu_ms/image"] = images ? 1e3 * cpu_s / double(images) : 0.0;
}
BENCHMARK(BM_LoaderPng1024ToAugmented512)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("workers")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_LoaderDecodePng1024(benchmark::State& state) {
  using namespace fcnlab::data;
  const std::string path = phantom_dir() + "/png_images/0_train_0_.png";
  std::string file = std::filesystem::exists(path) ? path : "";
  for (const auto& e : std::filesystem::directory_iterator(phantom_dir() + "/png_images")) {
    if (file.empty()) file = e.path().string();
    break;
  }
  for (auto _ : state) benchmark::DoNotOptimize(read_png_gray8(file).pixels.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LoaderDecodePng1024)->Unit(benchmark::kMillisecond);

}  // namespace
