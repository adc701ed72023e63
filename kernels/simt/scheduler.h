// scheduler.h — how a kernel launch runs on the CPU, and the options that steer it.
// Blocks run one after another on the launching OS thread (in the schedule's block order);
// the threads of a block are fibers that switch only at __syncthreads() (and its _count/_and/
// _or forms) and at warp intrinsics. After each barrier the scheduler resumes the runnable
// fibers in the schedule's order: in-order (thread 0 first), reverse, or a seeded random
// permutation redrawn at every round. A missing barrier between a shared-memory write and
// another thread's read then gives different results under different schedules.
//
// Rule checks (what hardware or compute-sanitizer would punish) raise a KernelError that
// names the kernel, block, thread and call site: barrier divergence, exit before a barrier
// others wait at, bad warp masks, warp/block deadlocks; illegal launch shapes are rejected
// before anything runs. The error is also recorded for cudaGetLastError/cudaDeviceSynchronize.
// errors=throw (default) throws it from the launch; errors=record only records it, exactly as
// a CUDA program would see it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/error.h"
#include "kernels/simt/runtime.h"
#include "kernels/simt/types.h"

namespace fcnlab::simt {

enum class Order { InOrder, Reverse, Random };

struct Schedule {
  Order order = Order::InOrder;
  uint64_t seed = 0;  // for Order::Random
  // "inorder", "reverse" or "random:SEED".
  static Schedule parse(std::string_view text);
  std::string str() const;
};

enum class ErrorMode { Throw, Record };

struct Options {
  Schedule schedule;          // FCNLAB_SIMT_SCHEDULE=inorder|reverse|random:SEED
  bool strict_exit = true;    // FCNLAB_SIMT_STRICT_EXIT=0|1: exit before a barrier is an error
  ErrorMode errors = ErrorMode::Throw;  // FCNLAB_SIMT_ERRORS=throw|record
  size_t stack_bytes = 64 * 1024;       // FCNLAB_SIMT_STACK_KIB: per-fiber stack
};

// The process-wide options, read from the environment at first use. Change them only while
// no launch is running.
Options& options();

// Sets options for a scope and restores the previous ones at its end (tests use this).
class ScopedOptions {
 public:
  explicit ScopedOptions(const Options& o) : saved_(options()) { options() = o; }
  explicit ScopedOptions(const Schedule& s) : saved_(options()) { options().schedule = s; }
  ~ScopedOptions() { options() = saved_; }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  Options saved_;
};

// A violated CUDA rule, found while launching or running a kernel.
class KernelError : public fcnlab::Error {
 public:
  KernelError(cudaError_t code, const std::string& what) : fcnlab::Error(what), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

// The message of the latest diagnostic on this OS thread ("" if none yet).
const std::string& last_diagnostic();

// Counters of the latest launch on this OS thread (for tests and curiosity).
struct LaunchStats {
  uint64_t blocks = 0, fibers = 0, switches = 0, barriers = 0, warp_ops = 0;
};
const LaunchStats& last_launch_stats();

namespace detail {

// The running fiber's coordinates; written by the scheduler before each resume. Kernels read
// them through the threadIdx/blockIdx/blockDim/gridDim macros of simt.h (read-only there).
// (inline: constant-initialised, so every TU reads them with a plain TLS load, no wrapper call)
inline thread_local uint3 tls_thread_idx{};
inline thread_local uint3 tls_block_idx{};
inline thread_local dim3 tls_block_dim{};
inline thread_local dim3 tls_grid_dim{};

// A source location of a barrier or warp intrinsic (from std::source_location).
struct Site {
  const char* file;
  unsigned line;
};

enum class BarrierKind { Sync, Count, And, Or };
// Parks the calling fiber at a block barrier; returns the reduction for _count/_and/_or.
int block_barrier(BarrierKind kind, int predicate, Site site);

enum class WarpOp { Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All, SyncWarp };
// One lane's part of a warp rendezvous. For shuffles `value` is the lane's 8-byte payload and
// `arg` the srcLane/delta/laneMask; the result is the payload of the chosen source lane, or
// all-ones bytes (NaN) when that lane does not take part. For votes `value` is the predicate
// and the result the ballot mask. Checks masks, widths and participation.
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, Site site);
// The non-exited lanes of the caller's warp.
unsigned active_mask();
// Base of the launch's dynamic shared memory (refilled with 0xFF bytes before each block).
void* dynamic_shared();
// A vector access of `bytes` at p: fails the launch with cudaErrorMisalignedAddress, as the
// hardware does, unless p is a multiple of `bytes` (x86 would quietly accept it).
void check_aligned(const void* p, size_t bytes, Site site);

// Everything launch() knows about a launch; the kernel body is called through `thunk`.
struct LaunchInfo {
  const char* name;
  const void* func;
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
  void (*thunk)(void* closure);
  void* closure;
};
void run_launch(const LaunchInfo& info);

}  // namespace detail
}  // namespace fcnlab::simt
