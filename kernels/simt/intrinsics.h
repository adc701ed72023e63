// intrinsics.h — CUDA device functions for g++: math intrinsics (the fast-math forms map to
// the accurate <cmath> ones, so results can differ from a GPU in the last bits), bit tricks,
// reinterpretation casts, min/max overloads, memory fences and atomics. Atomics use
// std::atomic_ref, so they stay correct if blocks ever run on several OS threads; each returns
// the old value, as in CUDA. Only the overloads CUDA itself has are provided (no float
// atomicMax or atomicCAS: code using them would not compile under nvcc).
#pragma once
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>

// ---- math
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }

// ---- conversions (round-to-nearest-even / toward zero, as named)
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
inline unsigned __float2uint_rn(float x) { return static_cast<unsigned>(std::nearbyint(x)); }
inline unsigned __float2uint_rz(float x) { return static_cast<unsigned>(x); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned x) { return static_cast<float>(x); }
inline int __double2int_rn(double x) { return static_cast<int>(std::nearbyint(x)); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }

// ---- reinterpretation
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }

// ---- integer bit operations
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return std::countl_zero(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return x ? std::countr_zero(static_cast<unsigned>(x)) + 1 : 0; }
inline int __ffsll(long long x) {
  return x ? std::countr_zero(static_cast<unsigned long long>(x)) + 1 : 0;
}
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __mul24(int a, int b) { return (a << 8 >> 8) * (b << 8 >> 8); }
inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xFFFFFFu) * (b & 0xFFFFFFu); }
inline int __mulhi(int a, int b) { return static_cast<int>((int64_t(a) * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((uint64_t(a) * b) >> 32); }

// ---- min / max (CUDA has these as global overloads)
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline unsigned min(int a, unsigned b) { return min(static_cast<unsigned>(a), b); }
inline unsigned max(int a, unsigned b) { return max(static_cast<unsigned>(a), b); }
inline unsigned min(unsigned a, int b) { return min(a, static_cast<unsigned>(b)); }
inline unsigned max(unsigned a, int b) { return max(a, static_cast<unsigned>(b)); }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double min(float a, double b) { return std::fmin(double(a), b); }
inline double max(float a, double b) { return std::fmax(double(a), b); }
inline double min(double a, float b) { return std::fmin(a, double(b)); }
inline double max(double a, float b) { return std::fmax(a, double(b)); }

// ---- memory: loads through the read-only cache, fences, clocks
template <class T>
inline T __ldg(const T* p) { return *p; }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline long long clock64() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---- atomics (return the old value)
namespace fcnlab::simt::detail {
template <class T>
inline std::atomic_ref<T> aref(T* p) { return std::atomic_ref<T>(*p); }
template <class T, class F>
inline T atomic_update(T* p, F f) {  // CAS loop: *p = f(*p)
  auto a = aref(p);
  T old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, f(old), std::memory_order_relaxed)) {
  }
  return old;
}
}  // namespace fcnlab::simt::detail

#define FCNLAB_SIMT_ATOMIC_ARITH(T)                                                                    \
  inline T atomicAdd(T* p, T v) { return ::fcnlab::simt::detail::aref(p).fetch_add(v, std::memory_order_relaxed); } \
  inline T atomicExch(T* p, T v) { return ::fcnlab::simt::detail::aref(p).exchange(v, std::memory_order_relaxed); } \
  inline T atomicCAS(T* p, T compare, T v) {                                                           \
    ::fcnlab::simt::detail::aref(p).compare_exchange_strong(compare, v, std::memory_order_relaxed);    \
    return compare;                                                                                    \
  }                                                                                                    \
  inline T atomicMin(T* p, T v) {                                                                      \
    return ::fcnlab::simt::detail::atomic_update(p, [v](T o) { return v < o ? v : o; });               \
  }                                                                                                    \
  inline T atomicMax(T* p, T v) {                                                                      \
    return ::fcnlab::simt::detail::atomic_update(p, [v](T o) { return v > o ? v : o; });               \
  }                                                                                                    \
  inline T atomicAnd(T* p, T v) { return ::fcnlab::simt::detail::aref(p).fetch_and(v, std::memory_order_relaxed); } \
  inline T atomicOr(T* p, T v) { return ::fcnlab::simt::detail::aref(p).fetch_or(v, std::memory_order_relaxed); }   \
  inline T atomicXor(T* p, T v) { return ::fcnlab::simt::detail::aref(p).fetch_xor(v, std::memory_order_relaxed); }

FCNLAB_SIMT_ATOMIC_ARITH(int)
FCNLAB_SIMT_ATOMIC_ARITH(unsigned int)
FCNLAB_SIMT_ATOMIC_ARITH(unsigned long long)
#undef FCNLAB_SIMT_ATOMIC_ARITH

inline long long atomicMin(long long* p, long long v) {
  return ::fcnlab::simt::detail::atomic_update(p, [v](long long o) { return v < o ? v : o; });
}
inline long long atomicMax(long long* p, long long v) {
  return ::fcnlab::simt::detail::atomic_update(p, [v](long long o) { return v > o ? v : o; });
}
inline int atomicSub(int* p, int v) { return ::fcnlab::simt::detail::aref(p).fetch_sub(v, std::memory_order_relaxed); }
inline unsigned atomicSub(unsigned* p, unsigned v) {
  return ::fcnlab::simt::detail::aref(p).fetch_sub(v, std::memory_order_relaxed);
}
inline float atomicAdd(float* p, float v) {
  return ::fcnlab::simt::detail::aref(p).fetch_add(v, std::memory_order_relaxed);
}
inline double atomicAdd(double* p, double v) {
  return ::fcnlab::simt::detail::aref(p).fetch_add(v, std::memory_order_relaxed);
}
inline float atomicExch(float* p, float v) {
  return ::fcnlab::simt::detail::aref(p).exchange(v, std::memory_order_relaxed);
}
inline unsigned short atomicCAS(unsigned short* p, unsigned short compare, unsigned short v) {
  ::fcnlab::simt::detail::aref(p).compare_exchange_strong(compare, v, std::memory_order_relaxed);
  return compare;
}
// atomicInc/Dec wrap at `limit`, as in CUDA: inc gives (old >= limit) ? 0 : old + 1.
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  return ::fcnlab::simt::detail::atomic_update(p, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
  return ::fcnlab::simt::detail::atomic_update(
      p, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}
