// dispatch.h — sends an op to the kernels of the tensor's device.
// kernels::cpu::NAME is the plain reference (and the CPU path); kernels::cuda::NAME is the
// hand-written CUDA kernel with the same signature. A build without the CUDA backend, or a
// kernel that is missing, is a clear error — never a silent fallback to the CPU.
#pragma once
#include "engine/error.h"

#if defined(FCNLAB_WITH_CUDA_KERNELS)
// kernels/cudnn/dispatch.h: the hand|cudnn switch for ops with a library baseline.
#include "kernels/cudnn/dispatch.h"
#define FCNLAB_CUDA_CALL(fn, ...) ::fcnlab::kernels::cudnn::call<&::fcnlab::kernels::cuda::fn>(__VA_ARGS__)
#else
#define FCNLAB_CUDA_CALL(fn, ...) \
  FCNLAB_FAIL(#fn ": this build of fcnlab has no CUDA kernels (configure with FCNLAB_GPU=cuda or simt)")
#endif

// FCNLAB_DISPATCH(device, kernel_name, args...)
#define FCNLAB_DISPATCH(dev, fn, ...)                 \
  do {                                                \
    if ((dev).is_cpu()) {                             \
      ::fcnlab::kernels::cpu::fn(__VA_ARGS__);        \
    } else {                                          \
      FCNLAB_CUDA_CALL(fn, __VA_ARGS__);              \
    }                                                 \
  } while (0)
