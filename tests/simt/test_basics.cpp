// Built-in variables, block barriers and their reductions, shared memory (static and dynamic,
// poisoned), atomics and the runtime API of the SIMT layer.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "tests/simt/simt_test.h"

using namespace fcnlab::simt;
using fcnlab::simt::test::DeviceBuffer;

namespace {

// Each thread records its global linear id at its own slot and counts its visits.
__global__ void write_coordinates(int* ids, int* visits) {
  const unsigned bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  const unsigned g = bx * per_block + tx;
  ids[g] = static_cast<int>(g);
  atomicAdd(&visits[g], 1);
}

// Sum of each block's 64 inputs by a shared-memory tree; out[block] = sum.
__global__ void tile_sum(const float* in, float* out) {
  __shared__ float tile[64];
  const unsigned t = threadIdx.x;
  tile[t] = in[blockIdx.x * 64 + t];
  __syncthreads();
  for (unsigned stride = 32; stride > 0; stride /= 2) {
    if (t < stride) tile[t] += tile[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = tile[0];
}

__global__ void barrier_reductions(const int* pred, int* count, int* all, int* any) {
  const int p = pred[threadIdx.x];
  int c = __syncthreads_count(p);
  int a = __syncthreads_and(p);
  int o = __syncthreads_or(p);
  count[threadIdx.x] = c;
  all[threadIdx.x] = a;
  any[threadIdx.x] = o;
}

// Reads dynamic shared memory before writing it: must see the NaN poison in every block.
__global__ void read_dynamic_shared(float* out, unsigned n) {
  FCNLAB_DYNAMIC_SHARED(float, smem);
  for (unsigned i = threadIdx.x; i < n; i += blockDim.x) out[blockIdx.x * n + i] = smem[i];
  __syncthreads();
  for (unsigned i = threadIdx.x; i < n; i += blockDim.x) smem[i] = 1.0f;  // next block: NaN again
}

__global__ void atomics(int* i, unsigned* u, float* f, int* old_values) {
  const int t = static_cast<int>(threadIdx.x);
  old_values[t] = atomicAdd(&i[0], 1);
  atomicMax(&i[1], t * 3);
  atomicMin(&i[2], -t);
  atomicAdd(&u[0], 2u);
  atomicMax(&u[1], static_cast<unsigned>(t));
  atomicMin(&u[2], static_cast<unsigned>(100 + t));
  atomicAdd(&f[0], 0.5f);
  if (t == 5) {
    i[3] = atomicCAS(&i[4], 7, 42);   // matches: stores 42, returns 7
    i[5] = atomicCAS(&i[4], 7, 99);   // no match now: returns 42
    u[3] = atomicExch(&u[4], 11u);
    f[1] = atomicExch(&f[2], 2.5f);
    i[6] = atomicExch(&i[7], -3);
  }
}

}  // namespace

TEST_CASE("threadIdx, blockIdx, blockDim and gridDim cover a 3-d grid exactly once") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const size_t n = 3 * 2 * 2 * 4 * 3 * 2;
  for (const Schedule& s : test::all_schedules()) {
    ScopedOptions scope(s);
    DeviceBuffer<int> ids(std::vector<int>(n, -1)), visits(std::vector<int>(n, 0));
    FCNLAB_LAUNCH(write_coordinates, grid, block, 0, 0, ids.get(), visits.get());
    std::vector<int> expect(n);
    std::iota(expect.begin(), expect.end(), 0);
    CHECK(ids.read() == expect);
    CHECK(visits.read() == std::vector<int>(n, 1));
    CHECK(last_launch_stats().blocks == 12);
    CHECK(last_launch_stats().fibers == n);
  }
}

TEST_CASE("__syncthreads orders a shared-memory tile reduction under every schedule") {
  std::vector<float> in(3 * 64);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 17);
  std::vector<float> expect(3, 0.0f);
  for (size_t i = 0; i < in.size(); ++i) expect[i / 64] += in[i];
  for (const Schedule& s : test::all_schedules()) {
    ScopedOptions scope(s);
    DeviceBuffer<float> din(in), dout(3);
    FCNLAB_LAUNCH(tile_sum, 3, 64, 0, 0, din.get(), dout.get());
    CHECK(dout.read() == expect);
    CHECK(last_launch_stats().barriers == 3 * 7);
  }
}

TEST_CASE("__syncthreads_count, _and and _or reduce the predicate over the block") {
  struct Case {
    std::vector<int> pred;
    int count, all, any;
  };
  std::vector<int> mixed(40, 0);
  mixed[3] = mixed[17] = 5;
  mixed[39] = -1;
  for (const Case& c : {Case{mixed, 3, 0, 1}, Case{std::vector<int>(40, 1), 40, 1, 1},
                        Case{std::vector<int>(40, 0), 0, 0, 0}}) {
    DeviceBuffer<int> pred(c.pred), count(40), all(40), any(40);
    FCNLAB_LAUNCH(barrier_reductions, 1, 40, 0, 0, pred.get(), count.get(), all.get(), any.get());
    CHECK(count.read() == std::vector<int>(40, c.count));
    CHECK(all.read() == std::vector<int>(40, c.all));
    CHECK(any.read() == std::vector<int>(40, c.any));
  }
}

TEST_CASE("dynamic shared memory is NaN-poisoned before every block") {
  const unsigned n = 100;
  DeviceBuffer<float> out(std::vector<float>(3 * n, 0.0f));
  FCNLAB_LAUNCH(read_dynamic_shared, 3, 32, n * sizeof(float), 0, out.get(), n);
  for (float v : out.read()) CHECK(std::isnan(v));
}

TEST_CASE("cudaMalloc'd memory is NaN-poisoned") {
  float* p = nullptr;
  REQUIRE(cudaMalloc(&p, 10 * sizeof(float)) == cudaSuccess);
  CHECK(reinterpret_cast<uintptr_t>(p) % 256 == 0);
  for (int i = 0; i < 10; ++i) CHECK(std::isnan(p[i]));
  CHECK(cudaFree(p) == cudaSuccess);
}

TEST_CASE("atomics add, max, min, CAS and exch on int, unsigned and float, returning old values") {
  DeviceBuffer<int> i(std::vector<int>{0, -100, 100, 0, 7, 0, 0, 9});
  DeviceBuffer<unsigned> u(std::vector<unsigned>{0, 0, 1000, 0, 4});
  DeviceBuffer<float> f(std::vector<float>{0.0f, 0.0f, 1.5f});
  DeviceBuffer<int> old(64);
  FCNLAB_LAUNCH(atomics, 1, 64, 0, 0, i.get(), u.get(), f.get(), old.get());
  CHECK(i.read() == std::vector<int>{64, 189, -63, 7, 42, 42, 9, -3});
  CHECK(u.read() == std::vector<unsigned>{128, 63, 100, 4, 11});
  CHECK(f.read() == std::vector<float>{32.0f, 1.5f, 2.5f});
  std::vector<int> seen = old.read();
  std::sort(seen.begin(), seen.end());
  std::vector<int> expect(64);
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(seen == expect);  // every thread got a distinct old value
}

TEST_CASE("runtime: copies check their direction, cudaFree checks its pointer") {
  DeviceBuffer<float> d(4);
  std::vector<float> host{1, 2, 3, 4}, back(4, 0.0f);
  CHECK(cudaMemcpy(d.get(), host.data(), 16, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(back.data(), d.get(), 16, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(back == host);
  cudaGetLastError();
  CHECK(cudaMemcpy(back.data(), host.data(), 16, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(std::string(cudaGetErrorString(cudaGetLastError())).find("destination") != std::string::npos);
  CHECK(cudaMemcpy(back.data(), d.get(), 20, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaMemset(d.get(), 0, 16) == cudaSuccess);
  CHECK(d.read() == std::vector<float>(4, 0.0f));
  CHECK(cudaMemset(host.data(), 0, 16) == cudaErrorInvalidValue);
  CHECK(cudaFree(host.data()) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);  // cleared by the previous call
}

TEST_CASE("runtime: streams, events and device properties") {
  cudaStream_t s = nullptr;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  DeviceBuffer<float> in(std::vector<float>(64, 1.0f)), out(1);
  cudaEvent_t a, b;
  REQUIRE(cudaEventCreate(&a) == cudaSuccess);
  REQUIRE(cudaEventCreate(&b) == cudaSuccess);
  CHECK(cudaEventRecord(a, s) == cudaSuccess);
  FCNLAB_LAUNCH(tile_sum, 1, 64, 0, s, in.get(), out.get());
  CHECK(cudaEventRecord(b, s) == cudaSuccess);
  CHECK(cudaStreamSynchronize(s) == cudaSuccess);
  float ms = -1.0f;
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaSuccess);
  CHECK(ms >= 0.0f);
  CHECK(out.read() == std::vector<float>{64.0f});
  float h[2] = {0, 0};
  CHECK(cudaMemcpyAsync(h, out.get(), 4, cudaMemcpyDeviceToHost, s) == cudaSuccess);
  CHECK(h[0] == 64.0f);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
  CHECK(cudaStreamDestroy(s) == cudaErrorInvalidResourceHandle);
  cudaDeviceProp prop;
  REQUIRE(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
  CHECK(prop.warpSize == 32);
  CHECK(prop.maxThreadsPerBlock == 1024);
  CHECK(prop.sharedMemPerBlock == 48 * 1024);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  cudaGetLastError();
}
