// cudnn/dispatch.h — the hand|cudnn switch. engine/dispatch.h sends every CUDA op through
// call<&kernels::cuda::NAME>(args...): ops with a library baseline (conv, softmax, GEMM) go to
// kernels::cudnn::NAME when kernel_source() is cudnn, everything else (and everything in a
// build without cuDNN) to the hand-written kernel. So the kernel files themselves carry no switch,
// and conv_transpose2d (dispatched as conv2d_backward_data / conv2d_forward) follows along.
#pragma once
#include <utility>

#include "engine/error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif

namespace fcnlab::kernels::cudnn {

// Baseline<&cuda::NAME>::fn is &cudnn::NAME where a library version exists.
template <auto Hand>
struct Baseline {
  static constexpr bool exists = false;
};

#if defined(FCNLAB_WITH_CUDNN)
#define FCNLAB_CUDNN_BASELINE(name)                    \
  template <>                                          \
  struct Baseline<&::fcnlab::kernels::cuda::name> {    \
    static constexpr bool exists = true;               \
    static constexpr auto fn = &::fcnlab::kernels::cudnn::name; \
  };
FCNLAB_CUDNN_BASELINE(conv2d_forward)
FCNLAB_CUDNN_BASELINE(conv2d_backward_data)
FCNLAB_CUDNN_BASELINE(conv2d_backward_weight)
FCNLAB_CUDNN_BASELINE(softmax_forward)
FCNLAB_CUDNN_BASELINE(log_softmax_forward)
FCNLAB_CUDNN_BASELINE(softmax_backward)
FCNLAB_CUDNN_BASELINE(log_softmax_backward)
FCNLAB_CUDNN_BASELINE(gemm)
#undef FCNLAB_CUDNN_BASELINE
#endif

template <auto Hand, class... Args>
void call(Args&&... args) {
  if constexpr (Baseline<Hand>::exists) {
    if (::fcnlab::kernels::cuda::kernel_source() == ::fcnlab::kernels::cuda::KernelSource::cudnn) {
      Baseline<Hand>::fn(std::forward<Args>(args)...);
      return;
    }
  }
#if !defined(FCNLAB_WITH_CUDNN)
  // FCNLAB_KERNELS=cudnn reaches here unchecked (set_kernel_source refuses it): never run the
  // hand kernels silently in its place.
  FCNLAB_CHECK(::fcnlab::kernels::cuda::kernel_source() == ::fcnlab::kernels::cuda::KernelSource::hand,
               "FCNLAB_KERNELS=cudnn: this build has no cuDNN baseline (FCNLAB_GPU=cuda with cuDNN found)");
#endif
  Hand(std::forward<Args>(args)...);
}

}  // namespace fcnlab::kernels::cudnn
