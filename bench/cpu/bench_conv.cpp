// bench_conv.cpp — CPU conv2d forward on the VGG16 3x3/pad-1 layers (batch 1), the shapes that
// dominate an FCN forward pass; plus the raw SGEMM on the matching GEMM sizes. The GFLOP/s
// counter is 2 * MACs / wall time (the threads run in parallel, so wall time, not CPU time).
// Compare with bench/pytorch_cpu_conv.py (same shapes, 2 threads); scripts/bench-cpu.sh runs both.
#include <benchmark/benchmark.h>

#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/gemm.h"

using namespace fcnlab;

namespace {

// VGG16 conv layer: C -> C channels, 3x3, pad 1, on an HW x HW image.
void BM_conv2d_vgg(benchmark::State& state) {
  const int64_t C = state.range(0), HW = state.range(1);
  Generator gen(1);
  Tensor x = Tensor::uniform({1, C, HW, HW}, -1, 1, gen);
  Tensor w = Tensor::uniform({C, C, 3, 3}, -0.1, 0.1, gen);
  Tensor b = Tensor::uniform({C}, -0.1, 0.1, gen);
  NoGrad ng;
  for (auto _ : state) {
    Tensor y = conv2d(x, w, b, Conv2dOptions::make(1, 1));
    benchmark::DoNotOptimize(y.raw_data());
  }
  const double flops = 2.0 * static_cast<double>(C * C * 9 * HW * HW);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_conv2d_vgg)
    ->ArgNames({"C", "HW"})
    ->Args({64, 224})
    ->Args({128, 112})
    ->Args({256, 56})
    ->Args({512, 28})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The GEMM of each layer above with a plain (already lowered) B: M = C, N = HW^2, K = 9C.
void BM_sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  std::vector<float> a(static_cast<size_t>(M * K), 0.5f), b(static_cast<size_t>(K * N), 0.25f);
  std::vector<float> c(static_cast<size_t>(M * N));
  for (auto _ : state) {
    kernels::cpu::sgemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(M * N * K) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_sgemm)
    ->ArgNames({"M", "N", "K"})
    ->Args({64, 50176, 576})
    ->Args({512, 784, 4608})
    ->Args({1024, 1024, 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
