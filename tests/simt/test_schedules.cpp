// Schedules: the thread and block orders they produce, determinism of the seeded random
// schedule, parsing; and a 2-d tiled matrix multiply (shared-memory tiles, sizes that are not
// multiples of the tile) exact on integer data under every schedule and both context back-ends.
#include <algorithm>
#include <cstdlib>

#include "tests/simt/simt_test.h"

using namespace fcnlab::simt;
using fcnlab::simt::test::DeviceBuffer;

namespace {

// After a barrier, each thread takes a ticket: order[ticket] = its linear index. Block 0's
// thread 0 also records the block order (first thread of each block to run takes a slot).
__global__ void record_order(int* counter, int* order, int* block_counter, int* block_order) {
  const int t = static_cast<int>(threadIdx.x + blockDim.x * threadIdx.y);
  __syncthreads();
  if (blockIdx.x == 0) order[atomicAdd(counter, 1)] = t;
  if (t == 0) block_order[atomicAdd(block_counter, 1)] = static_cast<int>(blockIdx.x);
}

constexpr int kTile = 8;

// C (M x N) = A (M x K) * B (K x N), row-major; one kTile x kTile output tile per block.
__global__ void matmul_tiled(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kTile + ty;
  const int col = static_cast<int>(blockIdx.x) * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    As[ty][tx] = (row < M && k0 + tx < K) ? A[row * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

struct Orders {
  std::vector<int> threads, blocks;
};

Orders run_orders(const Schedule& s) {
  ScopedOptions scope(s);
  DeviceBuffer<int> counter(std::vector<int>{0}), order(64), bcounter(std::vector<int>{0}),
      border(6);
  FCNLAB_LAUNCH(record_order, 6, dim3(16, 4), 0, 0, counter.get(), order.get(), bcounter.get(),
                border.get());
  return {order.read(), border.read()};
}

std::vector<float> matmul_reference(const std::vector<float>& A, const std::vector<float>& B,
                                    int M, int N, int K) {
  std::vector<float> C(static_cast<size_t>(M) * N, 0.0f);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) acc += double(A[i * K + k]) * B[k * N + j];
      C[i * N + j] = static_cast<float>(acc);
    }
  return C;
}

}  // namespace

TEST_CASE("in-order and reverse schedules run threads and blocks in index order and backwards") {
  std::vector<int> up(64), down(64);
  for (int i = 0; i < 64; ++i) up[i] = i, down[i] = 63 - i;
  Orders in = run_orders(Schedule::parse("inorder"));
  CHECK(in.threads == up);
  CHECK(in.blocks == std::vector<int>{0, 1, 2, 3, 4, 5});
  Orders rev = run_orders(Schedule::parse("reverse"));
  CHECK(rev.threads == down);
  CHECK(rev.blocks == std::vector<int>{5, 4, 3, 2, 1, 0});
}

TEST_CASE("the random schedule is a permutation fixed by its seed") {
  Orders a = run_orders(Schedule::parse("random:42"));
  Orders b = run_orders(Schedule::parse("random:42"));
  Orders c = run_orders(Schedule::parse("random:43"));
  CHECK(a.threads == b.threads);
  CHECK(a.blocks == b.blocks);
  CHECK(a.threads != c.threads);
  std::vector<int> sorted = a.threads;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> up(64);
  for (int i = 0; i < 64; ++i) up[i] = i;
  CHECK(sorted == up);
  CHECK(a.threads != up);
  std::vector<int> blocks = a.blocks;
  std::sort(blocks.begin(), blocks.end());
  CHECK(blocks == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("schedule strings parse, and bad ones are rejected with the accepted forms") {
  CHECK(Schedule::parse("inorder").order == Order::InOrder);
  CHECK(Schedule::parse("reverse").order == Order::Reverse);
  Schedule r = Schedule::parse("random:987654321");
  CHECK(r.order == Order::Random);
  CHECK(r.seed == 987654321u);
  CHECK(r.str() == "random:987654321");
  for (const char* bad : {"", "random", "random:", "random:12x", "random:-1", "shuffle", "Reverse"})
    CHECK_THROWS_WITH_AS(Schedule::parse(bad), doctest::Contains("inorder, reverse or random:SEED"),
                         fcnlab::Error);
}

TEST_CASE("a 2-d tiled matrix multiply is exact under every schedule and both context back-ends") {
  const int M = 19, N = 13, K = 21;  // not multiples of the 8x8 tile
  std::vector<float> A(M * K), B(K * N);
  for (size_t i = 0; i < A.size(); ++i) A[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5);
  for (size_t i = 0; i < B.size(); ++i) B[i] = static_cast<float>(static_cast<int>(i * 5 % 9) - 4);
  const std::vector<float> expect = matmul_reference(A, B, M, N, K);
  const dim3 grid((N + kTile - 1) / kTile, (M + kTile - 1) / kTile), block(kTile, kTile);
  for (const char* context : {"asm", "ucontext"}) {
    setenv("FCNLAB_SIMT_CONTEXT", context, 1);
    for (const Schedule& s : test::all_schedules()) {
      CAPTURE(context);
      CAPTURE(s.str());
      ScopedOptions scope(s);
      DeviceBuffer<float> dA(A), dB(B), dC(M * N);
      FCNLAB_LAUNCH(matmul_tiled, grid, block, 0, 0, dA.get(), dB.get(), dC.get(), M, N, K);
      CHECK(dC.read() == expect);
      CHECK(last_launch_stats().barriers == 6 * 3 * 2);  // blocks x k-tiles x 2
    }
  }
  unsetenv("FCNLAB_SIMT_CONTEXT");
}
