// Warp intrinsics: shuffles (idx/up/down/xor) at widths 32, 16 and 8, votes with partial masks,
// __syncwarp, __activemask, and partial warps. Expected values follow CUDA's documented rules.
#include <cmath>

#include "tests/simt/simt_test.h"

using namespace fcnlab::simt;
using fcnlab::simt::test::DeviceBuffer;

namespace {

enum Kind { kIdx = 0, kUp = 1, kDown = 2, kXor = 3 };

// out[t] = the shuffle of value 100 + t (ints) and 0.5 + t (floats) with the given argument.
__global__ void shuffle(int kind, int arg, int width, int* out, float* outf) {
  const unsigned t = threadIdx.x;
  const int v = 100 + static_cast<int>(t);
  const float fv = 0.5f + static_cast<float>(t);
  int r = 0;
  float rf = 0.0f;
  switch (kind) {
    case kIdx: r = __shfl_sync(0xFFFFFFFFu, v, arg, width); rf = __shfl_sync(0xFFFFFFFFu, fv, arg, width); break;
    case kUp: r = __shfl_up_sync(0xFFFFFFFFu, v, arg, width); rf = __shfl_up_sync(0xFFFFFFFFu, fv, arg, width); break;
    case kDown: r = __shfl_down_sync(0xFFFFFFFFu, v, arg, width); rf = __shfl_down_sync(0xFFFFFFFFu, fv, arg, width); break;
    case kXor: r = __shfl_xor_sync(0xFFFFFFFFu, v, arg, width); rf = __shfl_xor_sync(0xFFFFFFFFu, fv, arg, width); break;
  }
  out[t] = r;
  outf[t] = rf;
}

// The source lane CUDA's documentation gives for each shuffle (own lane when out of segment).
int expected_source(int kind, int lane, int arg, int width) {
  const int start = lane / width * width;
  switch (kind) {
    case kIdx: return start + arg % width;
    case kUp: return lane - arg >= start ? lane - arg : lane;
    case kDown: return lane + arg < start + width ? lane + arg : lane;
    default: return (lane ^ arg) < start + width ? lane ^ arg : lane;
  }
}

// A warp sum with shuffle-down in segments of `width`: lane 0 of each segment holds its sum.
__global__ void segment_sums(const float* in, float* out, int width) {
  float v = in[blockIdx.x * blockDim.x + threadIdx.x];
  for (int offset = width / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xFFFFFFFFu, v, offset, width);
  if (threadIdx.x % width == 0) out[(blockIdx.x * blockDim.x + threadIdx.x) / width] = v;
}

// Lanes in `mask` vote on pred[t]; the others skip the votes.
__global__ void votes(unsigned mask, const int* pred, unsigned* ballot, int* any, int* all) {
  const unsigned lane = threadIdx.x % 32;
  if (mask >> lane & 1u) {
    const int p = pred[threadIdx.x];
    ballot[threadIdx.x] = __ballot_sync(mask, p);
    any[threadIdx.x] = __any_sync(mask, p);
    all[threadIdx.x] = __all_sync(mask, p);
  }
}

// Lanes exchange through shared memory around __syncwarp: each reads its neighbour's write.
__global__ void syncwarp_exchange(int* out) {
  __shared__ int s[32];
  const unsigned lane = threadIdx.x;
  s[lane] = static_cast<int>(lane) * 10;
  __syncwarp();
  out[lane] = s[(lane + 31) % 32];
}

// Two halves of a warp shuffle with disjoint masks at the same time.
__global__ void half_warps(int* out) {
  const unsigned lane = threadIdx.x;
  const unsigned mask = lane < 16 ? 0x0000FFFFu : 0xFFFF0000u;
  out[lane] = __shfl_sync(mask, static_cast<int>(lane), lane < 16 ? 3 : 20);
}

// Lanes t % 3 == 0 exit; the survivors first meet at __syncwarp (by then every lane of the
// warp has run, so the exits happened), then ask, then meet again before exiting. The
// emulator's __activemask is "lanes not exited", so asking while exits are still to come would
// depend on the schedule.
__global__ void active_lanes(unsigned survivors0, unsigned survivors1, unsigned* out) {
  if (threadIdx.x % 3 == 0) return;
  const unsigned survivors = threadIdx.x < 32 ? survivors0 : survivors1;
  __syncwarp(survivors);
  const unsigned active = __activemask();
  __syncwarp(survivors);  // nobody exits before every survivor has asked
  out[threadIdx.x] = active;
}

// A shuffle that reads a lane outside its mask gets an undefined value: NaN here.
__global__ void read_outside_mask(float* out) {
  const unsigned lane = threadIdx.x;
  if (lane < 8) out[lane] = __shfl_down_sync(0x000000FFu, 1.0f + lane, 4);
}

}  // namespace

TEST_CASE("__shfl_sync, _up, _down and _xor at widths 32, 16 and 8") {
  for (int width : {32, 16, 8}) {
    for (int kind : {kIdx, kUp, kDown, kXor}) {
      for (int arg : {0, 1, 3, 5, 8, 19}) {
        if (kind != kIdx && arg >= width) continue;
        CAPTURE(width);
        CAPTURE(kind);
        CAPTURE(arg);
        DeviceBuffer<int> out(32);
        DeviceBuffer<float> outf(32);
        FCNLAB_LAUNCH(shuffle, 1, 32, 0, 0, kind, arg, width, out.get(), outf.get());
        std::vector<int> expect(32);
        std::vector<float> expectf(32);
        for (int l = 0; l < 32; ++l) {
          expect[l] = 100 + expected_source(kind, l, arg, width);
          expectf[l] = 0.5f + static_cast<float>(expected_source(kind, l, arg, width));
        }
        CHECK(out.read() == expect);
        CHECK(outf.read() == expectf);
      }
    }
  }
}

TEST_CASE("shuffle-down segment sums over several warps and blocks, every schedule") {
  std::vector<float> in(2 * 64);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  for (int width : {32, 16, 8}) {
    for (const Schedule& s : test::all_schedules()) {
      ScopedOptions scope(s);
      DeviceBuffer<float> din(in), dout(in.size() / width);
      FCNLAB_LAUNCH(segment_sums, 2, 64, 0, 0, din.get(), dout.get(), width);
      std::vector<float> expect(in.size() / width, 0.0f);
      for (size_t i = 0; i < in.size(); ++i) expect[i / width] += in[i];
      CHECK(dout.read() == expect);
    }
  }
}

TEST_CASE("__ballot_sync, __any_sync and __all_sync with full and partial masks") {
  std::vector<int> pred(64, 0);
  for (int i : {1, 4, 9, 31, 33, 40}) pred[i] = 1;
  for (unsigned mask : {0xFFFFFFFFu, 0x0000FF00u, 0x00000212u, 0x80000000u}) {
    CAPTURE(mask);
    DeviceBuffer<int> p(pred), any(std::vector<int>(64, -1)), all(std::vector<int>(64, -1));
    DeviceBuffer<unsigned> ballot(std::vector<unsigned>(64, 7));
    FCNLAB_LAUNCH(votes, 1, 64, 0, 0, mask, p.get(), ballot.get(), any.get(), all.get());
    auto b = ballot.read();
    auto an = any.read();
    auto al = all.read();
    for (int w = 0; w < 2; ++w) {
      unsigned expect = 0;
      for (int l = 0; l < 32; ++l)
        if ((mask >> l & 1u) && pred[w * 32 + l]) expect |= 1u << l;
      for (int l = 0; l < 32; ++l) {
        const int t = w * 32 + l;
        if (mask >> l & 1u) {
          CHECK(b[t] == expect);
          CHECK(an[t] == (expect != 0));
          CHECK(al[t] == (expect == mask));
        } else {
          CHECK(b[t] == 7u);  // did not take part
        }
      }
    }
  }
}

TEST_CASE("__syncwarp orders shared-memory exchange inside a warp under every schedule") {
  for (const Schedule& s : test::all_schedules()) {
    ScopedOptions scope(s);
    DeviceBuffer<int> out(32);
    FCNLAB_LAUNCH(syncwarp_exchange, 1, 32, 0, 0, out.get());
    std::vector<int> expect(32);
    for (int l = 0; l < 32; ++l) expect[l] = ((l + 31) % 32) * 10;
    CHECK(out.read() == expect);
  }
}

TEST_CASE("disjoint masks in one warp rendezvous separately") {
  DeviceBuffer<int> out(32);
  FCNLAB_LAUNCH(half_warps, 1, 32, 0, 0, out.get());
  std::vector<int> expect(32);
  for (int l = 0; l < 32; ++l) expect[l] = l < 16 ? 3 : 20;
  CHECK(out.read() == expect);
}

TEST_CASE("__activemask is the set of lanes that have not exited") {
  // Warp 1 is partial (8 lanes): threads 32..39 are its lanes 0..7.
  unsigned w0 = 0, w1 = 0;
  for (unsigned l = 0; l < 32; ++l)
    if (l % 3 != 0) w0 |= 1u << l;
  for (unsigned l = 0; l < 8; ++l)
    if ((32 + l) % 3 != 0) w1 |= 1u << l;
  for (const Schedule& s : test::all_schedules()) {
    ScopedOptions scope(s);
    DeviceBuffer<unsigned> out(std::vector<unsigned>(40, 0));
    FCNLAB_LAUNCH(active_lanes, 1, 40, 0, 0, w0, w1, out.get());
    auto got = out.read();
    for (unsigned t = 0; t < 40; ++t) CHECK(got[t] == (t % 3 == 0 ? 0u : (t < 32 ? w0 : w1)));
  }
}

TEST_CASE("a shuffle whose source lane is outside the mask returns NaN (undefined in CUDA)") {
  DeviceBuffer<float> out(8);
  FCNLAB_LAUNCH(read_outside_mask, 1, 32, 0, 0, out.get());
  auto got = out.read();
  for (int l = 0; l < 8; ++l) {
    CAPTURE(l);
    if (l + 4 < 8) {
      CHECK(got[l] == 1.0f + l + 4);
    } else {
      CHECK(std::isnan(got[l]));
    }
  }
}
