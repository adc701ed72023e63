// cuda/common.cuh — what every launcher (.cu) of kernels/cuda includes: the portability
// macros, checked calls, the backend's stream, and grid-size helpers.
#pragma once
#include <cstdint>

#include "kernels/cuda/portable.cuh"
#include "kernels/cuda/runtime.h"

namespace fcnlab::kernels::cuda {

// The one stream all fcnlab kernels run on (created on first use).
cudaStream_t stream();

// Blocks of `threads` to cover n items, capped so the grid stays legal (kernels grid-stride).
inline unsigned blocks_for(int64_t n, unsigned threads, unsigned max_blocks = 65535u * 4u) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b > max_blocks ? max_blocks : b);
}

}  // namespace fcnlab::kernels::cuda

// Launch + check, the pattern of every launcher.
#define FCNLAB_LAUNCH_CHECKED(kernel, grid, block, shared_bytes, ...)                      \
  do {                                                                                     \
    FCNLAB_LAUNCH(kernel, grid, block, shared_bytes, ::fcnlab::kernels::cuda::stream(),    \
                  __VA_ARGS__);                                                            \
    FCNLAB_CUDA_CHECK_LAUNCH(#kernel);                                                     \
  } while (0)
