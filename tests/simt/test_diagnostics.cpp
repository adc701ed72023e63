// What hardware or compute-sanitizer would punish, caught by the SIMT layer: a missing barrier
// (exposed by the reverse schedule), barrier divergence, exit before a barrier, bad warp masks,
// warp/block deadlock, illegal launch shapes and shared-memory sizes, misaligned vector loads; and
// how errors surface
// (exception by default; cudaGetLastError / cudaDeviceSynchronize in record mode).
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "tests/simt/simt_test.h"

using namespace fcnlab::simt;
using fcnlab::simt::test::DeviceBuffer;

namespace {

// out[t] = in[t] + in[t-1] through shared memory; the barrier between the write and the
// neighbour's read is missing unless `with_barrier`.
__global__ void neighbour_sum(const float* in, float* out, int with_barrier) {
  FCNLAB_DYNAMIC_SHARED(float, s);
  const unsigned t = threadIdx.x;
  s[t] = in[t];
  if (with_barrier) __syncthreads();
  out[t] = s[t] + (t > 0 ? s[t - 1] : 0.0f);
}

__global__ void divergent_barrier(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}
constexpr int kDivergentLineA = __LINE__ - 6;  // the first __syncthreads() above
constexpr int kDivergentLineB = __LINE__ - 5;

// The classic early return: threads past n leave before the barrier the others wait at.
__global__ void early_return(const float* in, float* out, unsigned n) {
  __shared__ float s[64];
  const unsigned t = threadIdx.x;
  if (t >= n) return;
  s[t] = in[t];
  __syncthreads();
  out[t] = s[n - 1 - t];
}

__global__ void mask_without_self(int* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, static_cast<int>(threadIdx.x), 0);
}

__global__ void masks_disagree(int* out) {
  const unsigned mask = threadIdx.x == 0 ? 0xFFFFFFFFu : 0xFFFFFFFEu;
  out[threadIdx.x] = __shfl_sync(mask, static_cast<int>(threadIdx.x), 1);
}

__global__ void mask_names_exited(int* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xFFFFFFFFu, static_cast<int>(threadIdx.x), 1);
}

__global__ void bad_width(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xFFFFFFFFu, 1, 1, 12);
}

__global__ void warp_waits_for_barrier(int* out) {
  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  out[threadIdx.x] = 1;
}

__global__ void set_flag(int* flag) { flag[0] = 1; }

__global__ void throws_inside(int* out) {
  if (threadIdx.x == 3) throw std::runtime_error("boom");
  out[threadIdx.x] = 1;
}

// out[t] = the sum of in[offset + 4t .. offset + 4t + 3], read as one 16-byte vector.
__global__ void vector_sums(const float* in, int offset, float* out) {
  const float4 v = fcnlab::kernels::cuda::load_float4(in + offset + 4 * threadIdx.x);
  out[threadIdx.x] = v.x + v.y + v.z + v.w;
}
constexpr int kVectorLoadLine = __LINE__ - 3;

// Runs `f`, expects a KernelError with `code` whose message contains every string in `parts`.
template <class F>
void expect_error(F f, cudaError_t code, std::initializer_list<const char*> parts) {
  bool thrown = false;
  try {
    f();
  } catch (const KernelError& e) {
    thrown = true;
    INFO(std::string(e.what()));
    CHECK(e.code() == code);
    for (const char* p : parts) CHECK(std::string(e.what()).find(p) != std::string::npos);
  }
  CHECK(thrown);
  cudaGetLastError();
  cudaDeviceSynchronize();
}

}  // namespace

TEST_CASE("a missing __syncthreads() is right in order and wrong under the reverse schedule") {
  std::vector<float> in(64);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i + 1);
  std::vector<float> expect(64);
  for (size_t i = 0; i < in.size(); ++i) expect[i] = in[i] + (i ? in[i - 1] : 0.0f);
  auto run = [&](const char* schedule, int with_barrier) {
    ScopedOptions scope(Schedule::parse(schedule));
    DeviceBuffer<float> din(in), dout(64);
    FCNLAB_LAUNCH(neighbour_sum, 1, 64, 64 * sizeof(float), 0, din.get(), dout.get(), with_barrier);
    return dout.read();
  };
  CHECK(run("inorder", 0) == expect);
  std::vector<float> reversed = run("reverse", 0);
  CHECK(reversed != expect);
  CHECK(reversed[0] == expect[0]);
  for (size_t i = 1; i < 64; ++i) CHECK(std::isnan(reversed[i]));  // read the poison
  CHECK(run("inorder", 1) == expect);
  CHECK(run("reverse", 1) == expect);
  CHECK(run("random:7", 1) == expect);
}

TEST_CASE("a misaligned 16-byte vector load fails the launch as on a GPU, with its call site") {
  std::vector<float> in(4 * 32 + 4);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  DeviceBuffer<float> din(in), dout(32);
  FCNLAB_LAUNCH(vector_sums, 1, 32, 0, 0, din.get(), 4, dout.get());  // 16 bytes in: aligned
  const std::vector<float> got = dout.read();
  for (int t = 0; t < 32; ++t) CHECK(got[size_t(t)] == static_cast<float>(4 * (4 * t + 4) + 6));
  const std::string site = "test_diagnostics.cpp:" + std::to_string(kVectorLoadLine);
  for (int offset : {1, 2, 3}) {  // 4, 8, 12 bytes in: what x86 would quietly accept
    CAPTURE(offset);
    expect_error([&] { FCNLAB_LAUNCH(vector_sums, 1, 32, 0, 0, din.get(), offset, dout.get()); },
                 cudaErrorMisalignedAddress,
                 {"kernel 'vector_sums'", "misaligned 16-byte vector access", site.c_str()});
  }
}

TEST_CASE("barrier divergence is diagnosed with both call sites") {
  DeviceBuffer<int> out(64);
  const std::string a = "test_diagnostics.cpp:" + std::to_string(kDivergentLineA);
  const std::string b = "test_diagnostics.cpp:" + std::to_string(kDivergentLineB);
  for (const char* s : {"inorder", "reverse", "random:3"}) {
    ScopedOptions scope(Schedule::parse(s));
    expect_error([&] { FCNLAB_LAUNCH(divergent_barrier, 2, 64, 0, 0, out.get()); },
                 cudaErrorLaunchFailure,
                 {"kernel 'divergent_barrier'", "block (", "barrier divergence", a.c_str(), b.c_str()});
  }
}

TEST_CASE("exit before a barrier is diagnosed in both orders, and allowed when not strict") {
  std::vector<float> in(64, 1.0f);
  DeviceBuffer<float> din(in), dout(std::vector<float>(64, 0.0f));
  for (const char* s : {"inorder", "reverse"}) {
    ScopedOptions scope(Schedule::parse(s));
    expect_error([&] { FCNLAB_LAUNCH(early_return, 1, 64, 0, 0, din.get(), dout.get(), 40u); },
                 cudaErrorLaunchFailure, {"kernel 'early_return'", "exited while thread", "__syncthreads()"});
  }
  Options lenient;
  lenient.strict_exit = false;
  ScopedOptions scope(lenient);
  FCNLAB_LAUNCH(early_return, 1, 64, 0, 0, din.get(), dout.get(), 40u);
  auto got = dout.read();
  for (int t = 0; t < 40; ++t) CHECK(got[t] == 1.0f);
  FCNLAB_LAUNCH(early_return, 1, 64, 0, 0, din.get(), dout.get(), 64u);  // no early exit: fine
}

TEST_CASE("bad warp masks are diagnosed") {
  ScopedOptions in_order(Schedule::parse("inorder"));  // which lane fails first depends on it
  DeviceBuffer<int> out(32);
  expect_error([&] { FCNLAB_LAUNCH(mask_without_self, 1, 32, 0, 0, out.get()); },
               cudaErrorIllegalInstruction, {"thread (1,0,0)", "does not include the calling lane"});
  {
    ScopedOptions scope(Schedule::parse("inorder"));
    expect_error([&] { FCNLAB_LAUNCH(masks_disagree, 1, 32, 0, 0, out.get()); },
                 cudaErrorIllegalInstruction, {"disagree on the mask", "0xfffffffe", "0xffffffff"});
  }
  {
    ScopedOptions scope(Schedule::parse("reverse"));  // lanes 1..31 meet first, lane 0 waits alone
    expect_error([&] { FCNLAB_LAUNCH(masks_disagree, 1, 32, 0, 0, out.get()); },
                 cudaErrorIllegalInstruction, {"wait for lane"});
  }
  {
    ScopedOptions scope(Schedule::parse("inorder"));  // lanes 0..15 wait, then 16 exits
    expect_error([&] { FCNLAB_LAUNCH(mask_names_exited, 1, 32, 0, 0, out.get()); },
                 cudaErrorIllegalInstruction, {"thread exited while lane(s) {0-15}", "__shfl_down_sync"});
  }
  {
    ScopedOptions scope(Schedule::parse("reverse"));  // lanes 31..16 exit first
    expect_error([&] { FCNLAB_LAUNCH(mask_names_exited, 1, 32, 0, 0, out.get()); },
                 cudaErrorIllegalInstruction, {"names lane(s) {16-31}", "already exited"});
  }
  expect_error([&] { FCNLAB_LAUNCH(bad_width, 1, 32, 0, 0, out.get()); },
               cudaErrorIllegalInstruction, {"width 12 is not a power of two"});
  expect_error([&] { FCNLAB_LAUNCH(warp_waits_for_barrier, 1, 32, 0, 0, out.get()); },
               cudaErrorLaunchFailure, {"deadlock", "__syncwarp", "waits at a block barrier"});
}

TEST_CASE("when not strict, exited lanes count as arrived and read as NaN/all-ones") {
  Options lenient;
  lenient.strict_exit = false;
  for (const char* s : {"inorder", "reverse", "random:11"}) {
    lenient.schedule = Schedule::parse(s);
    ScopedOptions scope(lenient);
    DeviceBuffer<int> out(std::vector<int>(32, 0));
    FCNLAB_LAUNCH(mask_names_exited, 1, 32, 0, 0, out.get());
    auto got = out.read();
    for (int l = 0; l < 15; ++l) CHECK(got[l] == l + 1);
    CHECK(got[15] == -1);  // lane 16 exited: an undefined value, all-ones bytes here
    for (int l = 16; l < 32; ++l) CHECK(got[l] == 0);
  }
}

TEST_CASE("illegal launch shapes are rejected before anything runs") {
  DeviceBuffer<int> flag(std::vector<int>{0});
  struct Shape {
    dim3 grid, block;
  };
  for (const Shape& s : {Shape{1, 1025}, Shape{1, dim3(32, 32, 2)}, Shape{1, dim3(1, 1, 65)},
                         Shape{1, dim3(1, 1025, 1)}, Shape{1, dim3(0, 1, 1)}, Shape{0, 32},
                         Shape{dim3(1, 65536, 1), 32}, Shape{dim3(1, 1, 65536), 32},
                         Shape{dim3(1, 0, 1), 32}}) {
    CAPTURE(s.block.x);
    CAPTURE(s.block.y);
    CAPTURE(s.block.z);
    expect_error([&] { FCNLAB_LAUNCH(set_flag, s.grid, s.block, 0, 0, flag.get()); },
                 cudaErrorInvalidConfiguration, {"kernel 'set_flag'"});
  }
  CHECK(flag.read() == std::vector<int>{0});
  FCNLAB_LAUNCH(set_flag, dim3(1, 1, 1), dim3(1024, 1, 1), 0, 0, flag.get());  // the largest block
  CHECK(flag.read() == std::vector<int>{1});
}

TEST_CASE("dynamic shared memory above 48 KiB needs cudaFuncSetAttribute, up to 227 KiB") {
  DeviceBuffer<int> flag(std::vector<int>{0});
  // set_flag's limit is changed below; this kernel keeps the default.
  auto other = +[](int* f) { f[0] = 2; };
  expect_error([&] { FCNLAB_LAUNCH(other, 1, 32, 48 * 1024 + 4, 0, flag.get()); },
               cudaErrorInvalidValue, {"48 KiB by default", "cudaFuncSetAttribute"});
  FCNLAB_LAUNCH(other, 1, 32, 48 * 1024, 0, flag.get());
  CHECK(flag.read() == std::vector<int>{2});
  CHECK(cudaFuncSetAttribute(set_flag, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024) ==
        cudaErrorInvalidValue);
  CHECK(cudaFuncSetAttribute(set_flag, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024) ==
        cudaSuccess);
  FCNLAB_LAUNCH(set_flag, 1, 32, 100 * 1024, 0, flag.get());
  CHECK(flag.read() == std::vector<int>{1});
  expect_error([&] { FCNLAB_LAUNCH(set_flag, 1, 32, 100 * 1024 + 1, 0, flag.get()); },
               cudaErrorInvalidValue, {"limit is 102400"});
  cudaGetLastError();
}

TEST_CASE("in record mode errors surface through cudaGetLastError and cudaDeviceSynchronize") {
  Options record;
  record.errors = ErrorMode::Record;
  ScopedOptions scope(record);
  DeviceBuffer<int> out(64);
  cudaGetLastError();
  cudaDeviceSynchronize();
  CHECK_NOTHROW(FCNLAB_LAUNCH(divergent_barrier, 1, 64, 0, 0, out.get()));
  CHECK(cudaPeekAtLastError() == cudaErrorLaunchFailure);
  const std::string text = cudaGetErrorString(cudaPeekAtLastError());
  CHECK(text.find("unspecified launch failure") == 0);
  CHECK(text.find("barrier divergence") != std::string::npos);
  CHECK(last_diagnostic().find("divergent_barrier") != std::string::npos);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK_NOTHROW(FCNLAB_LAUNCH(set_flag, 1, 2048, 0, 0, out.get()));
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  cudaDeviceSynchronize();
}

TEST_CASE("an exception inside a kernel becomes a launch failure and the next launch runs normally") {
  DeviceBuffer<int> out(std::vector<int>(8, 0));
  expect_error([&] { FCNLAB_LAUNCH(throws_inside, 1, 8, 0, 0, out.get()); }, cudaErrorLaunchFailure,
               {"thread (3,0,0)", "boom"});
  FCNLAB_LAUNCH(set_flag, 1, 1, 0, 0, out.get());
  CHECK(out.read()[0] == 1);
  CHECK_THROWS_AS(__syncthreads(), KernelError);  // outside any kernel
}

#if !defined(__SANITIZE_ADDRESS__)
#include <sys/wait.h>
#include <unistd.h>

namespace {
// 200 KiB of locals: more than the 64 KiB fiber stack and its 64 KiB guard together.
__global__ void stack_hog(int* out) {
  volatile char big[200 * 1024];
  big[0] = 1;
  big[sizeof big - 1] = 2;
  out[threadIdx.x] = big[0] + big[sizeof big - 1];
}
}  // namespace

TEST_CASE("a fiber stack overflow is reported with the kernel and thread, then aborts") {
  ScopedOptions in_order(Schedule::parse("inorder"));  // thread 0 overflows first
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  DeviceBuffer<int> out(4);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(fds[1], 2);
    FCNLAB_LAUNCH(stack_hog, 1, 4, 0, 0, out.get());
    _exit(0);  // not reached when the overflow is caught
  }
  close(fds[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  INFO(err);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err.find("fiber stack overflow in kernel 'stack_hog' block (0,0,0) thread (0,0,0)") !=
        std::string::npos);
}
#endif
