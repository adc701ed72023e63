// The kernel of kernels/simt/README.md, verbatim, so the documented example keeps compiling
// and giving the right answer (with n not a multiple of the block size).
#include <numeric>

#include "tests/simt/simt_test.h"

using fcnlab::simt::test::DeviceBuffer;

namespace {

// x: (n,), y: (n / blockDim.x,): each block sums its part through shared memory.
__global__ void block_sum(const float* x, float* y, int n) {
  FCNLAB_DYNAMIC_SHARED(float, partial);           // not: extern __shared__ float partial[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;                   // guard the work, never return early
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xFFFFFFFFu, v, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (unsigned w = 0; w < blockDim.x / 32; ++w) s += partial[w];
    y[blockIdx.x] = s;
  }
}

void block_sum_launch(const float* x, float* y, int n, cudaStream_t stream) {
  const int threads = 256, blocks = (n + threads - 1) / threads;
  FCNLAB_LAUNCH(block_sum, blocks, threads, threads / 32 * sizeof(float), stream, x, y, n);
}

}  // namespace

TEST_CASE("the README example: a block sum with warp shuffles and dynamic shared memory") {
  const int n = 600;
  std::vector<float> x(n);
  std::iota(x.begin(), x.end(), 1.0f);
  for (const auto& s : fcnlab::simt::test::all_schedules()) {
    fcnlab::simt::ScopedOptions scope(s);
    DeviceBuffer<float> dx(x), dy(3);
    block_sum_launch(dx.get(), dy.get(), n, nullptr);
    std::vector<float> expect(3, 0.0f);
    for (int i = 0; i < n; ++i) expect[i / 256] += x[i];
    CHECK(dy.read() == expect);
  }
}
