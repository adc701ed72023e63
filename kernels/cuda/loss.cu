// cuda/loss.cu — launchers for cross-entropy (fused log-softmax + NLL), soft Dice and BCE on
// logits. Forwards fill the same f64 `stats` as kernels/cpu/loss.cpp: cross-entropy and BCE in
// two launches (per-block partials, then one block per group), Dice in one (its last block
// finishes, and writes the loss itself, so a Dice forward never waits for the host). A kernel cannot throw, so cross-entropy's
// target check goes through a device flag that the launcher reads and turns into the CPU's
// error message.
#include "kernels/cuda/kernels.h"

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/loss.h"     // target_position
#include "kernels/cpu/softmax.h"  // channel_layout
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/loss.cuh"

namespace fcnlab::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

using kernels::cpu::target_position;  // the CPU reference's wording

// Sums partial (G, B, K) over B into stats (G, K).
void finish(const Tensor& partial, int G, int B, int K, Tensor& stats) {
  FCNLAB_LAUNCH_CHECKED(finish_partials_kernel, G, kThreads, 0, partial.data<double>(), B, K,
                        stats.data<double>());
}
}  // namespace

void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int ignore_index, Tensor& stats) {
  const cpu::ChannelLayout l = cpu::channel_layout(logits);
  const int64_t pixels = l.outer * l.inner;
  const unsigned B = blocks_for(pixels, kThreads, 1024);
  Tensor partial = Tensor::empty({B, 2}, DType::f64, logits.device());
  // Lowest offending pixel; INT_MAX = none. (Pixel counts beyond 2^31 are refused below.)
  FCNLAB_CHECK(pixels < INT_MAX, "cross_entropy: ", pixels, " pixels are too many for the CUDA kernel");
  Tensor bad = Tensor::full({1}, static_cast<double>(INT_MAX), DType::i32, logits.device());
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(cross_entropy_partial_kernel<T>, B, kThreads, 0, logits.data<T>(),
                          target.data<int32_t>(), weight.data<T>(), l.outer, l.channels, l.inner, ignore_index,
                          partial.data<double>(), bad.data<int32_t>());
  });
  finish(partial, 1, static_cast<int>(B), 2, stats);
  const int64_t p = static_cast<int64_t>(bad.item());
  if (p != INT_MAX) {
    const int64_t t = static_cast<int64_t>(target.to(Device::cpu()).data<int32_t>()[p]);
    FCNLAB_FAIL("cross_entropy: target value ", t, " at ", target_position(target.shape(), p),
                " is outside the classes [0, ", l.channels, ") and is not ignore_index (", ignore_index, ")");
  }
}

void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int ignore_index, double scale, Tensor& dlogits) {
  const cpu::ChannelLayout l = cpu::channel_layout(logits);
  const int64_t pixels = l.outer * l.inner;
  if (pixels == 0) return;
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(cross_entropy_backward_kernel<T>, blocks_for(pixels, kThreads), kThreads, 0,
                          logits.data<T>(), target.data<int32_t>(), weight.data<T>(), l.outer, l.channels,
                          l.inner, ignore_index, scale, dlogits.data<T>());
  });
}

// The last-block counter of dice_forward_kernel: allocated and zeroed once (on the backend's
// stream, so every launch sees it zeroed), then reset by each launch's last block.
unsigned* dice_blocks_done() {
  static unsigned* counter = [] {
    void* p = nullptr;
    FCNLAB_CUDA_CHECK(cudaMalloc(&p, sizeof(unsigned)));
    FCNLAB_CUDA_CHECK(cudaMemsetAsync(p, 0, sizeof(unsigned), stream()));
    return static_cast<unsigned*>(p);
  }();
  return counter;
}

void dice_forward(const Tensor& prob, const Tensor& target, double smooth, Tensor& stats, Tensor& loss) {
  const int64_t G = stats.size(0), M = G ? prob.numel() / G : 0;
  FCNLAB_CHECK(G >= 1 && G <= 65535, "dice_loss: ", G, " groups (images) outside the grid's y range 1..65535");
  // One wave of about 4 blocks of 256 threads per SM over all groups (8 loads in flight per
  // thread: ~32 KB per SM, enough to cover memory latency at full bandwidth), each thread
  // striding over its share; never more blocks than groups of 4 elements per thread.
  const int64_t wave = int64_t(4) * sm_count();
  const unsigned B = blocks_for(M, kThreads * kDiceUnroll,
                                static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(1024, wave / G))));
  Tensor partial = Tensor::empty({G, B, 3}, DType::f64, prob.device());
  dispatch_floating(prob.dtype(), "dice_loss", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(dice_forward_kernel<T>, dim3(B, static_cast<unsigned>(G)), kThreads, 0, prob.data<T>(),
                          target.data<T>(), M, smooth, partial.data<double>(), dice_blocks_done(),
                          stats.data<double>(), loss.data<T>());
  });
}

void dice_backward(const Tensor& prob, const Tensor& target, const Tensor& stats, double smooth,
                   double scale, Tensor& dprob, Tensor& dtarget) {
  const int64_t G = stats.size(0), n = prob.numel(), M = G ? n / G : 0;
  if (n == 0) return;
  dispatch_floating(prob.dtype(), "dice_loss_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(dice_backward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, prob.data<T>(),
                          target.data<T>(), stats.data<double>(), M, n, smooth, scale,
                          dprob.defined() ? dprob.data<T>() : static_cast<T*>(nullptr),
                          dtarget.defined() ? dtarget.data<T>() : static_cast<T*>(nullptr));
  });
}

void bce_with_logits_forward(const Tensor& logits, const Tensor& target, double pos_weight,
                             Tensor& stats) {
  const int64_t n = logits.numel();
  const unsigned B = blocks_for(n, kThreads, 1024);
  Tensor partial = Tensor::empty({B}, DType::f64, logits.device());
  dispatch_floating(logits.dtype(), "bce_with_logits", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(bce_partial_kernel<T>, B, kThreads, 0, logits.data<T>(), target.data<T>(), pos_weight, n,
                          partial.data<double>());
  });
  finish(partial, 1, static_cast<int>(B), 1, stats);
}

void bce_with_logits_backward(const Tensor& logits, const Tensor& target, double pos_weight,
                              double scale, Tensor& dlogits, Tensor& dtarget) {
  const int64_t n = logits.numel();
  if (n == 0) return;
  dispatch_floating(logits.dtype(), "bce_with_logits_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(bce_backward_kernel<T>, blocks_for(n, kThreads), kThreads, 0, logits.data<T>(),
                          target.data<T>(), pos_weight, scale, n,
                          dlogits.defined() ? dlogits.data<T>() : static_cast<T*>(nullptr),
                          dtarget.defined() ? dtarget.data<T>() : static_cast<T*>(nullptr));
  });
}

}  // namespace fcnlab::kernels::cuda
