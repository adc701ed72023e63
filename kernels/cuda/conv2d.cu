// cuda/conv2d.cu — launchers of the implicit-GEMM convolutions (conv2d.cuh over the tiled engine
// of gemm.cuh) and of the channel-bias kernels. Shapes were checked by engine/ops/conv.cpp.
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::kernels::cuda {

namespace {

// x (N, C, H, W), w (K, C/G, R, S), y (N, K, P, Q): every index the kernels form fits in int
// per plane and in int64 overall; the GEMM dimensions are checked by run_tiled_gemm.
ConvGeom geometry(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dOptions& o) {
  ConvGeom c{};
  c.N = static_cast<int>(x.size(0)), c.C = static_cast<int>(x.size(1));
  c.H = static_cast<int>(x.size(2)), c.W = static_cast<int>(x.size(3));
  c.K = static_cast<int>(w.size(0)), c.R = static_cast<int>(w.size(2)), c.S = static_cast<int>(w.size(3));
  c.P = static_cast<int>(y.size(2)), c.Q = static_cast<int>(y.size(3));
  c.G = o.groups, c.Cg = c.C / o.groups, c.Kg = c.K / o.groups;
  c.sh = o.stride_h, c.sw = o.stride_w, c.ph = o.pad_h, c.pw = o.pad_w;
  c.dh = o.dilation_h, c.dw = o.dilation_w;
  return c;
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o) {
  const ConvGeom c = geometry(x, w, y, o);
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const int crs = c.Cg * c.R * c.S;
    run_tiled_gemm<T>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs, FwdWeightRows<T>{w.data<T>(), crs, c.Kg},
                      FwdImageCols<T>{x.data<T>(), c},
                      FwdStore<T>{y.data<T>(), b.defined() ? b.data<T>() : nullptr, c});
  });
}

// Also conv_transpose2d's forward. With a stride and dilation 1 the phase-decomposed GEMM
// (conv2d.cuh) skips the taps no dy pixel reaches: (sh * sw) fewer multiply-adds, FCN-32s's
// upscore 1024x fewer. Dilated convs (and a phase count past the grid) take the plain gather.
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o) {
  const ConvGeom c = geometry(dx, w, dy, o);
  const bool phased = c.dh == 1 && c.dw == 1 && (c.sh > 1 || c.sw > 1) &&
                      int64_t(c.G) * c.sh * c.sw <= 4096;
  dispatch_floating(dy.dtype(), "conv2d_backward_data", [&](auto tag) {
    using T = decltype(tag);
    if (phased) {
      const PhaseGeom pg = phase_geometry(c);
      run_tiled_gemm<T>(int64_t(c.G) * c.sh * c.sw, c.Cg, int64_t(c.N) * pg.Hp * pg.Wp,
                        int64_t(c.Kg) * pg.Tr * pg.Ts, PhaseWeightRows<T>{w.data<T>(), pg},
                        PhaseGradCols<T>{dy.data<T>(), pg}, PhaseStore<T>{dx.data<T>(), pg});
      return;
    }
    run_tiled_gemm<T>(c.G, c.Cg, int64_t(c.N) * c.H * c.W, int64_t(c.Kg) * c.R * c.S,
                      BwdDataWeightRows<T>{w.data<T>(), c}, BwdDataGradCols<T>{dy.data<T>(), c},
                      BwdDataStore<T>{dx.data<T>(), c});
  });
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o) {
  const ConvGeom c = geometry(x, dw, dy, o);
  dispatch_floating(x.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = decltype(tag);
    const int crs = c.Cg * c.R * c.S;
    run_tiled_gemm<T>(c.G, c.Kg, crs, int64_t(c.N) * c.P * c.Q, BwdWeightGradRows<T>{dy.data<T>(), c},
                      BwdWeightImageCols<T>{x.data<T>(), c}, BwdWeightStore<T>{dw.data<T>(), crs, c.Kg});
  });
}

void conv_bias_backward(const Tensor& dy, Tensor& db) {
  const int64_t N = dy.size(0), K = dy.size(1);
  const int64_t inner = N * K == 0 ? 0 : dy.numel() / (N * K);
  if (K == 0) return;
  dispatch_floating(dy.dtype(), "conv_bias_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_CHECK(K <= 0x7FFFFFFF, "conv_bias_backward: K = ", K, " exceeds the grid");
    FCNLAB_LAUNCH_CHECKED(channel_sum_kernel<T>, static_cast<unsigned>(K), 256, 0, dy.data<T>(), N,
                          K, inner, db.data<T>());
  });
}

void add_channel_bias(Tensor& y, const Tensor& b) {
  const int64_t total = y.numel();
  if (total == 0) return;
  const int64_t K = y.size(1), inner = total / (y.size(0) * K);
  dispatch_floating(y.dtype(), "add_channel_bias", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(add_channel_bias_kernel<T>, blocks_for(total, 256), 256, 0, y.data<T>(),
                          b.data<T>(), K, inner, total);
  });
}

}  // namespace fcnlab::kernels::cuda
