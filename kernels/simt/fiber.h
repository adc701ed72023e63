// fiber.h — the execution contexts of the SIMT layer: one fiber per CUDA thread of a block.
// A fiber is a stack plus a saved stack pointer. Stacks are mmap'd with a 64 KiB PROT_NONE
// guard below them and reused across blocks and launches. An overflow faults in the guard
// (code linking fcnlab_simt is built with -fstack-clash-protection, so even a frame larger than
// the guard probes it page by page) and is reported as "fiber stack overflow" with the kernel,
// block and thread before the process aborts, instead of silently corrupting a neighbour. Two switch back-ends: a hand-written x86-64 switch (callee-saved
// registers + MXCSR/x87 control word, about 10 ns) and POSIX ucontext (portable, about 300 ns:
// swapcontext saves the signal mask with a syscall). FCNLAB_SIMT_CONTEXT=ucontext forces the
// latter; non-x86-64 builds always use it. Under AddressSanitizer every switch is announced
// (__sanitizer_start/finish_switch_fiber) and a stack is unpoisoned before it is reused.
#pragma once
#include <ucontext.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace fcnlab::simt::detail {

enum class ContextKind { Asm, UContext };

// Entry point of a fiber; it must never return (it switches back to the scheduler instead).
using FiberEntry = void (*)(void* arg);

// One stack with a guard region; owns its mapping.
class Stack {
 public:
  static constexpr size_t kGuardBytes = 64 * 1024;
  // `color`: bytes left unused at the top, so that the stack tops of many fibers do not all
  // map to the same cache sets (they would: stacks are a multiple of the page size apart).
  Stack(size_t bytes, size_t color);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  char* base() const { return base_; }  // lowest usable byte (just above the guard)
  bool in_guard(const void* p) const { return p >= map_ && p < base_; }
  size_t size() const { return size_; }
  size_t color() const { return color_; }

 private:
  char* map_ = nullptr;
  size_t map_bytes_ = 0;
  size_t guard_ = 0;
  char* base_ = nullptr;
  size_t size_ = 0;
  size_t color_ = 0;
};

// A saved execution context: either a stack pointer (asm switch) or a ucontext_t, plus what
// a fresh fiber runs and its stack bounds (AddressSanitizer must be told about every switch).
struct Context {
  void* sp = nullptr;
  std::unique_ptr<ucontext_t> uc;
  FiberEntry entry = nullptr;
  void* arg = nullptr;
  const void* stack_bottom = nullptr;  // learnt at the first switch away for the OS stack
  size_t stack_size = 0;
};

// Prepares `ctx` to start running entry(arg) on `stack` at the next switch into it.
void context_init(ContextKind kind, Context& ctx, Stack& stack, FiberEntry entry, void* arg);
// Saves the running context into `from` and resumes `to`. `from_finished`: `from` will never
// be resumed (lets AddressSanitizer drop its fake stack).
void context_switch(ContextKind kind, Context& from, Context& to, bool from_finished = false);
// The back-end to use: FCNLAB_SIMT_CONTEXT=asm|ucontext, default asm where available.
ContextKind default_context_kind();

// Per-OS-thread pool of fiber stacks, grown on demand, reused by every launch on that thread.
class StackPool {
 public:
  // Returns at least n stacks of `bytes` each (re-creates them if the size changed), and makes
  // sure a stack overflow on this OS thread is reported (see install_overflow_reporter).
  std::vector<std::unique_ptr<Stack>>& get(size_t n, size_t bytes);
  bool in_guard(const void* p) const;
  size_t stack_bytes() const { return bytes_; }

 private:
  std::vector<std::unique_ptr<Stack>> stacks_;
  size_t bytes_ = 0;
};

// Writes a description of the running CUDA thread (kernel, block, thread) into buf; the
// scheduler registers it so the overflow report can name them. Must not allocate.
using FiberDescriber = void (*)(char* buf, size_t n);
void set_fiber_describer(FiberDescriber d);

}  // namespace fcnlab::simt::detail
