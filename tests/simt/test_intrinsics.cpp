// Math intrinsics, bit operations, reinterpretation casts and vector types, as kernels use them.
#include <cmath>

#include "tests/simt/simt_test.h"

using fcnlab::simt::test::DeviceBuffer;

namespace {

__device__ __forceinline__ float relu(float x) { return fmaxf(x, 0.0f); }

// Reads float4s (16-byte aligned), writes a few intrinsic results per thread.
__global__ void vector_math(const float4* __restrict__ in, float* out) {
  const float4 v = in[threadIdx.x];
  const float2 p = make_float2(v.x + v.y, v.z * v.w);
  out[threadIdx.x * 4 + 0] = relu(p.x - 3.0f);
  out[threadIdx.x * 4 + 1] = __fdividef(p.y, 2.0f) + rsqrtf(4.0f);
  out[threadIdx.x * 4 + 2] = fminf(__expf(0.0f), v.w) + __saturatef(v.x);
  out[threadIdx.x * 4 + 3] = __int_as_float(__float_as_int(v.z));
}

}  // namespace

TEST_CASE("math intrinsics and float4 loads in a kernel") {
  std::vector<float4> in{make_float4(1, 2, 3, 4), make_float4(-1, 0.5f, 2, 0.25f)};
  DeviceBuffer<float4> din(in);
  DeviceBuffer<float> out(8);
  FCNLAB_LAUNCH(vector_math, 1, 2, 0, 0, din.get(), out.get());
  CHECK(out.read() == std::vector<float>{0.0f, 6.0f + 0.5f, 1.0f + 1.0f, 3.0f,  //
                                         0.0f, 0.25f + 0.5f, 0.25f + 0.0f, 2.0f});
}

TEST_CASE("bit operations, conversions and reinterpretation follow CUDA's definitions") {
  CHECK(__float_as_int(1.0f) == 0x3f800000);
  CHECK(__float_as_uint(-0.0f) == 0x80000000u);
  CHECK(__int_as_float(0x40400000) == 3.0f);
  CHECK(__longlong_as_double(__double_as_longlong(2.5)) == 2.5);
  CHECK(__popc(0xF0F0u) == 8);
  CHECK(__popcll(~0ull) == 64);
  CHECK(__clz(1) == 31);
  CHECK(__clz(0) == 32);
  CHECK(__ffs(0) == 0);
  CHECK(__ffs(8) == 4);
  CHECK(__ffsll(1ll << 40) == 41);
  CHECK(__brev(1u) == 0x80000000u);
  CHECK(__brev(0x0000000Fu) == 0xF0000000u);
  CHECK(__float2int_rn(2.5f) == 2);  // round half to even
  CHECK(__float2int_rn(3.5f) == 4);
  CHECK(__float2int_rz(-2.7f) == -2);
  CHECK(__float2int_rd(-2.2f) == -3);
  CHECK(__float2int_ru(2.2f) == 3);
  CHECK(__umulhi(0x80000000u, 4u) == 2u);
  CHECK(__saturatef(1.5f) == 1.0f);
  CHECK(__saturatef(-0.5f) == 0.0f);
  CHECK(__saturatef(NAN) == 0.0f);
  CHECK(min(3, 5) == 3);
  CHECK(max(2.0f, -1.0f) == 2.0f);
  CHECK(max(7u, 9u) == 9u);
  CHECK(alignof(float4) == 16);
  CHECK(alignof(int2) == 8);
  CHECK(alignof(double2) == 16);
  const dim3 d(4);
  CHECK((d.x == 4 && d.y == 1 && d.z == 1));
}
