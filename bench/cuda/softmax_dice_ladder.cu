// softmax_dice_ladder — fcnlab-softmax-dice-ladder: every rung of the channel-softmax and Dice
// ladders (bench/ladder) at FCN's output shape, 21 classes x 500 x 500 (batch 1 and 8, or
// --batch N), each
// first checked against the CPU reference (a rung that fails is reported FAIL and not timed),
// then timed with CUDA events: median of --reps calls, each after L2 is flushed (a memset of twice
// the L2 size, outside the timed span: the tensors are smaller than the H200's L2, so without it
// every call after the first would read from L2). A rung whose first call takes over 0.25 s is
// timed on that one call only. Both ops are memory-bound, so the yardstick is bandwidth: GB/s
// counts the bytes the op must move (softmax: read x, write y; Dice: read prob and target), and
// "%copy" is that rate as a share of a device-to-device cudaMemcpy measured in the same run (the
// issue's target for the shipped kernels: >= 70%). cuDNN's channel softmax (TF32 off) is the
// library line for softmax; Dice has no library equivalent. fp32 throughout.
// Exit: 0 all rungs correct, 1 a rung failed its check, 2 a bad argument, 77 no GPU.
// At batch 1 an op moves ~42 MB, ~10 us at H200 bandwidth, where the launch and the last partial
// wave weigh; batch 8 shows the kernels' streaming rate.
// Under simt (CI) it runs as a smoke test at a small --size: the check and the table, not the times.
// Usage: fcnlab-softmax-dice-ladder [--reps N] [--batch N] [--size H]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif

#include "bench/cuda/event_timing.h"
#include "bench/cuda/bench_args.h"
#include "bench/ladder/dice_v1_serial.cuh"
#include "bench/ladder/dice_v2_block_reduce.cuh"
#include "bench/ladder/dice_v3_multiblock.cuh"
#include "bench/ladder/softmax_v1_naive.cuh"
#include "bench/ladder/softmax_v2_online.cuh"

using namespace fcnlab;
namespace kc = fcnlab::kernels::cuda;

namespace {

// max |a - b| / max |b| over all elements (host tensors of equal shape, any float dtype).
double rel_max_err(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector(), vb = b.to_vector();
  double d = 0, m = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    d = std::max(d, std::fabs(va[i] - vb[i]));
    m = std::max(m, std::fabs(vb[i]));
  }
  return d / std::max(m, 1e-300);
}

struct Timer {
  cudaStream_t st = kc::stream();
  void* flush = nullptr;
  size_t flush_bytes = 0;
  int reps = 20;
  Timer() {
    int dev = 0;
    cudaDeviceProp p{};
    FCNLAB_CUDA_CHECK(cudaGetDevice(&dev));
    FCNLAB_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    flush_bytes = 2 * static_cast<size_t>(p.l2CacheSize > 0 ? p.l2CacheSize : (64 << 20));
    FCNLAB_CUDA_CHECK(cudaMalloc(&flush, flush_bytes));
  }
  ~Timer() { cudaFree(flush); }
  // Median ms per call of fn, L2 flushed before each call (outside the events).
  double median_ms(const std::function<void()>& fn) const {
    return bench::median_call_ms(fn, reps, st, [this](int i) {
      FCNLAB_CUDA_CHECK(cudaMemsetAsync(flush, i & 0xff, flush_bytes, st));
    });
  }
};

// Device-to-device copy of `bytes`, best of 10 after about a second of copies (clocks settle).
double copy_gbps(const Timer& tm, size_t bytes) {
  void *a = nullptr, *b = nullptr;
  FCNLAB_CUDA_CHECK(cudaMalloc(&a, bytes));
  FCNLAB_CUDA_CHECK(cudaMalloc(&b, bytes));
  FCNLAB_CUDA_CHECK(cudaMemsetAsync(a, 1, bytes, tm.st));
  const auto t0 = std::chrono::steady_clock::now();
  do {
    for (int i = 0; i < 100; ++i) FCNLAB_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, tm.st));
    FCNLAB_CUDA_CHECK(cudaStreamSynchronize(tm.st));
  } while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  float best = 1e30f;
  for (int i = 0; i < 10; ++i) {
    cudaEventRecord(e0, tm.st);
    FCNLAB_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, tm.st));
    cudaEventRecord(e1, tm.st);
    FCNLAB_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    best = std::min(best, ms);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * double(bytes) / (best * 1e-3) * 1e-9;  // read + write
}

struct Row {
  const char* op;
  std::string version;
  double ms, gbps, err;
  std::string vs_lib;
};

void print(const Row& r, double copy) {
  char pct[16];
  std::snprintf(pct, sizeof pct, "%.0f", 100.0 * r.gbps / copy);
  std::printf("%-28s %-40s %10.4f %9.0f %7s %10.1e %8s\n", r.op, r.version.c_str(), r.ms, r.gbps, pct, r.err,
              r.vs_lib.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20, size = 500;
  std::vector<int> batches = {1, 8};
  const char* program = "fcnlab-softmax-dice-ladder";
  const char* usage = "[--reps N] [--batch N] [--size H]";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps")) reps = bench::int_arg(program, usage, argc, argv, i, 1, 100000);
    else if (!std::strcmp(argv[i], "--batch")) batches = {bench::int_arg(program, usage, argc, argv, i, 1, 64)};
    else if (!std::strcmp(argv[i], "--size")) size = bench::int_arg(program, usage, argc, argv, i, 1, 4096);
    else bench::usage_error(program, "unknown argument", argv[i], usage);
  }
  std::string why;
  if (!kc::device_available(&why)) {
    std::printf("softmax_dice_ladder: no GPU (%s)\n", why.c_str());
    return 77;
  }
  Timer tm;
  tm.reps = reps;
  // 256 MiB at the real size; a small smoke run (--size, as CI runs it under simt) copies 16 MiB.
  const double copy = copy_gbps(tm, size_t(size >= 100 ? 256 : 16) << 20);
  std::printf("device: %s; fp32; cuDNN TF32 off; median of %d calls, L2 flushed before each\n",
              kc::device_description().c_str(), reps);
  std::printf("device-to-device copy: %.0f GB/s (read + write, best of 10): the %%copy yardstick\n", copy);
  std::printf("%-28s %-40s %10s %9s %7s %10s %8s\n", "op", "version", "ms", "GB/s", "%copy", "rel.err", "%cuDNN");
  int failures = 0;
  const auto fail = [&](const char* op, const std::string& version, double err) {
    std::printf("%-28s %-40s %10s %9s %7s %10.1e %8s  FAIL (check against the CPU reference)\n", op,
                version.c_str(), "-", "-", "-", err, "-");
    ++failures;
  };

  for (const int batch : batches) {
    std::printf("-- batch %d\n", batch);
    // ---- channel softmax, (batch, 21, 500, 500)
    {
      const std::string op_name = "softmax 21x" + std::to_string(size) + "x" + std::to_string(size);
      const char* op = op_name.c_str();
      Generator g(5);
      Tensor x = Tensor::uniform({batch, 21, size, size}, -4, 4, g);
      Tensor ref = Tensor::empty(x.shape());
      kernels::cpu::softmax_forward(x, ref);
      Tensor xd = x.to(Device::cuda()), yd = Tensor::empty(x.shape(), DType::f32, Device::cuda());
      const auto l = kernels::cpu::channel_layout(x);
      const double bytes = 2.0 * double(x.nbytes());
      double lib_ms = 0;
      struct Rung { std::string name; std::function<void()> run; bool library; };
      std::vector<Rung> rungs;
  #if defined(FCNLAB_WITH_CUDNN)
      rungs.push_back({"cuDNN (CUDNN_SOFTMAX_ACCURATE, channel)", [&] { kernels::cudnn::softmax_forward(xd, yd); }, true});
  #endif
      const unsigned blocks = kc::blocks_for(l.outer * l.inner, 256);
      rungs.push_back({"v1 naive (3 reads, 2 exp)", [&] {
                         FCNLAB_LAUNCH(ladder::softmax_v1_naive<float>, blocks, 256, 0, tm.st, xd.data<float>(), l.outer,
                                       l.channels, l.inner, yd.data<float>());
                       }, false});
      rungs.push_back({"v2 online (2 reads, double exp)", [&] {
                         FCNLAB_LAUNCH(ladder::softmax_v2_online<float>, blocks, 256, 0, tm.st, xd.data<float>(), l.outer,
                                       l.channels, l.inner, yd.data<float>());
                       }, false});
      rungs.push_back({"v3 register column, 1 read (shipped)", [&] { kc::softmax_forward(xd, yd); }, false});
      for (const Rung& r : rungs) {
        r.run();
        FCNLAB_CUDA_CHECK(cudaGetLastError());
        kc::synchronize();
        const double err = rel_max_err(yd.to(Device::cpu()), ref);
        if (!(err <= 1e-5)) {
          fail(op, r.name, err);
          continue;
        }
        const double ms = tm.median_ms(r.run);
        if (r.library) lib_ms = ms;
        char pct[16] = "-";
        if (r.library) std::snprintf(pct, sizeof pct, "100");
        else if (lib_ms > 0) std::snprintf(pct, sizeof pct, "%.0f", 100.0 * lib_ms / ms);
        print({op, r.name, ms, bytes / (ms * 1e-3) * 1e-9, err, pct}, copy);
      }
    }

    // ---- soft Dice, per image: prob and target (batch, 21, 500, 500), groups = images
    {
      const std::string op_name = "dice 21x" + std::to_string(size) + "x" + std::to_string(size) + " per image";
      const char* op = op_name.c_str();
      Generator g(6);
      Tensor p = Tensor::uniform({batch, 21, size, size}, 0, 1, g);
      std::vector<float> tv(static_cast<size_t>(p.numel()));
      for (float& e : tv) e = g.next_u32() % 10 < 3 ? 1.0f : 0.0f;  // a mask, 30% foreground
      Tensor t = Tensor::from_vector<float>(tv, p.shape());
      const int64_t G = batch, M = p.numel() / G;
      Tensor ref = Tensor::empty({G, 3}, DType::f64), loss_ref = Tensor::empty({1});
      kernels::cpu::dice_forward(p, t, 1.0, ref, loss_ref);
      Tensor pd = p.to(Device::cuda()), td = t.to(Device::cuda());
      Tensor stats = Tensor::empty({G, 3}, DType::f64, Device::cuda());
      Tensor loss = Tensor::empty({1}, DType::f32, Device::cuda());
      const unsigned B3 = kc::blocks_for(M, 256 * 4, 256);
      Tensor partial = Tensor::empty({G, B3, 3}, DType::f64, Device::cuda());
      const double bytes = 2.0 * double(p.nbytes());
      struct Rung { std::string name; std::function<void()> run; bool checks_loss; };
      const std::vector<Rung> rungs = {
          {"v1 serial (1 thread per image)", [&] {
             FCNLAB_LAUNCH(ladder::dice_v1_serial<float>, 1, 32, 0, tm.st, pd.data<float>(), td.data<float>(), G, M,
                           stats.data<double>());
           }, false},
          {"v2 block tree (1 block per image)", [&] {
             FCNLAB_LAUNCH(ladder::dice_v2_block_reduce<float>, static_cast<unsigned>(G), 256, 0, tm.st, pd.data<float>(),
                           td.data<float>(), M, stats.data<double>());
           }, false},
          {"v3 multi-block, 2 launches", [&] {
             FCNLAB_LAUNCH(ladder::dice_v3_partial<float>, dim3(B3, static_cast<unsigned>(G)), 256, 0, tm.st,
                           pd.data<float>(), td.data<float>(), M, partial.data<double>());
             FCNLAB_LAUNCH(ladder::dice_v3_finish, static_cast<unsigned>(G), 256, 0, tm.st, partial.data<double>(),
                           static_cast<int>(B3), stats.data<double>());
           }, false},
          {"v4 one launch + loss (shipped)", [&] { kc::dice_forward(pd, td, 1.0, stats, loss); }, true},
      };
      for (const Rung& r : rungs) {
        r.run();
        FCNLAB_CUDA_CHECK(cudaGetLastError());
        kc::synchronize();
        double err = rel_max_err(stats.to(Device::cpu()), ref);
        if (r.checks_loss) err = std::max(err, rel_max_err(loss.to(Device::cpu()), loss_ref));
        if (!(err <= 1e-9 || (r.checks_loss && err <= 1e-6))) {
          fail(op, r.name, err);
          continue;
        }
        const double ms = tm.median_ms(r.run);
        print({op, r.name, ms, bytes / (ms * 1e-3) * 1e-9, err, "-"}, copy);
      }
      // The whole op as training calls it (allocation, dispatch, the launch), for the record.
      {
        NoGrad ng;
        const double ms = tm.median_ms([&] { (void)dice_loss(pd, td); });
        print({op, "dice_loss() op (engine call)", ms, bytes / (ms * 1e-3) * 1e-9, 0.0, "-"}, copy);
      }
    }
  }
  if (failures) std::printf("%d rung(s) FAILED their check against the CPU reference\n", failures);
  return failures ? 1 : 0;
}
