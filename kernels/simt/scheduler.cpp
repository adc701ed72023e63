// scheduler.cpp — runs a launch: validates the shape, then for each block (in schedule order)
// starts one fiber per thread and resumes the runnable fibers round by round in schedule order
// until every one has exited. At the end of each round it checks the block-barrier rules
// (one call site, nobody exited) and releases the barrier, or reports a deadlock.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

#include "kernels/simt/block_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace fcnlab::simt {
namespace detail {

thread_local BlockState* tls_block = nullptr;

namespace {

thread_local StackPool tls_stacks;
thread_local std::string tls_last_diagnostic;
thread_local LaunchStats tls_stats;

// The launch's dynamic shared memory: one buffer per OS thread, 128-byte aligned.
struct SharedArena {
  void* data = nullptr;
  size_t bytes = 0;
  ~SharedArena() {
#if defined(__SANITIZE_ADDRESS__)
    if (data) ASAN_UNPOISON_MEMORY_REGION(data, bytes);
#endif
    std::free(data);
  }
  // Returns a buffer of at least n bytes; under ASan the bytes past n are poisoned.
  void* get(size_t n) {
    const size_t want = (std::max<size_t>(n, 128) + 127) / 128 * 128;
    if (want > bytes) {
#if defined(__SANITIZE_ADDRESS__)
      if (data) ASAN_UNPOISON_MEMORY_REGION(data, bytes);
#endif
      std::free(data);
      data = std::aligned_alloc(128, want);
      FCNLAB_CHECK(data, "simt: cannot allocate ", n, " bytes of dynamic shared memory");
      bytes = want;
    }
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(data, bytes);
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(data) + n, bytes - n);
#endif
    return data;
  }
};
thread_local SharedArena tls_shared;
thread_local void* tls_shared_base = nullptr;

// splitmix64: a small, portable, seedable generator (std::shuffle is not portable).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }
};

void fiber_main(void* arg) {
  auto* f = static_cast<Fiber*>(arg);
  BlockState* b = tls_block;
  try {
    b->info->thunk(b->info->closure);
    warp_thread_exit(*f);
    f->state = FiberState::Exited;
    ++b->exited;
  } catch (...) {
    f->error = std::current_exception();
    f->state = FiberState::Failed;
  }
  context_switch(b->context_kind, f->ctx, b->scheduler, /*from_finished=*/true);
  std::abort();  // never resumed
}

void resume(BlockState& b, Fiber& f) {
  tls_thread_idx = f.tid;
  b.current = &f;
  ++b.stats->switches;
  context_switch(b.context_kind, b.scheduler, f.ctx);
  b.current = nullptr;
  if (f.state == FiberState::Failed) {
    try {
      std::rethrow_exception(f.error);
    } catch (const KernelError&) {
      throw;
    } catch (const std::exception& e) {
      fail(cudaErrorLaunchFailure, std::string("exception thrown by the kernel: ") + e.what(), &f);
    }
  }
}

bool same_site(Site a, Site b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

const char* barrier_name(BarrierKind k) {
  switch (k) {
    case BarrierKind::Sync: return "__syncthreads()";
    case BarrierKind::Count: return "__syncthreads_count()";
    case BarrierKind::And: return "__syncthreads_and()";
    case BarrierKind::Or: return "__syncthreads_or()";
  }
  return "?";
}

// No fiber is runnable: either all exited, or all live ones wait at one barrier (release
// it), or the block is stuck. Returns false when the block is done.
bool end_of_round(BlockState& b) {
  const unsigned n = static_cast<unsigned>(b.fibers.size());
  if (b.exited == n) return false;
  const Fiber* first_waiting = nullptr;
  const Fiber* first_exited = nullptr;
  for (const Fiber& f : b.fibers) {
    if (f.state == FiberState::AtWarp)
      fail(cudaErrorLaunchFailure, "deadlock: " + describe_stuck_warp(b));
    if (f.state == FiberState::Exited && !first_exited) first_exited = &f;
    if (f.state != FiberState::AtBarrier) continue;
    if (!first_waiting) {
      first_waiting = &f;
    } else if (!same_site(f.site, first_waiting->site)) {
      fail(cudaErrorLaunchFailure,
           "barrier divergence: thread " + str(first_waiting->tid) + " waits at " +
               barrier_name(first_waiting->barrier_kind) + " at " + str(first_waiting->site) +
               " while thread " + str(f.tid) + " waits at " + barrier_name(f.barrier_kind) +
               " at " + str(f.site) + " (every thread of a block must reach the same barrier)");
    }
  }
  if (first_exited && b.strict_exit) {
    fail(cudaErrorLaunchFailure,
         "thread " + str(first_exited->tid) + " exited while thread " + str(first_waiting->tid) +
             " waits at " + barrier_name(first_waiting->barrier_kind) + " at " +
             str(first_waiting->site) + " (" + std::to_string(b.exited) + " of " +
             std::to_string(n) +
             " threads exited; an early return before a barrier: guard the work instead)");
  }
  int count = 0, all = 1, any = 0;
  for (const Fiber& f : b.fibers) {
    if (f.state != FiberState::AtBarrier) continue;
    count += f.predicate != 0;
    all &= f.predicate != 0;
    any |= f.predicate != 0;
  }
  const BarrierKind kind = first_waiting->barrier_kind;
  const int result = kind == BarrierKind::Count ? count
                     : kind == BarrierKind::And ? all
                     : kind == BarrierKind::Or  ? any
                                                : 0;
  for (Fiber& f : b.fibers) {
    if (f.state != FiberState::AtBarrier) continue;
    f.barrier_result = result;
    f.state = FiberState::Ready;
  }
  ++b.stats->barriers;
  return true;
}

void run_block(BlockState& b, std::vector<std::unique_ptr<Stack>>& stacks, Rng& rng,
               Order order) {
  const unsigned n = static_cast<unsigned>(b.fibers.size());
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    f.state = FiberState::Ready;
    f.error = nullptr;
    context_init(b.context_kind, f.ctx, *stacks[i], &fiber_main, &f);
  }
  for (size_t w = 0; w < b.warps.size(); ++w) {
    unsigned lanes = std::min(32u, n - static_cast<unsigned>(w) * 32u);
    b.warps[w].present = lanes == 32 ? ~0u : (1u << lanes) - 1u;
    b.warps[w].exited = 0;
    b.warps[w].pending.clear();
  }
  b.exited = 0;
  std::memset(tls_shared_base, 0xFF, b.info->shared_bytes);
  std::vector<unsigned> ready;
  ready.reserve(n);
  do {
    for (;;) {
      ready.clear();
      for (unsigned i = 0; i < n; ++i)
        if (b.fibers[i].state == FiberState::Ready) ready.push_back(i);
      if (ready.empty()) break;
      if (order == Order::Reverse) std::reverse(ready.begin(), ready.end());
      if (order == Order::Random) rng.shuffle(ready);
      for (unsigned i : ready) resume(b, b.fibers[i]);
    }
  } while (end_of_round(b));
}

// Launch-shape rules (CUDA compute capability 9.0 limits), checked before anything runs.
void validate(const LaunchInfo& in) {
  const std::string who = std::string("kernel '") + in.name + "': ";
  auto bad = [&](const std::string& what) { fail(cudaErrorInvalidConfiguration, who + what); };
  if (!in.func) fail(cudaErrorInvalidDeviceFunction, who + "null kernel");
  const dim3 g = in.grid, k = in.block;
  if (g.x == 0 || g.y == 0 || g.z == 0)
    bad("gridDim " + str(uint3(g)) + " has a zero dimension");
  if (k.x == 0 || k.y == 0 || k.z == 0)
    bad("blockDim " + str(uint3(k)) + " has a zero dimension");
  if (k.x > 1024 || k.y > 1024 || k.z > 64)
    bad("blockDim " + str(uint3(k)) + " exceeds the per-dimension limits (1024, 1024, 64)");
  if (uint64_t(k.x) * k.y * k.z > 1024)
    bad("blockDim " + str(uint3(k)) + " has " + std::to_string(uint64_t(k.x) * k.y * k.z) +
        " threads; at most 1024 per block");
  if (g.x > 0x7FFFFFFFu || g.y > 65535 || g.z > 65535)
    bad("gridDim " + str(uint3(g)) + " exceeds the limits (2^31-1, 65535, 65535)");
  const size_t limit = max_dynamic_shared(in.func);
  if (in.shared_bytes > limit)
    fail(cudaErrorInvalidValue,
         who + std::to_string(in.shared_bytes) + " bytes of dynamic shared memory requested; the limit is " +
             std::to_string(limit) +
             (limit == kDefaultSharedBytes
                  ? " (48 KiB by default; raise it up to 227 KiB with cudaFuncSetAttribute("
                    "kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes))"
                  : " (set with cudaFuncSetAttribute)"));
  if (!is_valid_stream(in.stream))
    fail(cudaErrorInvalidResourceHandle, who + "launch on a stream that does not exist");
}

// For the stack-overflow report (runs in a signal handler: no allocation).
void describe_running_fiber(char* buf, size_t n) {
  const BlockState* b = tls_block;
  if (!b || !b->current) {
    std::snprintf(buf, n, "a kernel");
    return;
  }
  const uint3 k = tls_block_idx, t = b->current->tid;
  std::snprintf(buf, n, "kernel '%s' block (%u,%u,%u) thread (%u,%u,%u)", b->info->name, k.x, k.y,
                k.z, t.x, t.y, t.z);
}

}  // namespace

Fiber& current_fiber(const char* what) {
  BlockState* b = tls_block;
  if (!b || !b->current)
    throw KernelError(cudaErrorNotSupported,
                      std::string("simt: ") + what + " called outside a running kernel");
  return *b->current;
}

void yield_to_scheduler(Fiber& f) {
  BlockState* b = tls_block;
  context_switch(b->context_kind, f.ctx, b->scheduler);
}

void fail(cudaError_t code, const std::string& message, const Fiber* f) {
  std::ostringstream os;
  os << "simt: ";
  if (const BlockState* b = tls_block) {
    os << "kernel '" << b->info->name << "' block " << str(tls_block_idx);
    if (!f) f = b->current;
    if (f) os << " thread " << str(f->tid);
    os << ": ";
  }
  os << message;
  throw KernelError(code, os.str());
}

std::string str(uint3 v) {
  std::ostringstream os;
  os << '(' << v.x << ',' << v.y << ',' << v.z << ')';
  return os.str();
}
std::string str(Site s) { return std::string(s.file) + ":" + std::to_string(s.line); }

int block_barrier(BarrierKind kind, int predicate, Site site) {
  Fiber& f = current_fiber(barrier_name(kind));
  f.barrier_kind = kind;
  f.predicate = predicate;
  f.site = site;
  f.state = FiberState::AtBarrier;
  yield_to_scheduler(f);
  return f.barrier_result;
}

void check_aligned(const void* p, size_t bytes, Site site) {
  Fiber& f = current_fiber("a vector load");
  if (reinterpret_cast<uintptr_t>(p) % bytes == 0) return;
  f.site = site;
  char where[32];
  std::snprintf(where, sizeof where, "%p", p);
  fail(cudaErrorMisalignedAddress, "misaligned " + std::to_string(bytes) + "-byte vector access at " +
                                       where + " (" + str(site) + "): the address must be a multiple of " +
                                       std::to_string(bytes), &f);
}

void* dynamic_shared() {
  current_fiber("the dynamic shared memory macro");
  return tls_shared_base;
}

void run_launch(const LaunchInfo& in) {
  tls_stats = {};
  BlockState b;
  b.info = &in;
  b.stats = &tls_stats;
  try {
    if (tls_block)
      fail(cudaErrorNotSupported, "a kernel launched another kernel (dynamic parallelism)");
    validate(in);
    const Options& opt = options();
    b.context_kind = default_context_kind();
    b.strict_exit = opt.strict_exit;
    const unsigned n = in.block.x * in.block.y * in.block.z;
    b.fibers.resize(n);
    for (unsigned i = 0; i < n; ++i) {
      b.fibers[i].linear = i;
      b.fibers[i].tid = uint3{i % in.block.x, (i / in.block.x) % in.block.y,
                              i / (in.block.x * in.block.y)};
    }
    b.warps.resize((n + 31) / 32);
    set_fiber_describer(&describe_running_fiber);
    auto& stacks = tls_stacks.get(n, opt.stack_bytes);
    tls_shared_base = tls_shared.get(in.shared_bytes);
    tls_block_dim = in.block;
    tls_grid_dim = in.grid;
    const uint64_t nblocks = uint64_t(in.grid.x) * in.grid.y * in.grid.z;
    Rng rng{opt.schedule.seed};
    std::vector<uint64_t> shuffled;
    if (opt.schedule.order == Order::Random) {
      shuffled.resize(nblocks);
      for (uint64_t i = 0; i < nblocks; ++i) shuffled[i] = i;
      rng.shuffle(shuffled);
    }
    tls_block = &b;
    for (uint64_t i = 0; i < nblocks; ++i) {
      uint64_t id = opt.schedule.order == Order::InOrder   ? i
                    : opt.schedule.order == Order::Reverse ? nblocks - 1 - i
                                                           : shuffled[i];
      tls_block_idx = uint3{unsigned(id % in.grid.x), unsigned((id / in.grid.x) % in.grid.y),
                            unsigned(id / (uint64_t(in.grid.x) * in.grid.y))};
      run_block(b, stacks, rng, opt.schedule.order);
      ++tls_stats.blocks;
      tls_stats.fibers += n;
    }
    tls_block = nullptr;
  } catch (const KernelError& e) {
    tls_block = nullptr;
    tls_last_diagnostic = e.what();
    record_error(e.code(), e.what());
    if (options().errors == ErrorMode::Throw) throw;
  } catch (...) {
    tls_block = nullptr;
    throw;
  }
}

}  // namespace detail

const std::string& last_diagnostic() { return detail::tls_last_diagnostic; }
const LaunchStats& last_launch_stats() { return detail::tls_stats; }

}  // namespace fcnlab::simt
