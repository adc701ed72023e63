// The kernel ladders of bench/ladder (softmax v1 naive -> v2 online -> v3 = the production
// register-column kernel; Dice v1 serial -> v2 block tree -> v3 multi-block warp shuffles in two
// launches -> v4 = the production one-launch kernel) against the CPU reference. The ladder kernels are launched from this .cpp, which only the simt build can
// compile (under nvcc a launch must sit in a .cu): in the cuda build this file is empty and
// the GPU benchmarks (bench/) exercise the rungs instead.
#include <doctest/doctest.h>

#if defined(FCNLAB_GPU_SIMT)
// The engine and standard headers first: simt.h defines CUDA's keyword macros (__noinline__,
// ...), which must not reach libstdc++'s own attributes.
#include "engine/ops.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/kernels.h"
#include "tests/common/check.h"

#include "bench/ladder/dice_v1_serial.cuh"
#include "bench/ladder/dice_v2_block_reduce.cuh"
#include "bench/ladder/dice_v3_multiblock.cuh"
#include "bench/ladder/softmax_v1_naive.cuh"
#include "bench/ladder/softmax_v2_online.cuh"
#include "kernels/cuda/common.cuh"

using namespace fcnlab;

namespace {
template <class K>
Tensor run_softmax_rung(K kernel, const Tensor& x_cpu) {
  const auto l = kernels::cpu::channel_layout(x_cpu);
  Tensor x = x_cpu.to(Device::cuda());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const unsigned threads = 64;
  FCNLAB_LAUNCH(kernel, kernels::cuda::blocks_for(l.outer * l.inner, threads), threads, 0,
                kernels::cuda::stream(), x.data<float>(), l.outer, l.channels, l.inner, y.data<float>());
  return y.to(Device::cpu());
}
}  // namespace

TEST_CASE("ladder: softmax v1 naive, v2 online and v3 (production) agree with the CPU reference") {
  const Shape shapes[] = {{2, 21, 3, 5}, {1, 33, 2, 7}, {3, 1, 4, 4}};
  for (const Shape& s : shapes) {
    Generator g(static_cast<uint64_t>(s.numel()));
    Tensor x = Tensor::uniform(s, -20, 20, g);
    Tensor ref = softmax(x);
    CHECK_CLOSE(run_softmax_rung(fcnlab::ladder::softmax_v1_naive<float>, x), ref, 1e-6, 1e-5);
    CHECK_CLOSE(run_softmax_rung(fcnlab::ladder::softmax_v2_online<float>, x), ref, 1e-6, 1e-5);
    CHECK_CLOSE(softmax(x.to(Device::cuda())).to(Device::cpu()), ref, 1e-6, 1e-5);
  }
}

TEST_CASE("ladder: Dice statistics v1 serial, v2 block tree, v3 multi-block, v4 production equal the CPU's") {
  const int64_t G = 3, M = 1000;
  Generator g(21);
  Tensor p = Tensor::uniform({G, M}, 0, 1, g);
  std::vector<float> tv(static_cast<size_t>(G * M));
  for (float& e : tv) e = static_cast<float>(g.next_u32() % 2);
  Tensor t = Tensor::from_vector<float>(tv, {G, M});
  Tensor ref = Tensor::empty({G, 3}, DType::f64), loss_ref = Tensor::empty({1});
  kernels::cpu::dice_forward(p, t, 1.0, ref, loss_ref);

  Tensor pd = p.to(Device::cuda()), td = t.to(Device::cuda());
  Tensor s1 = Tensor::empty({G, 3}, DType::f64, Device::cuda());
  FCNLAB_LAUNCH(fcnlab::ladder::dice_v1_serial<float>, 1, 32, 0, kernels::cuda::stream(), pd.data<float>(),
                td.data<float>(), G, M, s1.data<double>());
  CHECK_EXACT(s1.to(Device::cpu()), ref);  // the same additions in the same order as the CPU

  Tensor s2 = Tensor::empty({G, 3}, DType::f64, Device::cuda());
  FCNLAB_LAUNCH(fcnlab::ladder::dice_v2_block_reduce<float>, static_cast<unsigned>(G), 128, 0,
                kernels::cuda::stream(), pd.data<float>(), td.data<float>(), M, s2.data<double>());
  CHECK_CLOSE(s2.to(Device::cpu()), ref, 1e-9, 1e-12);

  // v3: the partials of a (B, G) grid, then a second launch sums them.
  {
    const unsigned B = 3;
    Tensor partial = Tensor::empty({G, B, 3}, DType::f64, Device::cuda());
    Tensor s3 = Tensor::empty({G, 3}, DType::f64, Device::cuda());
    FCNLAB_LAUNCH(fcnlab::ladder::dice_v3_partial<float>, dim3(B, static_cast<unsigned>(G)), 64, 0,
                  kernels::cuda::stream(), pd.data<float>(), td.data<float>(), M, partial.data<double>());
    FCNLAB_LAUNCH(fcnlab::ladder::dice_v3_finish, static_cast<unsigned>(G), 64, 0, kernels::cuda::stream(),
                  partial.data<double>(), static_cast<int>(B), s3.data<double>());
    CHECK_CLOSE(s3.to(Device::cpu()), ref, 1e-9, 1e-12);
  }

  // v4 (production) also writes the loss on the device; run twice, as its last-block counter
  // must be reset for the next launch.
  for (int run = 0; run < 2; ++run) {
    Tensor s3 = Tensor::empty({G, 3}, DType::f64, Device::cuda());
    Tensor loss = Tensor::empty({1}, DType::f32, Device::cuda());
    kernels::cuda::dice_forward(pd, td, 1.0, s3, loss);
    CHECK_CLOSE(s3.to(Device::cpu()), ref, 1e-9, 1e-12);
    CHECK_CLOSE(loss.to(Device::cpu()), loss_ref, 1e-7, 1e-6);
  }
}
#endif
