// simt.h — the CUDA vocabulary for g++: include this (through kernels/cuda/portable.cuh) and
// the kernels of kernels/cuda compile as plain C++ and run on the CPU under CUDA's execution
// model (see scheduler.h for how, README.md for the conventions and limits).
//   qualifiers      __global__ __device__ __host__ __forceinline__ __shared__ __constant__ ...
//   built-ins       threadIdx blockIdx blockDim gridDim (read-only), warpSize == 32
//   block barriers  __syncthreads() and its _count/_and/_or forms
//   warp intrinsics __shfl_sync/_up/_down/_xor (with width), __ballot_sync, __any_sync,
//                   __all_sync, __syncwarp, __activemask
//   types, math, atomics, runtime API: types.h, intrinsics.h, runtime.h
// Static __shared__ is `static thread_local`: all fibers of a block run on the launching OS
// thread and blocks run one after another, so the fibers of the running block share one copy
// (and a launch on another OS thread gets its own). It is not reset between blocks.
#pragma once
#include <cstring>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/simt/intrinsics.h"
#include "kernels/simt/runtime.h"
#include "kernels/simt/scheduler.h"
#include "kernels/simt/types.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __shared__ static thread_local
#define __constant__
#define __managed__
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

#define threadIdx (static_cast<const uint3&>(::fcnlab::simt::detail::tls_thread_idx))
#define blockIdx (static_cast<const uint3&>(::fcnlab::simt::detail::tls_block_idx))
#define blockDim (static_cast<const dim3&>(::fcnlab::simt::detail::tls_block_dim))
#define gridDim (static_cast<const dim3&>(::fcnlab::simt::detail::tls_grid_dim))
inline constexpr int warpSize = 32;

namespace fcnlab::simt::detail {
inline Site site_of(const std::source_location& l) { return Site{l.file_name(), l.line()}; }

template <class T>
inline uint64_t to_payload(const T& v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "warp shuffles move trivially copyable values of at most 8 bytes");
  uint64_t p = 0;
  std::memcpy(&p, &v, sizeof(T));
  return p;
}
template <class T>
inline T from_payload(uint64_t p) {
  T v;
  std::memcpy(&v, &p, sizeof(T));
  return v;
}
}  // namespace fcnlab::simt::detail

// ---- block barriers: the call site identifies the barrier (for divergence checks)
inline void __syncthreads(std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  block_barrier(BarrierKind::Sync, 1, site_of(l));
}
inline int __syncthreads_count(int predicate, std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return block_barrier(BarrierKind::Count, predicate, site_of(l));
}
inline int __syncthreads_and(int predicate, std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return block_barrier(BarrierKind::And, predicate, site_of(l));
}
inline int __syncthreads_or(int predicate, std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return block_barrier(BarrierKind::Or, predicate, site_of(l));
}

// ---- warp intrinsics: the lanes named in `mask` rendezvous (see warp.cpp)
template <class T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
                     std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return from_payload<T>(warp_op(WarpOp::Shfl, mask, to_payload(var), src_lane, width, site_of(l)));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                        std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return from_payload<T>(
      warp_op(WarpOp::ShflUp, mask, to_payload(var), static_cast<int>(delta), width, site_of(l)));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                          std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return from_payload<T>(
      warp_op(WarpOp::ShflDown, mask, to_payload(var), static_cast<int>(delta), width, site_of(l)));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                         std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return from_payload<T>(warp_op(WarpOp::ShflXor, mask, to_payload(var), lane_mask, width, site_of(l)));
}
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return static_cast<unsigned>(warp_op(WarpOp::Ballot, mask, predicate != 0, 0, 32, site_of(l)));
}
inline int __any_sync(unsigned mask, int predicate,
                      std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return static_cast<int>(warp_op(WarpOp::Any, mask, predicate != 0, 0, 32, site_of(l)));
}
inline int __all_sync(unsigned mask, int predicate,
                      std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  return static_cast<int>(warp_op(WarpOp::All, mask, predicate != 0, 0, 32, site_of(l)));
}
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu,
                       std::source_location l = std::source_location::current()) {
  using namespace ::fcnlab::simt::detail;
  warp_op(WarpOp::SyncWarp, mask, 0, 0, 32, site_of(l));
}
// Approximation: the lanes of the warp that have not exited (the emulator has no divergence).
inline unsigned __activemask() { return ::fcnlab::simt::detail::active_mask(); }

// ---- __constant__ / __device__ symbols are ordinary globals here
template <class T>
cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                               cudaMemcpyKind = cudaMemcpyHostToDevice) {
  if (offset + bytes > sizeof(T) || !src) return cudaErrorInvalidValue;
  std::memcpy(reinterpret_cast<char*>(&symbol) + offset, src, bytes);
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t bytes, size_t offset = 0,
                                 cudaMemcpyKind = cudaMemcpyDeviceToHost) {
  if (offset + bytes > sizeof(T) || !dst) return cudaErrorInvalidValue;
  std::memcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, bytes);
  return cudaSuccess;
}

namespace fcnlab::simt {

// Runs kernel(args...) over grid x block on the CPU (what FCNLAB_LAUNCH expands to under g++).
// Arguments are converted to the kernel's parameter types once, as a CUDA launch copies them;
// each CUDA thread then receives its own copy. Synchronous: done when this returns.
template <class... P, class... A>
void launch(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t stream, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "FCNLAB_LAUNCH: wrong number of kernel arguments");
  using Params = std::tuple<std::decay_t<P>...>;
  Params params(std::forward<A>(args)...);
  struct Closure {
    void (*kernel)(P...);
    Params* params;
  } closure{kernel, &params};
  detail::LaunchInfo info{name,   reinterpret_cast<const void*>(kernel),
                          grid,   block,
                          shared_bytes, stream,
                          [](void* c) {
                            auto* cl = static_cast<Closure*>(c);
                            std::apply(cl->kernel, *cl->params);
                          },
                          &closure};
  detail::run_launch(info);
}

}  // namespace fcnlab::simt
