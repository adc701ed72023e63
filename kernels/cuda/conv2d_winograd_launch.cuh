// cuda/conv2d_winograd_launch.cuh — host side of the Winograd F(2x2, 3x3) convolution
// (conv2d_winograd.cuh): geometry, workspace size, and the launch sequence (filter transform, then
// per pass of whole images: input transform, 16 x groups GEMMs, output transform), and of its
// weight gradient. Templates, so a header: conv2d.cu's forward and both gradients, and the conv2d
// ladder's Winograd rung, run them.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/tensor.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d_winograd.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::kernels::cuda {

// Winograd: 3x3, stride 1, dilation 1. Its workspace (V and M, 16 transformed values per 2x2
// output tile and input or output channel) is made per pass of at most winograd_pass_bytes(); a
// batch larger than that runs in passes of whole images.
inline bool winograd_applies(const ConvGeom& c) {
  return c.R == 3 && c.S == 3 && c.sh == 1 && c.sw == 1 && c.dh == 1 && c.dw == 1;
}

inline WinogradGeom winograd_geometry(const ConvGeom& c, int images) {
  WinogradGeom wg{};
  wg.c = c;
  wg.c.N = images;
  wg.tiles_h = (c.P + kWinogradTile - 1) / kWinogradTile;
  wg.tiles_w = (c.Q + kWinogradTile - 1) / kWinogradTile;
  wg.T = int64_t(images) * wg.tiles_h * wg.tiles_w;
  return wg;
}

// Bytes of V plus M for one image.
inline int64_t winograd_image_bytes(const ConvGeom& c, size_t elem_bytes) {
  const WinogradGeom wg = winograd_geometry(c, 1);
  return 16 * (int64_t(c.C) + c.K) * wg.T * int64_t(elem_bytes);
}

// Filter transform once, then per pass of whole images: input transform, the 16 * G GEMMs,
// output transform (+ bias). c is the convolution computed (x -> y); with kAdjoint, w holds the
// filters of the conv whose data gradient this is, w_cg its channels per group (= c.Kg).
template <class T, bool kAdjoint = false>
void launch_winograd(const ConvGeom& c, const T* x, const T* w, const T* bias, T* y) {
  const int64_t per_image = winograd_image_bytes(c, sizeof(T));
  const int images = static_cast<int>(std::clamp<int64_t>(winograd_pass_bytes() / per_image, 1, c.N));
  const int64_t kc = int64_t(c.K) * c.Cg;
  Tensor u = Tensor::empty({16 * kc}, dtype_of<T>(), Device::cuda());
  FCNLAB_LAUNCH_CHECKED((winograd_filter_kernel<T, kAdjoint>), blocks_for(kc, 256), 256, 0, w, u.data<T>(),
                        c.K, c.Cg, c.Kg);
  const WinogradGeom full = winograd_geometry(c, images);
  Tensor v = Tensor::empty({16 * int64_t(c.C) * full.T}, dtype_of<T>(), Device::cuda());
  Tensor m = Tensor::empty({16 * int64_t(c.K) * full.T}, dtype_of<T>(), Device::cuda());
  for (int n0 = 0; n0 < c.N; n0 += images) {
    const WinogradGeom wg = winograd_geometry(c, std::min(images, c.N - n0));
    const T* xn = x + int64_t(n0) * c.C * c.H * c.W;
    T* yn = y + int64_t(n0) * c.K * c.P * c.Q;
    FCNLAB_LAUNCH_CHECKED(winograd_input_kernel<T>, blocks_for(int64_t(c.C) * wg.T, 256), 256, 0, xn,
                          v.data<T>(), wg);
    run_tiled_gemm<T>(16 * int64_t(c.G), c.Kg, wg.T, c.Cg,
                      FwdWeightRows<T>{u.data<T>(), c.Cg, c.Kg, rows_vec4(u.data<T>(), c.Cg)},
                      WinogradCols<T>{v.data<T>(), c.Cg, wg.T}, WinogradStore<T>{m.data<T>(), c.Kg, wg.T});
    FCNLAB_LAUNCH_CHECKED(winograd_output_kernel<T>, blocks_for(int64_t(c.K) * wg.T, 256), 256, 0,
                          m.data<T>(), bias, yn, wg);
  }
}

// The weight gradient dw (K, Cg, 3, 3) of the convolution c from x and dy: per pass of whole
// images the input transform (V, as the forward) and the dy transform (Y), then the 16 x groups
// GEMMs reducing over the pass's tiles into M (added to across passes); the output transform
// G^T M G last. Workspace per pass: the forward's (V and Y) plus M (16 K Cg).
template <class T>
void launch_winograd_weight(const ConvGeom& c, const T* x, const T* dy, T* dw) {
  const int64_t per_image = winograd_image_bytes(c, sizeof(T));
  const int images = static_cast<int>(std::clamp<int64_t>(winograd_pass_bytes() / per_image, 1, c.N));
  const WinogradGeom full = winograd_geometry(c, images);
  const int64_t kc = int64_t(c.K) * c.Cg;
  Tensor v = Tensor::empty({16 * int64_t(c.C) * full.T}, dtype_of<T>(), Device::cuda());
  Tensor yt = Tensor::empty({16 * int64_t(c.K) * full.T}, dtype_of<T>(), Device::cuda());
  Tensor m = Tensor::empty({16 * kc}, dtype_of<T>(), Device::cuda());
  for (int n0 = 0; n0 < c.N; n0 += images) {
    const WinogradGeom wg = winograd_geometry(c, std::min(images, c.N - n0));
    FCNLAB_LAUNCH_CHECKED(winograd_input_kernel<T>, blocks_for(int64_t(c.C) * wg.T, 256), 256, 0,
                          x + int64_t(n0) * c.C * c.H * c.W, v.data<T>(), wg);
    FCNLAB_LAUNCH_CHECKED(winograd_grad_kernel<T>, blocks_for(int64_t(c.K) * wg.T, 256), 256, 0,
                          dy + int64_t(n0) * c.K * c.P * c.Q, yt.data<T>(), wg);
    run_tiled_gemm<T>(16 * int64_t(c.G), c.Kg, c.Cg, wg.T,
                      WinogradTileRows<T>{yt.data<T>(), c.Kg, wg.T, rows_vec4(yt.data<T>(), wg.T)},
                      WinogradTileRows<T>{v.data<T>(), c.Cg, wg.T, rows_vec4(v.data<T>(), wg.T)},
                      WinogradWeightStore<T>{m.data<T>(), c.Kg, c.Cg, n0 > 0});
  }
  FCNLAB_LAUNCH_CHECKED(winograd_weight_output_kernel<T>, blocks_for(kc, 256), 256, 0, m.data<T>(), dw, c.K,
                        c.Cg);
}

}  // namespace fcnlab::kernels::cuda
