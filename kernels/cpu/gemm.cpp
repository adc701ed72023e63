// cpu/gemm.cpp — the packed, cache-blocked SGEMM and its AVX2+FMA register micro-kernel.
//
// Per call:  A (the conv weights) is packed once into MR-row panels, per kc-block, shared by
//            the threads. C is cut into work items of about NC columns (all rows; or row
//            blocks x column blocks when N is small) that the threads take dynamically.
// Per item:  for each kc-block pc (K in balanced blocks of <= KC):
//              pack B[pc:pc+kc, item columns]    kc x NC floats, stays in L2
//              for ic in M step MC               A block MC x kc, L2
//                for jr in NC step NR            one B micro-panel (kc x NR) stays in L1 ...
//                  for ir in MC step MR          ... while the A micro-panels stream past it
//                    C[MR x NR] (+)= micro-kernel
// The micro-kernel keeps the whole 6 x 16 tile of C in 12 ymm registers and does 12 FMAs per
// k for 2 vector loads and 6 broadcasts. The B packer is a PackB object: for conv2d it
// gathers the im2col block straight from the image (kernels/cpu/im2col.cpp).
#include "kernels/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FCNLAB_GEMM_AVX2 1
#endif

namespace fcnlab::kernels::cpu {

namespace {

constexpr int MR = kGemmMR;
static_assert(MR == 6, "run_item dispatches micro_kernel<1..6> by the rows of a tile");
constexpr int NR = kGemmNR;
// Cache blocking for a Zen 3 core (L1d 32 KiB, L2 512 KiB, L3 shared): B micro-panel
// KC x NR x 4 B = 16 KiB in L1; A block MC x KC x 4 B = 144 KiB and B block KC x NC x 4 B =
// 256 KiB in L2. Packed A is held whole up to 64 MiB (every VGG conv layer).
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 144;
constexpr int64_t kNC = 256;
std::atomic<int64_t> g_max_packed_a{int64_t{64} << 20};  // bytes

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

// c (ROWS x NR, row stride ldc) = a_panel * b_panel + beta * c (+ bias[i] on row i).
// a: kc groups of MR floats (only the first ROWS used: the last panel of an M that is not a
// multiple of MR computes only its real rows); b: kc rows of NR floats (64-byte aligned).
template <int ROWS>
inline void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                         float* __restrict c, int64_t ldc, float beta, const float* bias) {
#if FCNLAB_GEMM_AVX2
  constexpr int NV = NR / 8;
  __m256 acc[ROWS][NV];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_setzero_ps();
  // C is read (or written) only after the k loop: fetch its lines meanwhile.
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  // Unrolled: the loop's own add/compare/branch otherwise cost ~10% of the FMA rate.
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = _mm256_load_ps(b + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_fmadd_ps(ai, bv[j], acc[i][j]);
    }
    a += MR;
    b += NR;
  }
  // Epilogue: all loads of C before any store. C's rows are often 4 KiB apart (a 224x224
  // plane is 49 pages), and a load right after a store to the same page offset stalls on a
  // false dependence (4K aliasing).
  if (bias) {
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const __m256 bi = _mm256_set1_ps(bias[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_add_ps(acc[i][j], bi);
    }
  }
  if (beta == 1.0f) {
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_add_ps(acc[i][j], _mm256_loadu_ps(c + i * ldc + 8 * j));
  } else if (beta != 0.0f) {
    const __m256 bv = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j)
        acc[i][j] = _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + i * ldc + 8 * j), acc[i][j]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) _mm256_storeu_ps(c + i * ldc + 8 * j, acc[i][j]);
#else
  float acc[ROWS][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int i = 0; i < ROWS; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < ROWS; ++i)
    for (int j = 0; j < NR; ++j) {
      float v = acc[i][j] + (bias ? bias[i] : 0.0f);
      float& cij = c[i * ldc + j];
      cij = beta == 0.0f ? v : (beta == 1.0f ? cij + v : beta * cij + v);
    }
#endif
}

// A tile narrower than NR: compute the full tile into a buffer, keep the valid part.
void micro_kernel_edge(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                       int nr, float beta, const float* bias) {
  alignas(64) float tmp[MR * NR];
  micro_kernel<MR>(kc, a, b, tmp, NR, 0.0f, nullptr);
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

// One sgemm call, blocked: K in kc-blocks (kcb each, the last shorter), A packed once per
// window of kc-blocks and shared by the threads, C split into work items that the threads
// take dynamically (a core that other processes slow down simply takes fewer items).
struct Plan {
  int64_t M, N, K;
  const PackB* B;
  float beta;
  float* C;
  int64_t ldc;
  const float* bias;
  int64_t kcb, nkb;     // kc-block size and count
  int64_t Mr;           // M rounded up to MR: rows of the packed A
  int64_t mcb;          // rows per M block (multiple of MR)
  int64_t strips;       // NR-wide column strips of C
  int64_t nblocks;      // column blocks; block j covers strips [j*strips/nblocks, (j+1)*strips/nblocks)
  int64_t mblocks;      // row blocks per item list (1: an item owns all rows of its columns)
  int64_t kc_of(int64_t kb) const { return std::min(kcb, K - kb * kcb); }
};

// C[m0:m1, n0:n1] += A[m0:m1, window] * B[window, n0:n1] for the kc-blocks [w0, w1).
void run_item(const Plan& P, const float* apack, int64_t w0, int64_t w1, int64_t m0, int64_t m1,
              int64_t n0, int64_t n1, float* bbuf) {
  const int64_t nc = n1 - n0;
  for (int64_t kb = w0; kb < w1; ++kb) {
    const int64_t kc = P.kc_of(kb), pc = kb * P.kcb;
    P.B->pack(pc, kc, n0, nc, bbuf);
    const float beta = pc == 0 ? P.beta : 1.0f;
    const float* bias = pc == 0 ? P.bias : nullptr;
    const float* ablock = apack + (kb - w0) * P.Mr * P.kcb;
    for (int64_t ic = m0; ic < m1; ic += P.mcb) {
      const int64_t mc = std::min(P.mcb, m1 - ic);
      for (int64_t jr = 0; jr < nc; jr += NR) {
        const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
        const float* bp = bbuf + jr * kc;
        for (int64_t ir = ic; ir < ic + mc; ir += MR) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, m1 - ir));
          const float* ap = ablock + ir * kc;  // panel ir/MR starts at (ir/MR)*MR*kc
          float* cp = P.C + ir * P.ldc + n0 + jr;
          const float* bi = bias ? bias + ir : nullptr;
          if (nr == NR) {
            switch (mr) {
              case 6: micro_kernel<6>(kc, ap, bp, cp, P.ldc, beta, bi); break;
              case 5: micro_kernel<5>(kc, ap, bp, cp, P.ldc, beta, bi); break;
              case 4: micro_kernel<4>(kc, ap, bp, cp, P.ldc, beta, bi); break;
              case 3: micro_kernel<3>(kc, ap, bp, cp, P.ldc, beta, bi); break;
              case 2: micro_kernel<2>(kc, ap, bp, cp, P.ldc, beta, bi); break;
              default: micro_kernel<1>(kc, ap, bp, cp, P.ldc, beta, bi); break;
            }
          } else {
            micro_kernel_edge(kc, ap, bp, cp, P.ldc, mr, nr, beta, bi);
          }
        }
      }
    }
  }
}

}  // namespace

int64_t sgemm_set_packed_a_budget_bytes(int64_t bytes) { return g_max_packed_a.exchange(bytes); }

void MatrixPackB::pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const {
  const int64_t full = nc / NR;  // whole strips; the last partial strip is zero-padded
  if (b_.cs == 1) {  // row-major B: walk along each row (sequential reads), cut into strips
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = b_.p + (k0 + k) * b_.rs + n0;
      float* d = dst + k * NR;
      for (int64_t t = 0; t < full; ++t, d += NR * kc, src += NR) std::memcpy(d, src, NR * sizeof(float));
    }
  } else {
    for (int64_t t = 0; t < full; ++t)
      for (int64_t k = 0; k < kc; ++k)
        for (int j = 0; j < NR; ++j) dst[t * NR * kc + k * NR + j] = b_(k0 + k, n0 + t * NR + j);
  }
  if (full * NR < nc) {
    float* d = dst + full * NR * kc;
    const int w = static_cast<int>(nc - full * NR);
    for (int64_t k = 0; k < kc; ++k) {
      for (int j = 0; j < w; ++j) d[k * NR + j] = b_(k0 + k, n0 + full * NR + j);
      for (int j = w; j < NR; ++j) d[k * NR + j] = 0.0f;
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
  Plan P{};
  P.M = M, P.N = N, P.K = K, P.B = &B, P.beta = beta, P.C = C, P.ldc = ldc, P.bias = row_bias;
  // Balanced kc-blocks: K = 576 gives 3 x 192 rather than 256 + 256 + 64.
  P.nkb = ceil_div(K, kKC);
  P.kcb = ceil_div(K, P.nkb);
  P.Mr = round_up(M, MR);
  P.mcb = round_up(ceil_div(M, ceil_div(M, kMC)), MR);
  P.strips = ceil_div(N, NR);
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 2e6) nt = 1;
  // Column blocks of about kNC columns: a packed B block (kcb x kNC) stays in L2.
  P.nblocks = std::min(P.strips, ceil_div(N, kNC));
  // A few hundred columns (conv4 at 28x28: N = 784) still make enough narrower column blocks
  // for every thread; splitting the rows instead would pack each B block once per row block.
  if (P.nblocks < 3 * nt && P.strips >= 12 * nt) P.nblocks = 3 * nt;
  if (P.nblocks >= 3 * nt) {
    P.mblocks = 1;  // many column blocks (conv: N = P*Q): an item is all rows of one block
  } else {
    P.mblocks = ceil_div(M, P.mcb);  // few columns: items are (row block, column block) pairs
    P.nblocks = std::max<int64_t>(P.nblocks, std::min(P.strips, int64_t{nt}));
  }
  const int64_t items = P.nblocks * P.mblocks;
  // A is packed one window of kc-blocks at a time, at most 64 MiB (all of K for
  // every VGG layer; fc6-sized weights go in several windows).
  const int64_t kb_per_window =
      std::clamp<int64_t>(g_max_packed_a.load() / (P.Mr * P.kcb * 4), 1, P.nkb);
  float* apack = tl_pack_a.get(static_cast<size_t>(P.Mr * P.kcb * kb_per_window));
  const int64_t panels = P.Mr / MR;
  const int64_t max_nc = ceil_div(P.strips, P.nblocks) * NR;
  if (items == 1) nt = 1;

  // if(false) still opens a (one-thread) region, so the omp-for below never binds to an
  // enclosing team when sgemm is itself called from inside a parallel region.
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float* bbuf = tl_pack_b.get(static_cast<size_t>(P.kcb * max_nc));
    for (int64_t w0 = 0; w0 < P.nkb; w0 += kb_per_window) {
      const int64_t w1 = std::min(P.nkb, w0 + kb_per_window);
      const int64_t npack = (w1 - w0) * panels;
#pragma omp for schedule(static)
      for (int64_t t = 0; t < npack; ++t) {
        const int64_t kb = w0 + t / panels, ip = t % panels;
        const int64_t kc = P.kc_of(kb);
        pack_a(A, ip * MR, std::min<int64_t>(MR, M - ip * MR), kb * P.kcb, kc,
               apack + (kb - w0) * P.Mr * P.kcb + ip * MR * kc);
      }
#pragma omp for schedule(dynamic, 1)
      for (int64_t it = 0; it < items; ++it) {
        const int64_t jb = it % P.nblocks, ib = it / P.nblocks;
        const int64_t n0 = std::min(N, P.strips * jb / P.nblocks * NR);
        const int64_t n1 = std::min(N, P.strips * (jb + 1) / P.nblocks * NR);
        const int64_t m0 = P.mblocks == 1 ? 0 : ib * P.mcb;
        const int64_t m1 = P.mblocks == 1 ? M : std::min(M, m0 + P.mcb);
        if (n0 < n1 && m0 < m1) run_item(P, apack, w0, w1, m0, m1, n0, n1, bbuf);
      }
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
