// cuda/gemm.cuh — the tiled GEMM engine every matrix-shaped kernel of kernels/cuda runs on
// (SGEMM/DGEMM, and the implicit-GEMM convolutions of conv2d.cuh), plus the plain-matrix loaders.
//
//   C[g] (M x N) = A[g] (M x K) * B[g] (K x N)      for each group g (blockIdx.z)
//
// A and B are never materialized: a loader functor gathers element (m, k) / (k, n) on the fly
// (a strided matrix for GEMM, im2col-style gathers for convolutions), and a store functor
// writes the finished accumulator (beta * C, bias, layout). So one kernel body serves
// forward, data-gradient and weight-gradient convolutions.
//
// Tiling (Cfg): a block of NT = (BM/TM)*(BN/TN) threads computes a BM x BN tile of C, stepping
// over K in slices of BK. Each slice of A (BM x BK) and B (BK x BN) is gathered from global
// memory into registers, then stored k-major into shared memory (As[k][m], Bs[k][n]) so the
// inner loop reads a TM-column of A and a TN-row of B as contiguous runs; each thread keeps a
// TM x TN accumulator in registers (TM*TN FMAs per 1 + 1 shared loads per k ... amortized).
// Shared memory is double-buffered: the global loads of slice t+1 are issued before the FMAs of
// slice t, and stored into the other buffer afterwards, so one barrier per slice suffices.
//
// Loader protocol (all __device__, value types copied into the kernel):
//   a.row(g, m) -> RowCtx        per-thread context for row m of A[g] (m < M guaranteed)
//   a.load(ctx, k) -> T          element (m, k), k < K guaranteed
//   b.col(g, n) -> ColCtx ; b.load(ctx, k) -> T       the same for column n of B[g]
//   store(g, m, n, acc)          m < M, n < N guaranteed
// Optional, for a loader whose rows (A) or columns (B) run along k: a member `bool vec4`, set by
// the launcher when K is a multiple of 4 (and, for a 16-byte load, every row starts 16-byte
// aligned), and `load4(ctx, k) -> float4`, elements k..k+3 (k % 4 == 0) at once: one 16-byte
// load for contiguous rows (weights, dy planes, Winograd tiles, plain matrices), or one index
// split for four gathered elements (the weight gradient's image columns). Then (f32) a thread's
// four A elements of a slice are one LDG.128 instead of four LDG.32: a quarter of the load
// instructions, and each 128-byte line a warp reads is requested once instead of four times.
// Same values, same arithmetic: bit-identical to the scalar loads.
// A B loader may also declare `static constexpr bool k_contiguous = true` (Winograd's tile rows
// and the weight gradient's image columns, both running along k): B is then gathered the way A
// is, each thread taking 4 consecutive k of a column (through load4 when vec4), so a warp reads
// 16 columns x 32 bytes per instruction instead of 32 columns x 4 bytes, one line per lane.
// Work is guarded (never an early return) because every thread must reach every barrier.
#pragma once
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/portable.cuh"


namespace fcnlab::kernels::cuda {

// Tile shapes. f32: 128x128x8 block tile, 8x8 register tile, 256 threads (the classic SGEMM
// shape: 64 FMAs per 16 shared-memory reads per k). f64: 64x64x8, 4x4, 256 threads (double
// registers are twice as wide; f64 serves gradient checks, not speed).
template <class T>
struct GemmTile;
template <>
struct GemmTile<float> {
  static constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
};
template <>
struct GemmTile<double> {
  static constexpr int BM = 64, BN = 64, BK = 8, TM = 4, TN = 4;
};
// f32 with at most 64 rows (64 filters: conv1_x and their Winograd GEMMs, 2- or 21-class score
// layers, the data gradient into 64 channels): half the rows of the 128-row tile would multiply
// zeros. The same 8x8 register tile and k depth over 64 x 128, with 128 threads.
struct GemmTileShort {
  static constexpr int BM = 64, BN = 128, BK = 8, TM = 8, TN = 8;
};

template <class Cfg>
struct GemmTileDerived {
  using C = Cfg;
  static constexpr int NT = (C::BM / C::TM) * (C::BN / C::TN);  // threads per block
  static constexpr int EA = C::BM * C::BK / NT;                 // A elements per thread per slice
  static constexpr int EB = C::BK * C::BN / NT;                 // B elements per thread per slice
  static constexpr int PAD = 4;  // keeps rows 16-byte aligned, shifts banks between k rows
  static_assert(C::BK % EA == 0, "a thread's A elements lie in one row");
  static_assert(NT % C::BN == 0, "a thread's B elements lie in one column");
};

template <class L, class Ctx>
concept Vector4Loader = requires(const L& l, const Ctx& c) {
  { l.vec4 } -> std::convertible_to<bool>;
  { l.load4(c, 0) } -> std::same_as<float4>;
};

template <class L>
concept KContiguousCols = requires { requires L::k_contiguous; };

// The launcher's test for `vec4`: rows of `row_len` elements from a 16-byte aligned `p`.
inline bool rows_vec4(const void* p, int64_t row_len) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && row_len % 4 == 0;
}

// Which rows / columns of the block tile a thread's register tile covers. Contiguous (the
// shipped layout): thread (tx, ty) owns rows ty*TM .. ty*TM+TM-1. Split: two halves of TM/2, one in
// each half of the tile (ty*TM/2 + i and BM/2 + ty*TM/2 + i), so the 128-bit shared loads of
// neighbouring threads are 16 bytes apart instead of 32 (no 2-way bank conflict on the B
// fragment); the conv2d ladder's v4 rung times it against the contiguous layout.
enum class FragmentLayout { contiguous, split };
template <FragmentLayout L, int TILE, int PER_THREAD>
__device__ __forceinline__ int fragment_index(int t, int i) {
  if constexpr (L == FragmentLayout::contiguous) {
    return t * PER_THREAD + i;
  } else {
    constexpr int half = PER_THREAD / 2;
    return i < half ? t * half + i : TILE / 2 + t * half + (i - half);
  }
}

// One block: C tile (blockIdx.y, blockIdx.x) of group blockIdx.z / k_splits, over the K range
// [split * k_chunk, min(K, (split + 1) * k_chunk)) with split = blockIdx.z % k_splits.
template <class T, class ALoad, class BLoad, class Store,
          FragmentLayout Layout = FragmentLayout::contiguous, class Cfg = GemmTile<T>>
__global__ void __launch_bounds__(GemmTileDerived<Cfg>::NT)
    tiled_gemm_kernel(int M, int N, int K, int k_splits, int k_chunk, ALoad a, BLoad b, Store st) {
  using C = Cfg;
  using D = GemmTileDerived<Cfg>;
  constexpr int BM = C::BM, BN = C::BN, BK = C::BK, TM = C::TM, TN = C::TN;
  constexpr int EA = D::EA, EB = D::EB, PAD = D::PAD;
  alignas(16) __shared__ T As[2][BK][BM + PAD];
  alignas(16) __shared__ T Bs[2][BK][BN + PAD];

  const int tid = threadIdx.x;
  const int g = blockIdx.z / k_splits, split = blockIdx.z % k_splits;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int k_begin = split * k_chunk;
  const int k_end = min(K, k_begin + k_chunk);

  // Which elements this thread gathers: A row a_m, columns a_k..a_k+EA-1 of the slice;
  // B column b_n, rows b_k + i * (NT / BN) -- or, for a k-contiguous B loader (B_BY_K), columns
  // b_n + j * B_CPP, rows b_k..b_k+3 of each, as A.
  const int a_m = tid / (BK / EA), a_k = (tid % (BK / EA)) * EA;
  constexpr bool B_BY_K = KContiguousCols<BLoad> && EB % 4 == 0 && BK % 4 == 0;
  constexpr int B_STEP = D::NT / BN;
  constexpr int B_TPC = B_BY_K ? BK / 4 : 1;  // threads per column
  constexpr int B_CPP = D::NT / B_TPC;        // columns per pass over the threads
  constexpr int B_PASSES = B_BY_K ? EB / 4 : 1;
  const int b_n = B_BY_K ? tid / B_TPC : tid % BN;
  const int b_k = B_BY_K ? (tid % B_TPC) * 4 : tid / BN;
  const bool a_ok = m0 + a_m < M;
  const auto a_ctx = a.row(g, a_ok ? m0 + a_m : 0);
  using BCtx = decltype(b.col(0, 0));
  bool b_ok[B_PASSES];
  BCtx b_ctx[B_PASSES];
FCNLAB_UNROLL
  for (int j = 0; j < B_PASSES; ++j) {
    const int n = n0 + b_n + j * B_CPP;
    b_ok[j] = n < N;
    b_ctx[j] = b.col(g, b_ok[j] ? n : 0);
  }

  T ra[EA], rb[EB];
  // Elements k..k+3 of one row (A) or column (B) into dst: through load4 when the loader offers
  // it and the launcher set vec4 (uniform; k and k_end are multiples of 4 then, so k < k_end
  // covers all four), else one by one.
  auto load_run4 = [&](const auto& l, const auto& ctx, bool ok, int k, T* dst) {
    using L = std::decay_t<decltype(l)>;
    if constexpr (std::is_same_v<T, float> && Vector4Loader<L, std::decay_t<decltype(ctx)>>) {
      if (l.vec4) {
        const float4 v = (ok && k < k_end) ? l.load4(ctx, k) : make_float4(0.f, 0.f, 0.f, 0.f);
        dst[0] = v.x, dst[1] = v.y, dst[2] = v.z, dst[3] = v.w;
        return;
      }
    }
FCNLAB_UNROLL
    for (int i = 0; i < 4; ++i) dst[i] = (ok && k + i < k_end) ? l.load(ctx, k + i) : T(0);
  };
  auto gather = [&](int k0) {
    if constexpr (EA == 4) {
      load_run4(a, a_ctx, a_ok, k0 + a_k, ra);
    } else {
FCNLAB_UNROLL
      for (int i = 0; i < EA; ++i) {
        const int k = k0 + a_k + i;
        ra[i] = (a_ok && k < k_end) ? a.load(a_ctx, k) : T(0);
      }
    }
    if constexpr (B_BY_K) {
FCNLAB_UNROLL
      for (int j = 0; j < B_PASSES; ++j) load_run4(b, b_ctx[j], b_ok[j], k0 + b_k, rb + 4 * j);
    } else {
FCNLAB_UNROLL
      for (int i = 0; i < EB; ++i) {
        const int k = k0 + b_k + i * B_STEP;
        rb[i] = (b_ok[0] && k < k_end) ? b.load(b_ctx[0], k) : T(0);
      }
    }
  };
  auto put = [&](int buf) {
FCNLAB_UNROLL
    for (int i = 0; i < EA; ++i) As[buf][a_k + i][a_m] = ra[i];
    if constexpr (B_BY_K) {
      // lanes (b_n = lane / 2, b_k = 0 or 4): banks 4 * (b_k + i) + b_n mod 32, all different
FCNLAB_UNROLL
      for (int j = 0; j < B_PASSES; ++j)
FCNLAB_UNROLL
        for (int i = 0; i < 4; ++i) Bs[buf][b_k + i][b_n + j * B_CPP] = rb[4 * j + i];
    } else {
FCNLAB_UNROLL
      for (int i = 0; i < EB; ++i) Bs[buf][b_k + i * B_STEP][b_n] = rb[i];
    }
  };

  // This thread's register tile: rows ty*TM.., columns tx*TN.. of the block tile.
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);
  T acc[TM][TN];
FCNLAB_UNROLL
  for (int i = 0; i < TM; ++i)
FCNLAB_UNROLL
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  const int slices = k_end > k_begin ? (k_end - k_begin + BK - 1) / BK : 0;
  if (slices > 0) {  // uniform across the block: every thread takes the same branch
    gather(k_begin);
    put(0);
  }
  __syncthreads();
  for (int t = 0; t < slices; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < slices;
    if (more) gather(k_begin + (t + 1) * BK);  // global loads in flight during the FMAs
FCNLAB_UNROLL
    for (int k = 0; k < BK; ++k) {
      T fa[TM], fb[TN];
FCNLAB_UNROLL
      for (int i = 0; i < TM; ++i) fa[i] = As[cur][k][fragment_index<Layout, BM, TM>(ty, i)];
FCNLAB_UNROLL
      for (int j = 0; j < TN; ++j) fb[j] = Bs[cur][k][fragment_index<Layout, BN, TN>(tx, j)];
FCNLAB_UNROLL
      for (int i = 0; i < TM; ++i)
FCNLAB_UNROLL
        for (int j = 0; j < TN; ++j) acc[i][j] += fa[i] * fb[j];
    }
    // The other buffer was last read in slice t-1, which every thread finished before the
    // barrier that ended it; writing it now is safe, and this barrier publishes it.
    if (more) put(cur ^ 1);
    __syncthreads();
  }

FCNLAB_UNROLL
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + fragment_index<Layout, BM, TM>(ty, i);
FCNLAB_UNROLL
    for (int j = 0; j < TN; ++j) {
      const int n = n0 + fragment_index<Layout, BN, TN>(tx, j);
      if (m < M && n < N) st(g, m, n, acc[i][j]);
    }
  }
}

// Split-K partials: ws[((split * groups + g) * M + m) * N + n]. The store functor of a split
// launch writes here; finish_split_kernel then sums the splits in order (deterministic) and
// hands each total to the real store.
template <class T>
struct SplitStore {
  T* ws;
  int groups, M, N, k_splits;
  __device__ void operator()(int gz, int m, int n, T v) const {
    // gz is the group; the split comes from blockIdx.z (the engine passes the group only).
    const int split = blockIdx.z % k_splits;
    ws[((int64_t(split) * groups + gz) * M + m) * N + n] = v;
  }
};

template <class T, class Store>
__global__ void finish_split_kernel(const T* ws, int groups, int M, int N, int k_splits, Store st) {
  const int64_t total = int64_t(groups) * M * N;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    T s = T(0);
    for (int sp = 0; sp < k_splits; ++sp) s += ws[int64_t(sp) * total + i];
    const int n = static_cast<int>(i % N);
    const int m = static_cast<int>((i / N) % M);
    const int g = static_cast<int>(i / (int64_t(M) * N));
    st(g, m, n, s);
  }
}

// ---- plain matrices (linear, matmul): element (i, j) = p[i * rs + j * cs]

template <class T>
struct MatrixRows {  // A loader
  const T* p;
  int64_t rs, cs;
  bool vec4 = false;  // cs == 1 and rows_vec4(p, rs) with K % 4 == 0 (see the top)
  __device__ const T* row(int, int m) const { return p + m * rs; }
  __device__ T load(const T* r, int k) const { return r[k * cs]; }
  __device__ float4 load4(const T* r, int k) const { return load_float4(r + k); }
};

template <class T>
struct MatrixCols {  // B loader
  const T* p;
  int64_t rs, cs;
  __device__ const T* col(int, int n) const { return p + n * cs; }
  __device__ T load(const T* c, int k) const { return c[k * rs]; }
};

// C = acc + beta * C (beta == 0 never reads C, which may hold NaN poison).
template <class T>
struct MatrixStore {
  T* c;
  int64_t ldc;
  T beta;
  __device__ void operator()(int, int m, int n, T v) const {
    T* p = c + m * ldc + n;
    *p = beta == T(0) ? v : v + beta * *p;
  }
};

}  // namespace fcnlab::kernels::cuda
