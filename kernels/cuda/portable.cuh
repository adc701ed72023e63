// portable.cuh — the conventions every kernel of kernels/cuda follows, so that one source
// compiles with nvcc (runs on a GPU) and with g++ over kernels/simt (runs on the CPU in tests).
//   FCNLAB_LAUNCH(kernel, grid, block, shared_bytes, stream, args...)
//       kernel<<<grid, block, shared_bytes, stream>>>(args...) under nvcc; the SIMT launcher
//       under g++. A template kernel whose name has a comma goes in parentheses,
//       `FCNLAB_LAUNCH((conv_kernel<float, 4>), ...)`, or through a pointer,
//       `auto k = conv_kernel<float, 4>; FCNLAB_LAUNCH(k, ...)` (both checked with nvcc 13.0).
//   FCNLAB_DYNAMIC_SHARED(type, name);
//       declares `type* name` pointing at the launch's dynamic shared memory (instead of
//       `extern __shared__ type name[];`, which plain C++ cannot express). 16-byte aligned.
//   FCNLAB_UNROLL before a loop: #pragma unroll under nvcc, nothing under g++ (which would warn).
//   FCNLAB_SIMT is defined when the kernels run under the SIMT layer.
// Other rules (see kernels/simt/README.md): only the _sync warp intrinsics, no inline PTX in
// code that must run under simt, guard work instead of returning before a barrier.
#pragma once

#if defined(__CUDACC__)
#include <cuda_runtime.h>

#define FCNLAB_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  kernel<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__)
#define FCNLAB_DYNAMIC_SHARED(type, name)                                   \
  extern __shared__ __align__(16) unsigned char fcnlab_dynamic_shared_[]; \
  type* name = reinterpret_cast<type*>(fcnlab_dynamic_shared_)

#else
#include "kernels/simt/simt.h"

#define FCNLAB_SIMT 1
#define FCNLAB_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                      \
  ::fcnlab::simt::launch(#kernel, kernel, (grid), (block), (shared_bytes), (stream) \
                         __VA_OPT__(, ) __VA_ARGS__)
#define FCNLAB_DYNAMIC_SHARED(type, name) \
  type* name = static_cast<type*>(::fcnlab::simt::detail::dynamic_shared())

#endif

namespace fcnlab::kernels::cuda {
// p[0..3] in one 16-byte load (ld.global.v4.f32). p must be 16-byte aligned: on a GPU a
// misaligned vector access is cudaErrorMisalignedAddress, and under simt it fails the launch the
// same way (with the call site) instead of quietly working on x86.
#if defined(__CUDACC__)
__device__ __forceinline__ float4 load_float4(const float* p) { return *reinterpret_cast<const float4*>(p); }
#else
inline float4 load_float4(const float* p, std::source_location l = std::source_location::current()) {
  ::fcnlab::simt::detail::check_aligned(p, 16, ::fcnlab::simt::detail::site_of(l));
  return *reinterpret_cast<const float4*>(p);
}
#endif
}  // namespace fcnlab::kernels::cuda

// Loop unrolling hint for nvcc (g++ would warn about the unknown pragma under simt).
#if defined(__CUDACC__)
#define FCNLAB_UNROLL _Pragma("unroll")
#else
#define FCNLAB_UNROLL
#endif
