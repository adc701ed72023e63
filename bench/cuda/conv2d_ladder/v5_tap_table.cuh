// conv2d ladder v5 — v4 with the gather's index arithmetic moved out of the inner loop. The image
// loader of v3/v4 (conv2d.cuh FwdImageCols) turns every K index k into (channel, r, s) with two
// integer divisions by runtime values: some 40 integer instructions per gathered element, about
// 160 per thread and K slice against its 512 FMAs. Here a table built once per layer shape (on
// the host, kept on the device) holds for each k the channel plane's offset and the tap's
// (r * dh, s * dw), so a gathered element costs one 16-byte load that every block shares (L1),
// two adds, the bounds check and one multiply-add. Same products in the same order: bit-identical
// to v3 and v4. Promoted only if a GPU run shows it faster than v4.
#pragma once
#include <map>
#include <tuple>
#include <vector>

#include "engine/error.h"
#include "engine/tensor.h"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

// B(k, column (n, p, q)) = x[n, g*Cg + ch, p*sh - ph + r*dh, q*sw - pw + s*dw], with
// taps[k] = (ch * H * W, r * dh, s * dw, 0).
template <class T>
struct TapTableImageCols {
  const T* x;
  const int4* taps;
  kernels::cuda::ConvGeom c;
  __device__ kernels::cuda::ImageCol col(int g, int j) const {
    return kernels::cuda::FwdImageCols<T>{x, c}.col(g, j);
  }
  __device__ T load(const kernels::cuda::ImageCol& ctx, int k) const {
    const int4 e = taps[k];
    const int h = ctx.h0 + e.y, w = ctx.w0 + e.z;
    return (h >= 0 && h < c.H && w >= 0 && w < c.W) ? x[ctx.base + e.x + int64_t(h) * c.W + w] : T(0);
  }
};

// The table for one layer shape, built on first use and kept (a real engine would keep it with
// the layer): Cg * R * S entries of 16 bytes.
inline const int4* conv2d_tap_table(const kernels::cuda::ConvGeom& c) {
  using Key = std::tuple<int, int, int, int, int, int, int>;
  static std::map<Key, Tensor> tables;
  const Key key{c.Cg, c.H, c.W, c.R, c.S, c.dh, c.dw};
  auto it = tables.find(key);
  if (it == tables.end()) {
    FCNLAB_CHECK(int64_t(c.Cg) * c.H * c.W < (int64_t(1) << 31), "conv2d ladder v5: a group's planes ",
                 "exceed the table's int offsets");
    std::vector<int32_t> v;
    v.reserve(size_t(c.Cg) * c.R * c.S * 4);
    for (int ch = 0; ch < c.Cg; ++ch)
      for (int r = 0; r < c.R; ++r)
        for (int s = 0; s < c.S; ++s)
          for (int32_t e : {ch * c.H * c.W, r * c.dh, s * c.dw, 0}) v.push_back(e);
    const Tensor host = Tensor::from_vector(v, Shape{int64_t(c.Cg) * c.R * c.S, 4});
    it = tables.emplace(key, host.to(Device::cuda())).first;
  }
  return reinterpret_cast<const int4*>(it->second.template data<int32_t>());
}

inline void conv2d_v5_tap_table(const float* x, const float* w, const float* b, float* y,
                                const kernels::cuda::ConvGeom& c, cudaStream_t) {
  using namespace kernels::cuda;
  const int crs = c.Cg * c.R * c.S;
  using A = FwdWeightRows<float>;
  using B = TapTableImageCols<float>;
  using S = FwdStore<float>;
  run_tiled_gemm<float, A, B, S, FragmentLayout::split>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs,
                                                        A{w, crs, c.Kg}, B{x, conv2d_tap_table(c), c},
                                                        S{y, b, c});
}

}  // namespace fcnlab::ladder
