// types.h — CUDA's built-in vector types for g++: uint3 / dim3 (launch shapes and the index
// variables), the float/int/uint/double vector types with CUDA's alignments (float2: 8 bytes,
// float4 / int4 / double2: 16), and the make_* helpers. Layout-compatible with nvcc's, so a
// kernel that reinterpret_casts float* to float4* behaves the same (and must respect alignment).
#pragma once
#include <cstdint>

struct uint3 {
  unsigned int x, y, z;
};

// dim3: every component defaults to 1, as in CUDA.
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define FCNLAB_SIMT_VEC1(T, name) \
  struct name {                   \
    T x;                          \
  };
#define FCNLAB_SIMT_VEC2(T, name, align) \
  struct alignas(align) name {           \
    T x, y;                              \
  };
#define FCNLAB_SIMT_VEC3(T, name) \
  struct name {                   \
    T x, y, z;                    \
  };
#define FCNLAB_SIMT_VEC4(T, name, align) \
  struct alignas(align) name {           \
    T x, y, z, w;                        \
  };

FCNLAB_SIMT_VEC1(float, float1)
FCNLAB_SIMT_VEC2(float, float2, 8)
FCNLAB_SIMT_VEC3(float, float3)
FCNLAB_SIMT_VEC4(float, float4, 16)
FCNLAB_SIMT_VEC1(double, double1)
FCNLAB_SIMT_VEC2(double, double2, 16)
FCNLAB_SIMT_VEC3(double, double3)
FCNLAB_SIMT_VEC4(double, double4, 16)  // CUDA 12 aligns double4 to 16 (double4_16a)
FCNLAB_SIMT_VEC1(int, int1)
FCNLAB_SIMT_VEC2(int, int2, 8)
FCNLAB_SIMT_VEC3(int, int3)
FCNLAB_SIMT_VEC4(int, int4, 16)
FCNLAB_SIMT_VEC1(unsigned int, uint1)
FCNLAB_SIMT_VEC2(unsigned int, uint2, 8)
FCNLAB_SIMT_VEC4(unsigned int, uint4, 16)
FCNLAB_SIMT_VEC2(short, short2, 4)
FCNLAB_SIMT_VEC4(short, short4, 8)
FCNLAB_SIMT_VEC2(unsigned short, ushort2, 4)
FCNLAB_SIMT_VEC4(unsigned short, ushort4, 8)
FCNLAB_SIMT_VEC2(signed char, char2, 2)
FCNLAB_SIMT_VEC4(signed char, char4, 4)
FCNLAB_SIMT_VEC2(unsigned char, uchar2, 2)
FCNLAB_SIMT_VEC4(unsigned char, uchar4, 4)
FCNLAB_SIMT_VEC2(long long, longlong2, 16)
FCNLAB_SIMT_VEC2(unsigned long long, ulonglong2, 16)

#undef FCNLAB_SIMT_VEC1
#undef FCNLAB_SIMT_VEC2
#undef FCNLAB_SIMT_VEC3
#undef FCNLAB_SIMT_VEC4

// make_* helpers, one per type above.
inline float1 make_float1(float x) { return {x}; }
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double1 make_double1(double x) { return {x}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
inline double3 make_double3(double x, double y, double z) { return {x, y, z}; }
inline double4 make_double4(double x, double y, double z, double w) { return {x, y, z, w}; }
inline int1 make_int1(int x) { return {x}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int3 make_int3(int x, int y, int z) { return {x, y, z}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint1 make_uint1(unsigned x) { return {x}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
inline short2 make_short2(short x, short y) { return {x, y}; }
inline ushort2 make_ushort2(unsigned short x, unsigned short y) { return {x, y}; }
inline char4 make_char4(signed char x, signed char y, signed char z, signed char w) {
  return {x, y, z, w};
}
inline uchar4 make_uchar4(unsigned char x, unsigned char y, unsigned char z, unsigned char w) {
  return {x, y, z, w};
}
inline longlong2 make_longlong2(long long x, long long y) { return {x, y}; }

static_assert(sizeof(float4) == 16 && alignof(float4) == 16, "float4 layout as in CUDA");
static_assert(sizeof(float2) == 8 && alignof(float2) == 8, "float2 layout as in CUDA");
static_assert(sizeof(float3) == 12 && alignof(float3) == 4, "float3 layout as in CUDA");
static_assert(sizeof(dim3) == 12, "dim3 layout as in CUDA");
