// cuda/gemm_launch.cuh — host side of the tiled GEMM engine (gemm.cuh): grid shape and the
// split-K decision, shared by the launchers of gemm.cu and conv2d.cu (a template, so a header).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "engine/error.h"
#include "engine/tensor.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/gemm.cuh"

namespace fcnlab::kernels::cuda {

// Splits of K so that about two waves of blocks cover the GPU's SMs (132 on an H200) when the
// C tiles alone are too few (weight gradients: small M x N, K = N*P*Q in the 100k's; fc layers).
// Each split keeps at least 4 slices of K. Returns 1 when the tiles already fill the machine.
inline int choose_k_splits(int64_t blocks, int64_t K, int bk) {
  constexpr int64_t kTargetBlocks = 264;
  if (blocks >= kTargetBlocks) return 1;
  const int64_t want = (kTargetBlocks + blocks - 1) / blocks;
  const int64_t most = std::max<int64_t>(1, K / (4 * bk));
  return static_cast<int>(std::min<int64_t>({want, most, 64}));
}

// One launch of the tiled GEMM with tile shape Cfg (run_tiled_gemm chooses it).
template <class T, class Cfg, FragmentLayout Layout, class ALoad, class BLoad, class Store>
void launch_tiled_gemm(int64_t groups, int64_t M, int64_t N, int64_t K, const ALoad& a,
                       const BLoad& b, const Store& store, int k_splits) {
  const int64_t tiles_m = (M + Cfg::BM - 1) / Cfg::BM, tiles_n = (N + Cfg::BN - 1) / Cfg::BN;
  FCNLAB_CHECK(tiles_m <= 65535, "tiled gemm: M = ", M, " needs more than 65535 row tiles");
  if (k_splits <= 0) k_splits = choose_k_splits(groups * tiles_m * tiles_n, K, Cfg::BK);
  // Round the chunk to whole slices, then drop splits that would be empty.
  int64_t chunk = (K + k_splits - 1) / k_splits;
  chunk = std::max<int64_t>(Cfg::BK, (chunk + Cfg::BK - 1) / Cfg::BK * Cfg::BK);
  k_splits = static_cast<int>(std::max<int64_t>(1, (K + chunk - 1) / chunk));
  FCNLAB_CHECK(groups * k_splits <= 65535, "tiled gemm: groups x K splits = ", groups * k_splits,
               " exceeds the grid's z limit 65535");
  const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m),
                  static_cast<unsigned>(groups * k_splits));
  constexpr unsigned threads = GemmTileDerived<Cfg>::NT;
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  if (k_splits == 1) {
    FCNLAB_LAUNCH_CHECKED((tiled_gemm_kernel<T, ALoad, BLoad, Store, Layout, Cfg>), grid, threads, 0, m, n,
                          k, 1, static_cast<int>(chunk), a, b, store);
    return;
  }
  Tensor ws = Tensor::empty({k_splits * groups * M * N}, dtype_of<T>(), Device::cuda());
  const SplitStore<T> partial{ws.data<T>(), static_cast<int>(groups), m, n, k_splits};
  FCNLAB_LAUNCH_CHECKED((tiled_gemm_kernel<T, ALoad, BLoad, SplitStore<T>, Layout, Cfg>), grid, threads, 0,
                        m, n, k, k_splits, static_cast<int>(chunk), a, b, partial);
  FCNLAB_LAUNCH_CHECKED((finish_split_kernel<T, Store>), blocks_for(groups * M * N, 256), 256, 0,
                        ws.data<T>(), static_cast<int>(groups), m, n, k_splits, store);
}

// Runs C[g] = A[g] * B[g] for g < groups through `store`; splits K when it pays (k_splits = 0:
// choose; tests may force a value). f32 with M <= 64 takes the 64-row tile (GemmTileShort).
template <class T, class ALoad, class BLoad, class Store,
          FragmentLayout Layout = FragmentLayout::contiguous>
void run_tiled_gemm(int64_t groups, int64_t M, int64_t N, int64_t K, const ALoad& a,
                    const BLoad& b, const Store& store, int k_splits = 0) {
  if (groups == 0 || M == 0 || N == 0) return;
  FCNLAB_CHECK(M < (int64_t(1) << 31) && N < (int64_t(1) << 31) && K < (int64_t(1) << 31),
               "tiled gemm: M, N, K must fit in int, got ", M, ", ", N, ", ", K);
  if constexpr (std::is_same_v<T, float>) {
    if (M <= GemmTileShort::BM) {
      launch_tiled_gemm<T, GemmTileShort, Layout>(groups, M, N, K, a, b, store, k_splits);
      return;
    }
  }
  launch_tiled_gemm<T, GemmTile<T>, Layout>(groups, M, N, K, a, b, store, k_splits);
}

}  // namespace fcnlab::kernels::cuda
