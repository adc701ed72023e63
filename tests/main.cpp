// The doctest runner shared by every test executable.
// ctest runs one test case per process through --test-case=NAME. A name that ctest's
// discovery mangles (a ';' splits it) would match nothing and "pass" having run nothing, so a
// filtered run that executed no test case is a failure here.
// Kernel tests (FCNLAB_KERNEL_TESTS): in a cuda build on a machine without a usable GPU every
// test exits 77, which ctest reports as skipped, never passed. Under simt the "GPU" is the
// emulator: they always run, each under the in-order and then the reverse thread schedule, so
// a missing barrier (a read of shared memory another thread has not written yet) shows.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>

#if defined(FCNLAB_KERNEL_TESTS)
#include "kernels/cuda/runtime.h"
#endif
#if defined(FCNLAB_KERNEL_TESTS) && defined(FCNLAB_GPU_SIMT)
#include "kernels/simt/scheduler.h"
#endif

namespace {

int g_cases_started = 0;

struct CountingListener : doctest::IReporter {
  explicit CountingListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { ++g_cases_started; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

bool has_arg(int argc, char** argv, const char* prefix) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix, std::strlen(prefix)) == 0) return true;
  return false;
}

}  // namespace

DOCTEST_REGISTER_LISTENER("fcnlab-counter", 1, CountingListener);

int main(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
#if defined(FCNLAB_KERNEL_TESTS)
  std::string why;
  if (!has_arg(argc, argv, "--list") && !fcnlab::kernels::cuda::device_available(&why)) {
    std::printf("SKIPPED: no usable CUDA device (%s)\n", why.c_str());
    return 77;
  }
#endif
#if defined(FCNLAB_KERNEL_TESTS) && defined(FCNLAB_GPU_SIMT)
  int rc = 0;
  for (const char* sched : {"inorder", "reverse"}) {
    fcnlab::simt::ScopedOptions scoped(fcnlab::simt::Schedule::parse(sched));
    int r = ctx.run();
    if (ctx.shouldExit()) return r;  // --help, --list-test-cases, ...
    if (r != 0) std::fprintf(stderr, "fcnlab kernel tests: failed under the %s schedule\n", sched);
    rc = rc ? rc : r;
  }
#else
  int rc = ctx.run();
  if (ctx.shouldExit()) return rc;  // --help, --list-test-cases, ...
#endif
  bool filtered = has_arg(argc, argv, "--test-case=") || has_arg(argc, argv, "-tc=");
  if (filtered && g_cases_started == 0) {
    std::fprintf(stderr, "fcnlab tests: the test-case filter matched no test case; nothing ran\n");
    return 1;
  }
  return rc;
}
