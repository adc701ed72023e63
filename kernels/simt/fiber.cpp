// fiber.cpp — stacks with guard pages and the two context-switch back-ends (see fiber.h).
#include "kernels/simt/fiber.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/error.h"

#if defined(__x86_64__) && !defined(FCNLAB_SIMT_NO_ASM)
#define FCNLAB_SIMT_HAVE_ASM 1
// fcnlab_simt_switch(void** save_sp, void* new_sp): push the callee-saved registers and the
// MXCSR / x87 control words on the current stack, store the stack pointer, load the other
// one and pop the same layout from it. A fresh fiber's stack is laid out by context_init so
// that this `ret` lands in fcnlab_simt_trampoline with r12 = arg and r13 = entry.
asm(R"(
  .text
  .globl fcnlab_simt_switch
  .type fcnlab_simt_switch, @function
fcnlab_simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size fcnlab_simt_switch, .-fcnlab_simt_switch

  .globl fcnlab_simt_trampoline
  .type fcnlab_simt_trampoline, @function
fcnlab_simt_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size fcnlab_simt_trampoline, .-fcnlab_simt_trampoline
)");
extern "C" void fcnlab_simt_switch(void** save_sp, void* new_sp);
extern "C" void fcnlab_simt_trampoline();
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FCNLAB_SIMT_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace fcnlab::simt::detail {

namespace {
#ifdef FCNLAB_SIMT_ASAN
thread_local Context* tls_switch_from = nullptr;  // the context being left, for its bounds
#endif

// Runs on the new side of every switch: tells ASan the switch is complete and records the
// bounds of the stack we came from (this is how the OS thread's own stack becomes known).
inline void arrived(void* fake_stack) {
#ifdef FCNLAB_SIMT_ASAN
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (tls_switch_from) {
    tls_switch_from->stack_bottom = bottom;
    tls_switch_from->stack_size = size;
  }
#else
  (void)fake_stack;
#endif
}

// The first code a fiber runs: finish the switch, then the entry (which never returns).
void fiber_start(void* context) {
  arrived(nullptr);
  auto* ctx = static_cast<Context*>(context);
  ctx->entry(ctx->arg);
  std::abort();
}
}  // namespace

Stack::Stack(size_t bytes, size_t color) : color_(color) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_ = (bytes + color + page - 1) / page * page;
  guard_ = kGuardBytes;
  map_bytes_ = size_ + guard_;
  void* m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  FCNLAB_CHECK(m != MAP_FAILED, "simt: mmap of a ", map_bytes_, "-byte fiber stack failed");
  map_ = static_cast<char*>(m);
  // Stacks grow down: the guard region is the lowest part of the mapping.
  FCNLAB_CHECK(mprotect(map_, guard_, PROT_NONE) == 0, "simt: mprotect of a stack guard failed");
  base_ = map_ + guard_;
}

Stack::~Stack() { munmap(map_, map_bytes_); }

// ---- stack overflow report: a SIGSEGV handler (on an alternate signal stack, since the
// fiber's stack is exhausted) that recognises a fault inside a guard of this thread's pool.
namespace {
thread_local const StackPool* tls_pool = nullptr;
std::atomic<FiberDescriber> g_describer{nullptr};

#if !defined(__SANITIZE_ADDRESS__)  // ASan reports overflows itself
struct sigaction g_previous_segv;

void on_segv(int, siginfo_t* info, void*) {
  const StackPool* pool = tls_pool;
  if (pool && pool->in_guard(info->si_addr)) {
    char who[256] = "a kernel";
    if (FiberDescriber d = g_describer.load()) d(who, sizeof who);
    char msg[512];
    int n = std::snprintf(msg, sizeof msg,
                          "simt: fiber stack overflow in %s: a CUDA thread needed more than its "
                          "%zu KiB stack (raise FCNLAB_SIMT_STACK_KIB or shrink local arrays)\n",
                          who, pool->stack_bytes() / 1024);
    if (n > 0) (void)!write(2, msg, static_cast<size_t>(std::min<int>(n, sizeof msg - 1)));
    signal(SIGABRT, SIG_DFL);
    std::abort();
  }
  // Not ours: put the previous handler back and return; the access faults again and it runs.
  sigaction(SIGSEGV, &g_previous_segv, nullptr);
}
#endif

// Makes on_segv the SIGSEGV handler (again, if a test framework swapped its own in) and gives
// this OS thread an alternate signal stack if it has none.
void install_overflow_reporter() {
#if !defined(__SANITIZE_ADDRESS__)
  struct sigaction current {};
  sigaction(SIGSEGV, nullptr, &current);
  if (!((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == &on_segv)) {
    struct sigaction mine {};
    mine.sa_sigaction = &on_segv;
    mine.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&mine.sa_mask);
    sigaction(SIGSEGV, &mine, &g_previous_segv);
  }
  thread_local bool have_altstack = false;
  if (!have_altstack) {
    stack_t ss{};
    sigaltstack(nullptr, &ss);
    if ((ss.ss_flags & SS_DISABLE) || ss.ss_size < 16384) {
      const size_t bytes = 64 * 1024;  // leaked with the thread: at most one per OS thread
      void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m != MAP_FAILED) {
        stack_t mine{};
        mine.ss_sp = m;
        mine.ss_size = bytes;
        sigaltstack(&mine, nullptr);
      }
    }
    have_altstack = true;
  }
#endif
}
}  // namespace

void set_fiber_describer(FiberDescriber d) { g_describer.store(d); }

bool StackPool::in_guard(const void* p) const {
  for (const auto& s : stacks_)
    if (s->in_guard(p)) return true;
  return false;
}

namespace {
// ucontext entry functions take int arguments: pass the two pointers as 32-bit halves.
void uc_entry(unsigned e_lo, unsigned e_hi, unsigned a_lo, unsigned a_hi) {
  auto e = reinterpret_cast<FiberEntry>((uint64_t(e_hi) << 32) | e_lo);
  auto a = reinterpret_cast<void*>((uint64_t(a_hi) << 32) | a_lo);
  e(a);
  std::abort();  // entries never return
}
}  // namespace

void context_init(ContextKind kind, Context& ctx, Stack& stack, FiberEntry entry, void* arg) {
  ctx.entry = entry;
  ctx.arg = arg;
  ctx.stack_bottom = stack.base();
  ctx.stack_size = stack.size() - stack.color();
#ifdef FCNLAB_SIMT_ASAN
  // Frames abandoned on this stack (a fiber that never returned) left their redzones poisoned.
  ASAN_UNPOISON_MEMORY_REGION(stack.base(), stack.size());
#endif
  // The fiber starts in fiber_start(&ctx), which calls entry(arg).
  entry = &fiber_start;
  arg = &ctx;
#ifdef FCNLAB_SIMT_HAVE_ASM
  if (kind == ContextKind::Asm) {
    // Layout, growing down from a 16-byte aligned top A: [A-8] return address = trampoline;
    // below it rbp, rbx, r12 (= arg), r13 (= entry), r14, r15; then the MXCSR/FPU word.
    // After the `ret`, rsp == A, so the trampoline's `call` sees the ABI's alignment.
    uintptr_t top = reinterpret_cast<uintptr_t>(stack.base() + stack.size() - 64 - stack.color()) & ~uintptr_t(15);
    auto* p = reinterpret_cast<uint64_t*>(top);
    *--p = reinterpret_cast<uint64_t>(&fcnlab_simt_trampoline);
    *--p = 0;                                      // rbp
    *--p = 0;                                      // rbx
    *--p = reinterpret_cast<uint64_t>(arg);        // r12
    *--p = reinterpret_cast<uint64_t>(entry);      // r13
    *--p = 0;                                      // r14
    *--p = 0;                                      // r15
    uint32_t mxcsr = 0;
    uint16_t fpcw = 0;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpcw));
    *--p = uint64_t(mxcsr) | (uint64_t(fpcw) << 32);
    ctx.sp = p;
    return;
  }
#endif
  (void)kind;
  if (!ctx.uc) ctx.uc = std::make_unique<ucontext_t>();
  FCNLAB_CHECK(getcontext(ctx.uc.get()) == 0, "simt: getcontext failed");
  ctx.uc->uc_stack.ss_sp = stack.base();
  ctx.uc->uc_stack.ss_size = stack.size() - stack.color();
  ctx.uc->uc_link = nullptr;
  auto e = reinterpret_cast<uint64_t>(entry);
  auto a = reinterpret_cast<uint64_t>(arg);
  makecontext(ctx.uc.get(), reinterpret_cast<void (*)()>(&uc_entry), 4, unsigned(e),
              unsigned(e >> 32), unsigned(a), unsigned(a >> 32));
}

void context_switch(ContextKind kind, Context& from, Context& to, bool from_finished) {
  void* fake_stack = nullptr;
#ifdef FCNLAB_SIMT_ASAN
  tls_switch_from = &from;
  __sanitizer_start_switch_fiber(from_finished ? nullptr : &fake_stack, to.stack_bottom,
                                 to.stack_size);
#else
  (void)from_finished;
#endif
#ifdef FCNLAB_SIMT_HAVE_ASM
  if (kind == ContextKind::Asm) {
    fcnlab_simt_switch(&from.sp, to.sp);
    arrived(fake_stack);
    return;
  }
#endif
  (void)kind;
  if (!from.uc) from.uc = std::make_unique<ucontext_t>();
  swapcontext(from.uc.get(), to.uc.get());
  arrived(fake_stack);
}

ContextKind default_context_kind() {
  const char* env = std::getenv("FCNLAB_SIMT_CONTEXT");
  std::string v = env ? env : "";
  FCNLAB_CHECK(v.empty() || v == "asm" || v == "ucontext",
               "FCNLAB_SIMT_CONTEXT must be asm or ucontext, got '", v, "'");
#ifdef FCNLAB_SIMT_HAVE_ASM
  return v == "ucontext" ? ContextKind::UContext : ContextKind::Asm;
#else
  return ContextKind::UContext;
#endif
}

std::vector<std::unique_ptr<Stack>>& StackPool::get(size_t n, size_t bytes) {
  tls_pool = this;
  install_overflow_reporter();
  if (bytes != bytes_) {
    stacks_.clear();
    bytes_ = bytes;
  }
  while (stacks_.size() < n)
    stacks_.push_back(std::make_unique<Stack>(bytes, stacks_.size() % 61 * 64));
  return stacks_;
}

}  // namespace fcnlab::simt::detail
