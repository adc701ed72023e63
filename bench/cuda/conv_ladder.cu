// conv_ladder — times every rung of the conv2d forward ladder (bench/cuda/conv2d_ladder) on the
// FCN-VGG16 layer shapes (500 x 500 input padded by 100 as in FCN, batch 1; v6 Winograd on the
// 3x3 layers only) with CUDA events,
// beside cuDNN (fp32, TF32 off) when the build has it. Each rung is checked against the engine's
// shipped forward (kernels::cuda::conv2d_forward) on every shape; the table prints layer, version,
// ms, TFLOP/s, max|err| and the rung's speed as % of cuDNN's. Under simt (CI) it runs with
// --smoke on tiny shapes: the checks and the table, not the times.
// Usage: fcnlab-conv-ladder [--reps N] [--skip-naive] [--smoke]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif
// Last: under simt, simt.h's CUDA qualifier macros must not reach the standard headers.
#include "bench/cuda/conv2d_ladder/ladder.h"
#include "bench/cuda/event_timing.h"
#include "bench/cuda/bench_args.h"

using namespace fcnlab;

namespace {

// One square stride-1 convolution: c -> k channels on an h x h map, r x r kernel, padding pad.
struct Layer { const char* name; int c, h, k, r, pad; };

// FCN-VGG16 at 500 x 500: conv1_1 pads 100 (-> 698), each pool halves with ceil, fc6 is a 7x7
// convolution on the 22 x 22 pool5 map, fc7 and score are 1x1.
const Layer kLayers[] = {
    {"conv1_1", 3, 500, 64, 3, 100},   {"conv1_2", 64, 698, 64, 3, 1},
    {"conv2_1", 64, 349, 128, 3, 1},   {"conv2_2", 128, 349, 128, 3, 1},
    {"conv3_1", 128, 175, 256, 3, 1},  {"conv3_2", 256, 175, 256, 3, 1},
    {"conv4_1", 256, 88, 512, 3, 1},   {"conv4_2", 512, 88, 512, 3, 1},
    {"conv5_1", 512, 44, 512, 3, 1},   {"fc6", 512, 22, 4096, 7, 0},
    {"fc7", 4096, 16, 4096, 1, 0},     {"score", 4096, 16, 21, 1, 0},
};

// --smoke (CI, under simt): a few tiny shapes of the same kinds (3x3 with pad, 1x1, a larger
// kernel), so every rung and the harness run in seconds on the CPU.
const Layer kSmokeLayers[] = {
    {"conv_a", 3, 12, 8, 3, 2}, {"conv_b", 8, 10, 70, 3, 1}, {"fc_a", 8, 7, 12, 5, 0}, {"score", 12, 5, 3, 1, 0},
};

int out_size(const Layer& l) { return l.h + 2 * l.pad - l.r + 1; }

kernels::cuda::ConvGeom geom(const Layer& l) {
  const int p = out_size(l);
  return {1, l.c, l.h, l.h, l.k, l.r, l.r, p, p, 1, l.c, l.k, 1, 1, l.pad, l.pad, 1, 1};
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 10;
  bool skip_naive = false, smoke = false;
  const char* program = "fcnlab-conv-ladder";
  const char* usage = "[--reps N] [--skip-naive] [--smoke]";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps")) reps = bench::int_arg(program, usage, argc, argv, i, 1, 100000);
    else if (!std::strcmp(argv[i], "--skip-naive")) skip_naive = true;
    else if (!std::strcmp(argv[i], "--smoke")) smoke = true;
    else bench::usage_error(program, "unknown argument", argv[i], usage);
  }
  std::string why;
  if (!kernels::cuda::device_available(&why)) {
    std::printf("conv_ladder: no GPU (%s)\n", why.c_str());
    return 77;
  }
  std::printf("device: %s; fp32; cuDNN TF32 off; median of %d calls after a warm-up call\n",
              kernels::cuda::device_description().c_str(), reps);
  std::printf("%-8s %-18s %10s %10s %10s %8s\n", "layer", "version", "ms", "TFLOP/s", "max|err|", "%cuDNN");
  cudaStream_t st = kernels::cuda::stream();
  // Compute-bound: timed without an L2 flush, as cuDNN's line is.
  const auto time_ms = [&](auto fn) { return bench::median_call_ms(fn, reps, st, [](int) {}); };
  const auto max_err = [](const Tensor& y, const Tensor& ref_h) {
    const Tensor yh = y.to(Device::cpu());
    double err = 0.0;
    const float* a = yh.data<float>();
    const float* bref = ref_h.data<float>();
    for (int64_t i = 0; i < yh.numel(); ++i) err = std::max(err, double(std::fabs(a[i] - bref[i])));
    return err;
  };
  int failures = 0;
  const std::vector<Layer> layers = smoke ? std::vector<Layer>(std::begin(kSmokeLayers), std::end(kSmokeLayers))
                                          : std::vector<Layer>(std::begin(kLayers), std::end(kLayers));
  for (const Layer& l : layers) {
    const auto c = geom(l);
    const Conv2dOptions o = Conv2dOptions::make(1, l.pad);
    Generator g(1);
    Tensor x = Tensor::uniform({1, l.c, l.h, l.h}, -1, 1, g).to(Device::cuda());
    Tensor w = Tensor::uniform({l.k, l.c, l.r, l.r}, -0.1, 0.1, g).to(Device::cuda());
    Tensor b = Tensor::uniform({l.k}, -1, 1, g).to(Device::cuda());
    const Shape ys{1, l.k, out_size(l), out_size(l)};
    Tensor ref = Tensor::empty(ys, DType::f32, Device::cuda());
    kernels::cuda::conv2d_forward(x, w, b, ref, o);  // the engine's shipped forward
    const Tensor ref_h = ref.to(Device::cpu());
    const double flops = 2.0 * l.k * out_size(l) * out_size(l) * double(l.c) * l.r * l.r;
    double cudnn_ms = 0;
#if defined(FCNLAB_WITH_CUDNN)
    {
      Tensor y = Tensor::empty(ys, DType::f32, Device::cuda());
      kernels::cudnn::conv2d_forward(x, w, b, y, o);  // algorithm search outside the timing
      cudnn_ms = time_ms([&] { kernels::cudnn::conv2d_forward(x, w, b, y, o); });
      std::printf("%-8s %-18s %10.3f %10.2f %10.2e %8s\n", l.name, "cuDNN", cudnn_ms,
                  flops / (cudnn_ms * 1e-3) / 1e12, max_err(y, ref_h), "100");
    }
#endif
    for (const ladder::Rung& r : ladder::kConvLadder) {
      if (skip_naive && !std::strcmp(r.name, "v1_naive")) continue;
      if (r.applies && !r.applies(c)) continue;  // v6 Winograd: 3x3 stride-1 layers only
      Tensor y = Tensor::empty(ys, DType::f32, Device::cuda());
      const double ms = time_ms([&] { r.run(x.data<float>(), w.data<float>(), b.data<float>(), y.data<float>(), c, st); });
      const double err = max_err(y, ref_h);
      char pct[16] = "-";
      if (cudnn_ms > 0) std::snprintf(pct, sizeof pct, "%.0f", 100.0 * cudnn_ms / ms);
      const bool ok = err <= 1e-3;
      failures += !ok;
      std::printf("%-8s %-18s %10.3f %10.2f %10.2e %8s%s\n", l.name, r.name, ms, flops / (ms * 1e-3) / 1e12, err,
                  pct, ok ? "" : "  FAIL (against the shipped forward)");
    }
    std::fflush(stdout);
  }
  if (failures) std::printf("%d rung(s) FAILED their check against the shipped forward\n", failures);
  return failures ? 1 : 0;
}
