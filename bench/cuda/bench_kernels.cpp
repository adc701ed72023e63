// bench_kernels.cpp — fcnlab-bench: the hand-written CUDA kernels against cuDNN/cuBLAS at the
// FCN-VGG16 layer shapes of a 500x500 input (conv1_1 pads by 100, so conv1 runs at 698x698).
// Protocol (shared/reference/performance.md §5): both sides fp32 with TF32 OFF (stated in the
// context; FCNLAB_TF32=1 turns it on for cuDNN/cuBLAS only, then say so), same tensors, 3 warm-up
// calls (these also run cuDNN's algorithm search), then each timed iteration flushes L2 by
// writing a 2x-L2 buffer and times the op alone with CUDA events (manual time).
// Rates and ratios use the median iteration (counter median_ms; Google Benchmark's own time
// column is the mean). Counters: TFLOP/s (convs), GB/s (memory-bound ops), pct_of_cudnn (hand rows: cuDNN time /
// hand time x 100, from the cuDNN row of the same shape run just before), pct_of_copy (GB/s as
// a percentage of the measured device-to-device copy bandwidth). Rows ending in /hand-gemm,
// /hand-direct and /hand-winograd force one of conv2d's forward kernels (FCNLAB_CONV_FORWARD), or
// of its gradients' (conv2d_bwd_data / conv2d_bwd_filter rows, FCNLAB_CONV_BACKWARD_DATA /
// FCNLAB_CONV_BACKWARD_WEIGHT); /hand is the
// automatic choice, the one the engine ships. Conv TFLOP/s always count the direct
// convolution's 2 x MACs, so Winograd's rate is an effective one (it does 2.25x fewer multiplies).
// Kernels that are still stubs (kernels/cuda/pending.cu) report an error row, never a number.
// Own flags (before Google Benchmark's): --batches=1,8  --iters=N (timed iterations, default 20)
// --smoke (tiny shapes; CI runs it under simt to check the harness, the rows and the JSON).
// Usage: fcnlab-bench --benchmark_out=bench.json --benchmark_out_format=json
#include <benchmark/benchmark.h>
#if defined(FCNLAB_GPU_SIMT)
#include "kernels/simt/runtime.h"  // the runtime API on the CPU (smoke runs in CI)
#else
#include <cuda_runtime.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/cuda/bench_args.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif

namespace fcnlab::kernels::cuda {
cudaStream_t stream();  // kernels/cuda/device.cu: the stream every fcnlab kernel runs on
}

using namespace fcnlab;
namespace kc = fcnlab::kernels::cuda;

namespace {

int g_iters = 20;
// --smoke (CI, under simt): every row at a tiny size (channels / 32, maps / 40), a 1 MiB copy for
// the bandwidth and a 1 MiB L2 flush: it checks the harness, the rows and the JSON, not speed.
bool g_smoke = false;
int64_t ch(int64_t c) { return g_smoke && c > 4 ? std::max<int64_t>(2, c / 32) : c; }
int64_t hw(int64_t h, int64_t at_least = 4) { return g_smoke ? std::max(at_least, h / 40) : h; }
double g_copy_gbps = 0;                 // measured device-to-device copy bandwidth
std::map<std::string, double> g_cudnn;  // shape key -> cuDNN seconds per call

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

// A buffer of 2x the L2 size; writing it evicts the previous iteration's data from L2.
struct L2Flush {
  void* p = nullptr;
  size_t bytes = 0;
  L2Flush() {
    int dev = 0;
    cudaDeviceProp prop{};
    check(cudaGetDevice(&dev), "cudaGetDevice");
    check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
    bytes = g_smoke ? size_t(1) << 20 : 2 * static_cast<size_t>(prop.l2CacheSize > 0 ? prop.l2CacheSize : (64 << 20));
    check(cudaMalloc(&p, bytes), "cudaMalloc(L2 flush)");
  }
  void operator()() { check(cudaMemsetAsync(p, static_cast<int>(bytes & 0xff), bytes, kc::stream()), "flush"); }
};
L2Flush& l2_flush() {
  static L2Flush f;
  return f;
}

// Times fn per the protocol; returns the median seconds per call, or -1 after SkipWithError on an Error.
double run_timed(benchmark::State& state, const std::function<void()>& fn) {
  try {
    for (int i = 0; i < 3; ++i) fn();  // warm-up; a stub throws here
    kc::synchronize();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    for (auto _ : state) {}
    return -1;
  }
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  std::vector<double> times;
  for (auto _ : state) {
    l2_flush()();
    check(cudaEventRecord(start, kc::stream()), "cudaEventRecord");
    fn();
    check(cudaEventRecord(stop, kc::stream()), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    state.SetIterationTime(ms * 1e-3);
    times.push_back(ms * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (times.empty()) return -1;
  std::sort(times.begin(), times.end());  // the median: robust to a stray slow iteration
  const double median = times[times.size() / 2];
  state.counters["median_ms"] = median * 1e3;
  return median;
}

// Records the counters of one row: throughput, and the hand-vs-library ratio.
void report(benchmark::State& state, double secs, const std::string& key, bool is_cudnn, double flops,
            double bytes) {
  if (secs <= 0) return;
  if (flops > 0) state.counters["TFLOP/s"] = flops / secs * 1e-12;
  if (bytes > 0) {
    state.counters["GB/s"] = bytes / secs * 1e-9;
    if (g_copy_gbps > 0) state.counters["pct_of_copy"] = 100.0 * bytes / secs * 1e-9 / g_copy_gbps;
  }
  if (is_cudnn) {
    g_cudnn[key] = secs;
  } else if (auto it = g_cudnn.find(key); it != g_cudnn.end()) {
    state.counters["pct_of_cudnn"] = 100.0 * it->second / secs;
  }
}

// ||a - b|| / ||b|| over all elements, in double on the host (a, b: f32 on the device); the
// hand-vs-cuDNN agreement counter (unused in a build without cuDNN).
[[maybe_unused]] double rel_err(const Tensor& a, const Tensor& b) {
  kc::synchronize();
  Tensor ha = a.to(Device::cpu()), hb = b.to(Device::cpu());
  const float* pa = ha.data<float>();
  const float* pb = hb.data<float>();
  double num = 0, den = 0;
  for (int64_t i = 0; i < ha.numel(); ++i) {
    const double d = double(pa[i]) - double(pb[i]);
    num += d * d;
    den += double(pb[i]) * double(pb[i]);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

Tensor rand_cuda(const Shape& s, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  return Tensor::uniform(s, lo, hi, gen).to(Device::cuda());
}

// ---- convolution layers of FCN-VGG16 at 500x500 (input H of each layer; conv1_1 pad 100)
struct ConvLayer {
  const char* name;
  int64_t C, K, H;  // input channels, output channels, input height = width
  int R, stride, pad;
};
const std::vector<ConvLayer> kConvLayers = {
    {"conv1_1", 3, 64, 500, 3, 1, 100},   {"conv1_2", 64, 64, 698, 3, 1, 1},
    {"conv2_1", 64, 128, 349, 3, 1, 1},   {"conv2_2", 128, 128, 349, 3, 1, 1},
    {"conv3_1", 128, 256, 175, 3, 1, 1},  {"conv3_2", 256, 256, 175, 3, 1, 1},
    {"conv4_1", 256, 512, 88, 3, 1, 1},   {"conv4_2", 512, 512, 88, 3, 1, 1},
    {"conv5_x", 512, 512, 44, 3, 1, 1},   {"fc6", 512, 4096, 22, 7, 1, 0},
    {"fc7", 4096, 4096, 16, 1, 1, 0},
};
// Small reductions, where conv2d's forward may take the direct kernel instead of the implicit
// GEMM (kernels.h conv2d_forward_path_for): the first conv on a grey X-ray, FCN-8s's 2-class score
// layers at 500x500 and a 2-class 1x1 head at full resolution (U-Net). Each is timed with the
// automatic choice ("hand") and with either kernel forced ("hand-gemm", "hand-direct"), as is
// conv1_1 of the list above, so a GPU run shows whether the automatic rule picks the faster one.
const std::vector<ConvLayer> kSmallConvs = {
    {"conv1_1_grey", 1, 64, 500, 3, 1, 100}, {"score_pool3", 256, 2, 88, 1, 1, 0},
    {"score_pool4", 512, 2, 44, 1, 1, 0},    {"score_fr", 4096, 2, 16, 1, 1, 0},
    {"head_1x1_64to2", 64, 2, 500, 1, 1, 0},
};
// Transposed convolutions (run as conv2d_backward_data): FCN-32s upscore and FCN-16s/8s upscore2.
struct Upsample {
  const char* name;
  int64_t C, H_in;
  int R, stride;
};
// At 500x500: FCN-32s upscore (16x16 -> 544), FCN-AlexNet/GoogLeNet upscore (-> 543), FCN-16s
// upscore16 (34x34 -> 560), FCN-8s upscore8 (70x70 -> 568), upscore2 (16x16 -> 34).
const std::vector<Upsample> kUpsamples = {{"upscore32_64x64_s32", 21, 16, 64, 32},
                                          {"upscore_alexnet_63x63_s32", 21, 16, 63, 32},
                                          {"upscore16_32x32_s16", 21, 34, 32, 16},
                                          {"upscore8_16x16_s8", 21, 70, 16, 8},
                                          {"upscore2_4x4_s2", 21, 16, 4, 2}};

enum class Pass { fwd, bwd_data, bwd_filter };
const char* pass_name(Pass p) { return p == Pass::fwd ? "fwd" : p == Pass::bwd_data ? "bwd_data" : "bwd_filter"; }

// Each forced kernel for one benchmark, restoring the previous choice after.
template <class E>
using Scoped = kc::ScopedSwitch<E>;

void bench_conv(benchmark::State& state, ConvLayer L, Pass pass, int64_t N, bool use_cudnn,
                kc::ConvForwardPath path = kc::ConvForwardPath::automatic,
                kc::ConvBackwardDataPath bwd_path = kc::ConvBackwardDataPath::automatic,
                kc::ConvBackwardWeightPath bww_path = kc::ConvBackwardWeightPath::automatic) {
  const Scoped<kc::ConvForwardPath> fwd_scope(kc::conv_forward_path, kc::set_conv_forward_path, path);
  const Scoped<kc::ConvBackwardDataPath> bwd_scope(kc::conv_backward_data_path, kc::set_conv_backward_data_path,
                                                   bwd_path);
  const Scoped<kc::ConvBackwardWeightPath> bww_scope(kc::conv_backward_weight_path,
                                                     kc::set_conv_backward_weight_path, bww_path);
  L.C = ch(L.C), L.K = ch(L.K), L.H = hw(L.H, L.R + 1);
  const Conv2dOptions o = Conv2dOptions::make(L.stride, L.pad);
  const int64_t P = conv_output_size(L.H, L.R, L.stride, L.pad, 1);
  Tensor x = rand_cuda({N, L.C, L.H, L.H}, -1, 1, 1), w = rand_cuda({L.K, L.C, L.R, L.R}, -0.1, 0.1, 2);
  Tensor b = rand_cuda({L.K}, -0.1, 0.1, 3), y = rand_cuda({N, L.K, P, P}, -1, 1, 4);
  Tensor dw = Tensor::empty({L.K, L.C, L.R, L.R}, DType::f32, Device::cuda());
  std::function<void()> fn;
  (void)use_cudnn;
#if defined(FCNLAB_WITH_CUDNN)
  if (use_cudnn) {
    namespace kd = fcnlab::kernels::cudnn;
    if (pass == Pass::fwd) fn = [&] { kd::conv2d_forward(x, w, b, y, o); };
    if (pass == Pass::bwd_data) fn = [&] { kd::conv2d_backward_data(y, w, x, o); };
    if (pass == Pass::bwd_filter) fn = [&] { kd::conv2d_backward_weight(x, y, dw, o); };
  }
#endif
  if (!fn) {
    if (pass == Pass::fwd) fn = [&] { kc::conv2d_forward(x, w, b, y, o); };
    if (pass == Pass::bwd_data) fn = [&] { kc::conv2d_backward_data(y, w, x, o); };
    if (pass == Pass::bwd_filter) fn = [&] { kc::conv2d_backward_weight(x, y, dw, o); };
  }
  const double flops = 2.0 * N * L.K * L.C * L.R * L.R * P * P;  // same MACs in all three passes
  const double secs = run_timed(state, fn);
#if defined(FCNLAB_WITH_CUDNN)
  if (!use_cudnn && secs > 0) {  // correctness beside speed: the hand result against cuDNN's
    namespace kd = fcnlab::kernels::cudnn;
    if (pass == Pass::fwd) {
      Tensor ref = Tensor::empty(y.shape(), DType::f32, Device::cuda());
      kd::conv2d_forward(x, w, b, ref, o);
      state.counters["rel_err_vs_cudnn"] = rel_err(y, ref);
    } else if (pass == Pass::bwd_data) {
      Tensor ref = Tensor::empty(x.shape(), DType::f32, Device::cuda());
      kd::conv2d_backward_data(y, w, ref, o);
      state.counters["rel_err_vs_cudnn"] = rel_err(x, ref);
    } else {
      Tensor ref = Tensor::empty(dw.shape(), DType::f32, Device::cuda());
      kd::conv2d_backward_weight(x, y, ref, o);
      state.counters["rel_err_vs_cudnn"] = rel_err(dw, ref);
    }
  }
#endif
  std::ostringstream key;
  key << "conv/" << L.name << "/" << pass_name(pass) << "/N" << N;
  report(state, secs, key.str(), use_cudnn, flops, 0);
}

void bench_upsample(benchmark::State& state, Upsample U, int64_t N, bool use_cudnn) {
  U.C = ch(U.C), U.H_in = hw(U.H_in, 2);
  const Conv2dOptions o = Conv2dOptions::make(U.stride, 0);
  const int64_t H_out = (U.H_in - 1) * U.stride + U.R;
  Tensor in = rand_cuda({N, U.C, U.H_in, U.H_in}, -1, 1, 5), w = rand_cuda({U.C, U.C, U.R, U.R}, -0.1, 0.1, 6);
  Tensor out = Tensor::empty({N, U.C, H_out, H_out}, DType::f32, Device::cuda());
  std::function<void()> fn = [&] { kc::conv2d_backward_data(in, w, out, o); };
#if defined(FCNLAB_WITH_CUDNN)
  if (use_cudnn) fn = [&] { fcnlab::kernels::cudnn::conv2d_backward_data(in, w, out, o); };
#endif
  const double flops = 2.0 * N * U.C * U.C * U.R * U.R * U.H_in * U.H_in;  // dense, as Caffe executes it
  const double secs = run_timed(state, fn);
#if defined(FCNLAB_WITH_CUDNN)
  if (!use_cudnn && secs > 0) {  // the hand result against cuDNN's, beside the time
    Tensor ref = Tensor::empty(out.shape(), DType::f32, Device::cuda());
    fcnlab::kernels::cudnn::conv2d_backward_data(in, w, ref, o);
    state.counters["rel_err_vs_cudnn"] = rel_err(out, ref);
  }
#endif
  report(state, secs, std::string("upsample/") + U.name + "/N" + std::to_string(N), use_cudnn, flops, 0);
}

void bench_softmax(benchmark::State& state, int64_t N, bool use_cudnn) {
  const int64_t S = hw(500);
  Tensor x = rand_cuda({N, 21, S, S}, -4, 4, 7);
  Tensor y = Tensor::empty(x.shape(), DType::f32, Device::cuda());
  std::function<void()> fn = [&] { kc::softmax_forward(x, y); };
#if defined(FCNLAB_WITH_CUDNN)
  if (use_cudnn) fn = [&] { fcnlab::kernels::cudnn::softmax_forward(x, y); };
#endif
  report(state, run_timed(state, fn), "softmax/N" + std::to_string(N), use_cudnn, 0, 2.0 * x.nbytes());
}

void bench_max_pool(benchmark::State& state, int64_t C, int64_t H, int64_t N) {
  C = ch(C), H = hw(H);
  Tensor x = rand_cuda({N, C, H, H}, -1, 1, 8);
  NoGrad ng;
  const MaxPool2dOptions o = MaxPool2dOptions::make(2, 2, 0, true);
  const int64_t P = pool_output_size(H, 2, 2, 0, true);
  Tensor y = Tensor::empty({N, C, P, P}, DType::f32, Device::cuda());
  Tensor arg = Tensor::empty({N, C, P, P}, DType::i32, Device::cuda());
  const double bytes = double(x.nbytes() + y.nbytes() + arg.nbytes());
  report(state, run_timed(state, [&] { kc::max_pool2d_forward(x, o, y, arg); }), "pool", false, 0, bytes);
}

void bench_cross_entropy(benchmark::State& state, int64_t N) {
  const int64_t S = hw(500);
  Tensor logits = rand_cuda({N, 21, S, S}, -4, 4, 9);
  Generator gen(10);  // classes 0..20, as VOC's 21
  Tensor target = Tensor::uniform({N, S, S}, 0, 20.999, gen).to(DType::i32).to(Device::cuda());
  NoGrad ng;
  const double bytes = double(logits.nbytes() + target.nbytes());
  report(state, run_timed(state, [&] { benchmark::DoNotOptimize(cross_entropy(logits, target).raw_data()); }),
         "ce", false, 0, bytes);
}

void bench_dice(benchmark::State& state, int64_t N) {
  const int64_t S = hw(500);
  Tensor prob = rand_cuda({N, 21, S, S}, 0, 1, 11);
  Tensor target = rand_cuda({N, 21, S, S}, 0, 1, 12);  // timing only: values need not be 0/1
  NoGrad ng;
  const double bytes = double(prob.nbytes() + target.nbytes());
  report(state, run_timed(state, [&] { benchmark::DoNotOptimize(dice_loss(prob, target).raw_data()); }),
         "dice", false, 0, bytes);
}

// Device-to-device copy of 256 MiB, best of 10: the bandwidth memory-bound kernels are judged by.
double measure_copy_gbps() {
  const size_t bytes = size_t(g_smoke ? 1 : 256) << 20;
  void *a = nullptr, *b = nullptr;
  check(cudaMalloc(&a, bytes), "cudaMalloc");
  check(cudaMalloc(&b, bytes), "cudaMalloc");
  cudaEvent_t s, e;
  cudaEventCreate(&s);
  cudaEventCreate(&e);
  float best = 1e30f;
  // ~2 s of copies first: clocks take seconds to settle from idle (CUTLASS methodology notes).
  for (int i = 0; i < (g_smoke ? 3 : 15000); ++i)
    check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, kc::stream()), "warm-up");
  check(cudaStreamSynchronize(kc::stream()), "cudaStreamSynchronize");
  for (int i = 0; i < 12; ++i) {
    cudaEventRecord(s, kc::stream());
    check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, kc::stream()), "cudaMemcpyAsync");
    cudaEventRecord(e, kc::stream());
    cudaEventSynchronize(e);
    float ms = 0;
    cudaEventElapsedTime(&ms, s, e);
    if (i >= 2 && ms < best) best = ms;
  }
  cudaEventDestroy(s);
  cudaEventDestroy(e);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (best * 1e-3) * 1e-9;  // read + write
}

template <class F>
void add(const std::string& name, F f) {
  benchmark::RegisterBenchmark(name.c_str(), f)->UseManualTime()->Iterations(g_iters)->Unit(benchmark::kMillisecond);
}

void register_all(const std::vector<int64_t>& batches) {
  const bool have_cudnn =
#if defined(FCNLAB_WITH_CUDNN)
      true;
#else
      false;
#endif
  for (int64_t N : batches) {
    const std::string nb = "/N" + std::to_string(N);
    for (const ConvLayer& L : kConvLayers)
      for (Pass p : {Pass::fwd, Pass::bwd_data, Pass::bwd_filter})
        for (bool cd : {true, false}) {
          if (cd && !have_cudnn) continue;
          add(std::string("conv2d_") + pass_name(p) + "/" + L.name + nb + (cd ? "/cudnn" : "/hand"),
              [=](benchmark::State& s) { bench_conv(s, L, p, N, cd); });
        }
    // The forward's hand-written kernels side by side: the implicit GEMM, the direct kernel where
    // the reduction is small, Winograd on 3x3 stride-1 layers (conv1_1 .. conv5_x). The
    // cuDNN row runs first: the hand rows' pct_of_cudnn needs its time.
    const auto fwd_variants = [&](const ConvLayer& L, bool with_own_rows, std::vector<kc::ConvForwardPath> paths) {
      const std::string base = std::string("conv2d_fwd/") + L.name + nb;
      if (with_own_rows && have_cudnn)
        add(base + "/cudnn", [=](benchmark::State& s) { bench_conv(s, L, Pass::fwd, N, true); });
      if (with_own_rows) add(base + "/hand", [=](benchmark::State& s) { bench_conv(s, L, Pass::fwd, N, false); });
      if (L.R == 3 && L.stride == 1) paths.push_back(kc::ConvForwardPath::winograd);
      for (kc::ConvForwardPath p : paths)
        add(base + "/hand-" + kc::conv_forward_path_name(p),
            [=](benchmark::State& s) { bench_conv(s, L, Pass::fwd, N, false, p); });
    };
    using FP = kc::ConvForwardPath;
    fwd_variants(kConvLayers.front(), false, {FP::gemm, FP::direct});  // conv1_1: hand and cuDNN rows are above
    for (size_t i = 1; i < kConvLayers.size(); ++i)
      if (kConvLayers[i].R == 3) fwd_variants(kConvLayers[i], false, {FP::gemm});
    for (const ConvLayer& L : kSmallConvs) fwd_variants(L, true, {FP::gemm, FP::direct});
    // The data gradient's two hand-written kernels on the 3x3 stride-1 layers (its /hand and
    // /cudnn rows are above).
    for (const ConvLayer& L : kConvLayers)
      if (L.R == 3 && L.stride == 1 && L.pad <= 2)  // not conv1_1 (pad 100)
        for (kc::ConvBackwardDataPath p : {kc::ConvBackwardDataPath::gemm, kc::ConvBackwardDataPath::winograd})
          add(std::string("conv2d_bwd_data/") + L.name + nb + "/hand-" + kc::conv_backward_data_path_name(p),
              [=](benchmark::State& s) { bench_conv(s, L, Pass::bwd_data, N, false, FP::automatic, p); });
    // And the weight gradient's (every 3x3 stride-1 layer: its Winograd needs no pad limit).
    for (const ConvLayer& L : kConvLayers)
      if (L.R == 3 && L.stride == 1)
        for (kc::ConvBackwardWeightPath p : {kc::ConvBackwardWeightPath::gemm, kc::ConvBackwardWeightPath::winograd})
          add(std::string("conv2d_bwd_filter/") + L.name + nb + "/hand-" + kc::conv_backward_weight_path_name(p),
              [=](benchmark::State& s) {
                bench_conv(s, L, Pass::bwd_filter, N, false, FP::automatic, kc::ConvBackwardDataPath::automatic, p);
              });
    for (const Upsample& U : kUpsamples)
      for (bool cd : {true, false}) {
        if (cd && !have_cudnn) continue;
        add(std::string("conv_transpose2d/") + U.name + nb + (cd ? "/cudnn" : "/hand"),
            [=](benchmark::State& s) { bench_upsample(s, U, N, cd); });
      }
  }
  // The memory-bound ops at batch 1 move a few tens of MB, ~10 us at H200 bandwidth, where the
  // launch and the last partial wave weigh; so they also run at batch 8 (cheap: microseconds per
  // call), whatever --batches says, and the % of copy bandwidth is read at both.
  std::vector<int64_t> mem_batches = batches;
  if (std::find(mem_batches.begin(), mem_batches.end(), int64_t(8)) == mem_batches.end()) mem_batches.push_back(8);
  for (int64_t N : mem_batches) {
    const std::string nb = "/N" + std::to_string(N);
    const std::vector<std::pair<int64_t, int64_t>> pools = {{64, 698}, {128, 349}, {256, 175}, {512, 88}, {512, 44}};
    for (auto [C, H] : pools)
      add("max_pool2d/C" + std::to_string(C) + "_H" + std::to_string(H) + nb + "/hand",
          [=](benchmark::State& s) { bench_max_pool(s, C, H, N); });
    for (bool cd : {true, false}) {
      if (cd && !have_cudnn) continue;
      add("softmax_channels/21x500x500" + nb + (cd ? "/cudnn" : "/hand"),
          [=](benchmark::State& s) { bench_softmax(s, N, cd); });
    }
    add("cross_entropy/21x500x500" + nb + "/hand", [=](benchmark::State& s) { bench_cross_entropy(s, N); });
    add("dice/21x500x500" + nb + "/hand", [=](benchmark::State& s) { bench_dice(s, N); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* program = "fcnlab-bench";
  std::vector<int64_t> batches = {1, 8};
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--batches=", 10) == 0) {
      // Every comma-separated item, empty ones included ("--batches=" or "1,,8" are errors).
      batches.clear();
      const std::string list = argv[i] + 10;
      for (size_t pos = 0, end;; pos = end + 1) {
        end = list.find(',', pos);
        const std::string item = list.substr(pos, end == std::string::npos ? end : end - pos);
        batches.push_back(fcnlab::bench::parse_int(program, "--batches", item.c_str(), 1, 64));
        if (end == std::string::npos) break;
      }
    } else if (std::strncmp(argv[i], "--iters=", 8) == 0) {
      g_iters = fcnlab::bench::parse_int(program, "--iters", argv[i] + 8, 1, 100000);
    } else if (std::strcmp(argv[i], "--smoke") == 0) {
      g_smoke = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  // What neither we nor Google Benchmark know ("fcnlab-bench: error: unrecognized
  // command-line flag: --x"): a typo must not run a 5-minute benchmark with the defaults.
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  register_all(batches);
  std::string why;
  bool listing = false;
  for (char* a : rest) listing = listing || std::strncmp(a, "--benchmark_list_tests", 22) == 0;
  if (listing) {  // names only: works without a GPU
    benchmark::RunSpecifiedBenchmarks();
    return 0;
  }
  if (!kc::device_available(&why)) {
    std::fprintf(stderr, "fcnlab-bench: no CUDA device (%s); this benchmark needs a GPU\n", why.c_str());
    return 2;
  }
  g_copy_gbps = measure_copy_gbps();
  benchmark::AddCustomContext("device", kc::device_description());
  if (g_smoke) benchmark::AddCustomContext("mode", "--smoke: tiny shapes, times mean nothing");
  benchmark::AddCustomContext("precision", "fp32 both sides; TF32 off unless FCNLAB_TF32=1 (cuDNN/cuBLAS only)");
#if defined(FCNLAB_WITH_CUDNN)
  benchmark::AddCustomContext("library", fcnlab::kernels::cudnn::version_string());
#else
  benchmark::AddCustomContext("library", "none (built without cuDNN)");
#endif
  benchmark::AddCustomContext("d2d_copy_GBps", std::to_string(g_copy_gbps));
  benchmark::AddCustomContext("l2_flush_bytes", std::to_string(l2_flush().bytes));
  benchmark::AddCustomContext("timing", "CUDA events, manual time, 3 warm-up calls, L2 flushed per iteration");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
