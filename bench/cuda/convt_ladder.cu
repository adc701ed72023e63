// convt_ladder — fcnlab-convt-ladder: every rung of the conv_transpose2d ladder
// (bench/cuda/conv_transpose2d_ladder) on the FCN upsampling shapes of a 500 x 500 input
// (21 classes; 64x64 stride 32 of FCN-32s, 63x63 stride 32 of FCN-AlexNet/GoogLeNet, 32x32
// stride 16 of FCN-16s, 16x16 stride 8 of FCN-8s, 4x4 stride 2 of upscore2), each rung first
// checked against the CPU conv_transpose2d (max |error| / max |reference| <= 1e-4; a rung that
// fails is reported FAIL and not timed), then timed with CUDA events (median of --reps calls after
// a warm-up; a rung whose warm-up call takes over 0.25 s is timed on that one call only, so the
// naive rungs cannot eat the time budget), with cuDNN's line (TF32 off) for comparison.
// GFLOP/s counts the dense work the layer defines (2 * Cin * Cout/G * R * S * P * Q * N, as
// Caffe executes it), so rungs that skip impossible taps show more than the machine's peak's share.
// Under simt (CI) it runs with --smoke on tiny shapes: the checks and the table, not the times.
// Exit: 0 all rungs correct, 1 a rung failed its check, 2 a bad argument, 77 no GPU.
// Usage: fcnlab-convt-ladder [--reps N] [--batch N] [--smoke]
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
#include "kernels/cuda/runtime.h"
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif
#include "bench/cuda/event_timing.h"
#include "bench/cuda/bench_args.h"
// Last: under simt, simt.h's CUDA qualifier macros must not reach the standard headers.
#include "bench/cuda/conv_transpose2d_ladder/ladder.h"

using namespace fcnlab;

namespace {

struct Shape2 { const char* name; int c, h_in, r, stride; };
const Shape2 kShapes[] = {
    {"upscore2 4x4 s2 (FCN-16s/8s)", 21, 16, 4, 2},
    {"upscore8 16x16 s8 (FCN-8s)", 21, 70, 16, 8},
    {"upscore16 32x32 s16 (FCN-16s)", 21, 34, 32, 16},
    {"upscore 63x63 s32 (FCN-AlexNet)", 21, 16, 63, 32},
    {"upscore 64x64 s32 (FCN-32s)", 21, 16, 64, 32},
};

// --smoke (CI, under simt): tiny shapes of the same kinds (stride 2 with a 4x4 kernel, a kernel
// twice its stride, one that is not a multiple of it), so every rung runs in seconds on the CPU.
const Shape2 kSmokeShapes[] = {
    {"smoke 4x4 s2", 3, 4, 4, 2}, {"smoke 16x16 s8", 2, 3, 16, 8}, {"smoke 5x5 s3", 3, 4, 5, 3},
};

double max_abs(const Tensor& t) {
  double m = 0;
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, double(std::fabs(p[i])));
  return m;
}

double max_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::fabs(pa[i] - pb[i])));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20, batch = 1;
  bool smoke = false;
  const char* program = "fcnlab-convt-ladder";
  const char* usage = "[--reps N] [--batch N] [--smoke]";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps")) reps = bench::int_arg(program, usage, argc, argv, i, 1, 100000);
    else if (!std::strcmp(argv[i], "--batch")) batch = bench::int_arg(program, usage, argc, argv, i, 1, 64);
    else if (!std::strcmp(argv[i], "--smoke")) smoke = true;
    else bench::usage_error(program, "unknown argument", argv[i], usage);
  }
  std::string why;
  if (!kernels::cuda::device_available(&why)) {
    std::printf("convt_ladder: no GPU (%s)\n", why.c_str());
    return 77;
  }
  std::printf("device: %s; fp32; cuDNN TF32 off; batch %d; median of %d calls\n",
              kernels::cuda::device_description().c_str(), batch, reps);
  std::printf("%-34s %-24s %10s %10s %10s %8s\n", "layer", "version", "ms", "GFLOP/s", "rel.err", "%cuDNN");
  cudaStream_t st = kernels::cuda::stream();
  int failures = 0;
  const std::vector<Shape2> shapes = smoke ? std::vector<Shape2>(std::begin(kSmokeShapes), std::end(kSmokeShapes))
                                           : std::vector<Shape2>(std::begin(kShapes), std::end(kShapes));
  for (const Shape2& L : shapes) {
    const ConvTranspose2dOptions o = ConvTranspose2dOptions::make(L.stride, 0);
    Generator g(3);
    Tensor x = Tensor::uniform({batch, L.c, L.h_in, L.h_in}, -1, 1, g);
    Tensor w = Tensor::uniform({L.c, L.c, L.r, L.r}, -0.1, 0.1, g);
    const Tensor ref = conv_transpose2d(x, w, Tensor(), o);  // the CPU reference
    const int H = static_cast<int>(ref.size(2));
    const kernels::cuda::ConvGeom c{batch, L.c, H, H, L.c, L.r, L.r, L.h_in, L.h_in, 1, L.c, L.c,
                                    L.stride, L.stride, 0, 0, 1, 1};
    const double scale = std::max(max_abs(ref), 1e-30);
    const double gflop = 2.0 * batch * L.c * L.c * L.r * L.r * double(L.h_in) * L.h_in * 1e-9;
    Tensor xd = x.to(Device::cuda()), wd = w.to(Device::cuda());
    double cudnn_ms = 0;
#if defined(FCNLAB_WITH_CUDNN)
    {
      Tensor y = Tensor::empty(ref.shape(), DType::f32, Device::cuda());
      const Conv2dOptions co = Conv2dOptions::make(L.stride, 0);
      kernels::cudnn::conv2d_backward_data(xd, wd, y, co);  // algorithm search outside the timing
      kernels::cuda::synchronize();
      const double err = max_diff(y.to(Device::cpu()), ref) / scale;
      cudnn_ms = bench::median_call_ms([&] { kernels::cudnn::conv2d_backward_data(xd, wd, y, co); }, reps, st,
                                       [](int) {});
      std::printf("%-34s %-24s %10.4f %10.1f %10.1e %8s\n", L.name, "cuDNN", cudnn_ms, gflop / (cudnn_ms * 1e-3),
                  err, "100");
    }
#endif
    for (const ladder::ConvTRung& r : ladder::kConvTransposeLadder) {
      Tensor y = Tensor::empty(ref.shape(), DType::f32, Device::cuda());
      r.run(xd.data<float>(), wd.data<float>(), y.data<float>(), c, st);
      kernels::cuda::synchronize();
      const double err = max_diff(y.to(Device::cpu()), ref) / scale;
      if (!(err <= 1e-4)) {
        std::printf("%-34s %-24s %10s %10s %10.1e %8s  FAIL (check against the CPU reference)\n", L.name,
                    r.name, "-", "-", err, "-");
        ++failures;
        continue;
      }
      const auto run = [&] { r.run(xd.data<float>(), wd.data<float>(), y.data<float>(), c, st); };
      const double ms = bench::median_call_ms(run, reps, st, [](int) {});
      char pct[16] = "-";
      if (cudnn_ms > 0) std::snprintf(pct, sizeof pct, "%.0f", 100.0 * cudnn_ms / ms);
      std::printf("%-34s %-24s %10.4f %10.1f %10.1e %8s\n", L.name, r.name, ms, gflop / (ms * 1e-3), err, pct);
    }
    std::fflush(stdout);
  }
  if (failures) std::printf("%d rung(s) FAILED their check against the CPU reference\n", failures);
  return failures ? 1 : 0;
}
