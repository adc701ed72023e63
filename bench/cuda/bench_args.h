// bench_args.h — the benchmark programs' own flags (the ladders', and fcnlab-bench's ahead of
// Google Benchmark's): a value flag takes a whole number in a range, and anything else (a missing
// or non-numeric value, an unknown flag) stops the program with "PROGRAM: error: ..." and exit
// status 2, never a silent default or an uncaught exception. Plain C++ (no CLI11), so the
// harnesses build with nvcc on the GPU host exactly as here.
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace fcnlab::bench {

[[noreturn]] inline void usage_error(const char* program, const char* what, const char* arg,
                                     const char* usage) {
  std::fprintf(stderr, "%s: error: %s '%s'\nusage: %s %s\n", program, what, arg, program, usage);
  std::exit(2);
}

// `text`, the value of `flag`, as a whole number in [lo, hi]; otherwise the error above.
inline int parse_int(const char* program, const char* flag, const char* text, int lo, int hi) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
    std::fprintf(stderr, "%s: error: %s expects a whole number in [%d, %d], got '%s'\n", program, flag,
                 lo, hi, text);
    std::exit(2);
  }
  return static_cast<int>(v);
}

// argv[i] is a flag that takes a whole number in [lo, hi] as the next argument: returns it and
// steps i past it.
inline int int_arg(const char* program, const char* usage, int argc, char** argv, int& i, int lo,
                   int hi) {
  const char* flag = argv[i];
  if (i + 1 >= argc) usage_error(program, "a value is missing after", flag, usage);
  return parse_int(program, flag, argv[++i], lo, hi);
}

}  // namespace fcnlab::bench
