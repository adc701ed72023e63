// cpu/gemm.cpp — the packed, cache-blocked SGEMM (BLIS-style loop nest) and its AVX2+FMA
// register micro-kernel.
//
// Loop nest per thread (the thread owns a range of columns, or of rows when N is small):
//   for jc in N step NC        B block  (KC x NC)  packed once, lives in L2/L3
//     for pc in K step KC
//       pack B[pc:pc+KC, jc:jc+NC]
//       for ic in M step MC    A block  (MC x KC)  packed, lives in L2
//         pack A[ic:ic+MC, pc:pc+KC]
//         for jr in NC step NR     one B micro-panel (KC x NR) stays in L1 ...
//           for ir in MC step MR   ... while the A micro-panels (MR x KC) stream past it
//             C[MR x NR] (+)= micro-kernel
// The micro-kernel keeps the whole MR x NR tile of C in 12 ymm registers (6 x 2 x 8 floats)
// and does 12 FMAs per k for 2 vector loads and 6 broadcasts.
#include "kernels/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FCNLAB_GEMM_AVX2 1
#endif

namespace fcnlab::kernels::cpu {

namespace {

constexpr int MR = kGemmMR;
constexpr int NR = kGemmNR;
// Cache blocking for a Zen 3 core (L1d 32 KiB, L2 512 KiB, L3 shared):
//   B micro-panel KC x NR x 4 B = 16 KiB in L1; A block MC x KC x 4 B = 144 KiB in L2.
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 144;
constexpr int64_t kNC = 3072;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// A per-thread, 64-byte-aligned scratch buffer that only grows (OpenMP threads persist).
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  ~Scratch() { std::free(p); }
  float* get(size_t need) {
    if (need > n) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(round_up(
                                                          static_cast<int64_t>(need) * 4, 64))));
      FCNLAB_CHECK(p != nullptr, "sgemm: out of memory for a ", need, "-float packing buffer");
      n = need;
    }
    return p;
  }
};
thread_local Scratch tl_pack_a, tl_pack_b;

// c (MR x NR, row stride ldc) = a_panel * b_panel + beta * c (+ bias[i] on row i).
// a: kc groups of MR floats; b: kc rows of NR floats (64-byte aligned).
inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                         float* __restrict c, int64_t ldc, float beta, const float* bias) {
#if FCNLAB_GEMM_AVX2
  constexpr int NV = NR / 8;
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = _mm256_load_ps(b + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_fmadd_ps(ai, bv[j], acc[i][j]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      __m256 v = acc[i][j];
      if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[i]));
      if (beta == 1.0f) {
        v = _mm256_add_ps(v, _mm256_loadu_ps(ci + 8 * j));
      } else if (beta != 0.0f) {
        v = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(ci + 8 * j), v);
      }
      _mm256_storeu_ps(ci + 8 * j, v);
    }
  }
#else
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      float v = acc[i][j] + (bias ? bias[i] : 0.0f);
      float& cij = c[i * ldc + j];
      cij = beta == 0.0f ? v : (beta == 1.0f ? cij + v : beta * cij + v);
    }
#endif
}

// An edge tile (mr < MR or nr < NR): compute the full tile into a buffer, keep the valid part.
void micro_kernel_edge(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                       int nr, float beta, const float* bias) {
  alignas(64) float tmp[MR * NR];
  micro_kernel(kc, a, b, tmp, NR, 0.0f, nullptr);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      float v = tmp[i * NR + j] + (bias ? bias[i] : 0.0f);
      float& cij = c[i * ldc + j];
      cij = beta == 0.0f ? v : (beta == 1.0f ? cij + v : beta * cij + v);
    }
}

// A[i0:i0+mc, k0:k0+kc] -> ceil(mc/MR) micro-panels, each kc groups of MR floats (rows past mc zero).
void pack_a(MatView<float> A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
    for (int i = 0; i < MR; ++i) {
      if (i >= mr) {
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = 0.0f;
        continue;
      }
      const float* row = A.p + (i0 + ir + i) * A.rs + k0 * A.cs;
      if (A.cs == 1) {
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = row[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = row[k * A.cs];
      }
    }
  }
}

struct Problem {
  int64_t M, N, K;
  MatView<float> A;
  const PackB* B;
  float beta;
  float* C;
  int64_t ldc;
  const float* bias;
};

// Rows m0..m1, columns n0..n1 of C: the full loop nest on this thread.
void run_block(const Problem& P, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  if (m0 >= m1 || n0 >= n1) return;
  // Balanced blocks: K = 576 gives 3 x 192 rather than 256 + 256 + 64.
  const int64_t kcb = ceil_div(P.K, ceil_div(P.K, kKC));
  const int64_t mcb = round_up(ceil_div(m1 - m0, ceil_div(m1 - m0, kMC)), MR);
  const int64_t ncb = std::min<int64_t>(kNC, round_up(n1 - n0, NR));
  float* abuf = tl_pack_a.get(static_cast<size_t>(mcb * kcb));
  float* bbuf = tl_pack_b.get(static_cast<size_t>(kcb * ncb));
  for (int64_t jc = n0; jc < n1; jc += ncb) {
    const int64_t nc = std::min(ncb, n1 - jc);
    for (int64_t pc = 0; pc < P.K; pc += kcb) {
      const int64_t kc = std::min(kcb, P.K - pc);
      P.B->pack(pc, kc, jc, nc, bbuf);
      const float beta = pc == 0 ? P.beta : 1.0f;
      const float* bias = pc == 0 ? P.bias : nullptr;
      for (int64_t ic = m0; ic < m1; ic += mcb) {
        const int64_t mc = std::min(mcb, m1 - ic);
        pack_a(P.A, ic, mc, pc, kc, abuf);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          const float* bp = bbuf + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            float* cp = P.C + (ic + ir) * P.ldc + jc + jr;
            const float* bi = bias ? bias + ic + ir : nullptr;
            if (mr == MR && nr == NR) {
              micro_kernel(kc, abuf + ir * kc, bp, cp, P.ldc, beta, bi);
            } else {
              micro_kernel_edge(kc, abuf + ir * kc, bp, cp, P.ldc, mr, nr, beta, bi);
            }
          }
        }
      }
    }
  }
}

}  // namespace

void MatrixPackB::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const {
  for (int64_t t = 0; t * NR < nc; ++t, dst += NR * kc) {
    const int64_t nb = n0 + t * NR;
    const int w = static_cast<int>(std::min<int64_t>(NR, nc - t * NR));
    if (b_.cs == 1 && w == NR) {
      for (int64_t k = 0; k < kc; ++k)
        std::memcpy(dst + k * NR, b_.p + (k0 + k) * b_.rs + nb, NR * sizeof(float));
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        float* d = dst + k * NR;
        for (int j = 0; j < w; ++j) d[j] = b_(k0 + k, nb + j);
        for (int j = w; j < NR; ++j) d[j] = 0.0f;
      }
    }
  }
}

void sgemm(int64_t M, int64_t N, int64_t K, MatView<float> A, const PackB& B, float beta,
           float* C, int64_t ldc, const float* row_bias) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // C = beta * C (+ bias)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = C[i * ldc + j];
        c = (beta == 0.0f ? 0.0f : beta * c) + (row_bias ? row_bias[i] : 0.0f);
      }
    return;
  }
  const Problem P{M, N, K, A, &B, beta, C, ldc, row_bias};
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 2e6) nt = 1;
  if (nt <= 1) {
    run_block(P, 0, M, 0, N);
    return;
  }
  const int64_t strips = ceil_div(N, NR), panels = ceil_div(M, MR);
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    if (strips >= 4 * T || panels < T) {  // split the columns (conv: N = P*Q is large)
      const int64_t s0 = strips * t / T, s1 = strips * (t + 1) / T;
      run_block(P, 0, M, std::min(N, s0 * NR), std::min(N, s1 * NR));
    } else {  // split the rows
      const int64_t p0 = panels * t / T, p1 = panels * (t + 1) / T;
      run_block(P, std::min(M, p0 * MR), std::min(M, p1 * MR), 0, N);
    }
  }
}

void sgemm(int64_t M, int64_t N, int64_t K, MatView<float> A, MatView<float> B, float beta,
           float* C, int64_t ldc, const float* row_bias) {
  sgemm(M, N, K, A, MatrixPackB(B), beta, C, ldc, row_bias);
}

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c) {
  const int64_t M = c.size(0), N = c.size(1);
  const int64_t K = trans_a ? a.size(0) : a.size(1);
  dispatch_floating(a.dtype(), "gemm", [&](auto tag) {
    using T = decltype(tag);
    const int64_t lda = a.size(1), ldb = b.size(1);
    MatView<T> A{a.data<T>(), lda, 1}, B{b.data<T>(), ldb, 1};
    if (trans_a) A = A.transposed();
    if (trans_b) B = B.transposed();
    gemm_any(M, N, K, A, B, static_cast<T>(beta), c.data<T>(), N);
  });
}

}  // namespace fcnlab::kernels::cpu
