// block_state.h — internal: the state of the block that is running on this OS thread, shared
// by the scheduler (scheduler.cpp) and the warp rendezvous (warp.cpp). Not for kernels.
#pragma once
#include <array>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "kernels/simt/fiber.h"
#include "kernels/simt/scheduler.h"

namespace fcnlab::simt::detail {

enum class FiberState { Ready, AtBarrier, AtWarp, Exited, Failed };

// One CUDA thread of the running block.
struct Fiber {
  Context ctx;
  FiberState state = FiberState::Ready;
  unsigned linear = 0;  // x + y*blockDim.x + z*blockDim.x*blockDim.y
  uint3 tid{};
  // while AtBarrier
  BarrierKind barrier_kind = BarrierKind::Sync;
  int predicate = 0;
  Site site{"", 0};
  int barrier_result = 0;
  // while AtWarp
  uint64_t warp_result = 0;
  std::exception_ptr error;  // when Failed
};

// One pending warp rendezvous: the lanes named in `mask` that have arrived so far.
struct WarpGroup {
  WarpOp op;
  unsigned mask;
  int width;
  Site site;
  unsigned arrived = 0;
  std::array<uint64_t, 32> value{};
  std::array<int, 32> arg{};
};

struct WarpState {
  unsigned present = 0;  // lanes that exist (the last warp of a block may be partial)
  unsigned exited = 0;
  std::vector<WarpGroup> pending;  // disjoint masks
};

struct BlockState {
  const LaunchInfo* info = nullptr;
  ContextKind context_kind = ContextKind::Asm;
  bool strict_exit = true;
  Context scheduler;
  std::vector<Fiber> fibers;
  std::vector<WarpState> warps;
  Fiber* current = nullptr;
  unsigned exited = 0;
  LaunchStats* stats = nullptr;
};

// The block running on this OS thread, or null outside a launch.
extern thread_local BlockState* tls_block;

// The running fiber; throws if called outside a kernel.
Fiber& current_fiber(const char* what);
// Parks the running fiber and returns to the scheduler.
void yield_to_scheduler(Fiber& f);
// Throws a KernelError prefixed with the kernel name, block and (if any) thread.
[[noreturn]] void fail(cudaError_t code, const std::string& message, const Fiber* f = nullptr);

std::string str(uint3 v);
std::string str(Site s);
std::string lanes_str(unsigned mask);
std::string hex(unsigned mask);
const char* op_name(WarpOp op);
// Called when a fiber's kernel body returns: the warp bookkeeping and the exit checks.
void warp_thread_exit(Fiber& f);
// Describes the first pending warp rendezvous that can no longer complete (for deadlocks).
std::string describe_stuck_warp(const BlockState& b);

}  // namespace fcnlab::simt::detail
