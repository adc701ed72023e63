// rng.h — a counter-based generator (Philox4x32-10, Salmon et al. 2011).
// The value at position i of a stream depends only on (seed, i): the same numbers come out
// whatever the thread count or device, which is what makes init, dropout and data order
// reproducible. Each draw of n numbers advances the generator's offset by n.
#pragma once
#include <array>
#include <cstdint>

namespace fcnlab {

// One Philox block: 4 x 32-bit outputs for a 128-bit counter and a 64-bit key.
// Written as a plain function of integers so the CUDA kernels can share it (HD = host+device).
#if defined(__CUDACC__)
#define FCNLAB_HD __host__ __device__
#else
#define FCNLAB_HD
#endif

struct Philox4 {
  uint32_t v[4];
};

FCNLAB_HD inline Philox4 philox4x32_10(uint64_t key, uint64_t counter_lo, uint64_t counter_hi = 0) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(M0) * c0;
    uint64_t p1 = static_cast<uint64_t>(M1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += W0; k1 += W1;
  }
  return {{c0, c1, c2, c3}};
}

// The i-th 32-bit word of the stream (seed): word i lives in block i/4, lane i%4.
FCNLAB_HD inline uint32_t philox_word(uint64_t seed, uint64_t i) {
  return philox4x32_10(seed, i >> 2).v[i & 3];
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
FCNLAB_HD inline float philox_uniform(uint64_t seed, uint64_t i) {
  return static_cast<float>(philox_word(seed, i) >> 8) * (1.0f / 16777216.0f);
}

// Host-side generator: a seed and an offset into its stream.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }

  // Reserves n consecutive stream positions and returns the first (rounded to whole blocks,
  // so every reservation starts on a fresh Philox block).
  uint64_t reserve(uint64_t n) {
    uint64_t start = offset_;
    offset_ += (n + 3) / 4 * 4;
    return start;
  }
  uint32_t next_u32() { return philox_word(seed_, reserve(1)); }
  double next_uniform() { return philox_uniform(seed_, reserve(1)); }
  // Uniform integer in [0, n).
  uint64_t next_below(uint64_t n) {
    uint64_t i = reserve(2);
    uint64_t r = (static_cast<uint64_t>(philox_word(seed_, i)) << 32) | philox_word(seed_, i + 1);
    return r % n;
  }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};

// A process-wide default generator (seeded by manual_seed) for code that is not given one.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace fcnlab
