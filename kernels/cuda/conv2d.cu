// cuda/conv2d.cu — launchers of the implicit-GEMM convolutions (conv2d.cuh over the tiled engine
// of gemm.cuh), of the direct forward kernel for small reductions, of the Winograd F(2x2, 3x3)
// forward for wide 3x3 layers (conv2d_winograd.cuh), and of the channel-bias kernels. Shapes were
// checked by engine/ops/conv.cpp.
#include "kernels/cuda/kernels.h"

#include <algorithm>

#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/conv2d_winograd_launch.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::kernels::cuda {

namespace {

// x (N, C, H, W), w (K, C/G, R, S), y (N, K, P, Q): every index the kernels form fits in int
// per plane and in int64 overall; the GEMM dimensions are checked by run_tiled_gemm.
ConvGeom geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dOptions& o) {
  ConvGeom c{};
  c.N = static_cast<int>(x[0]), c.C = static_cast<int>(x[1]);
  c.H = static_cast<int>(x[2]), c.W = static_cast<int>(x[3]);
  c.K = static_cast<int>(w[0]), c.R = static_cast<int>(w[2]), c.S = static_cast<int>(w[3]);
  c.P = static_cast<int>(y[2]), c.Q = static_cast<int>(y[3]);
  c.G = o.groups, c.Cg = c.C / o.groups, c.Kg = c.K / o.groups;
  c.sh = o.stride_h, c.sw = o.stride_w, c.ph = o.pad_h, c.pw = o.pad_w;
  c.dh = o.dilation_h, c.dw = o.dilation_w;
  return c;
}
// y's shape for x (N, C, H, W) and w (K, C/G, R, S) (the *_path_for queries have no y).
Shape output_shape(const Shape& x, const Shape& w, const Conv2dOptions& o) {
  return {x[0], w[0], conv_output_size(x[2], static_cast<int>(w[2]), o.stride_h, o.pad_h, o.dilation_h),
          conv_output_size(x[3], static_cast<int>(w[3]), o.stride_w, o.pad_w, o.dilation_w)};
}
ConvGeom geometry(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dOptions& o) {
  return geometry(x.shape(), w.shape(), y.shape(), o);
}

// The direct kernel's stage (conv2d.cuh): cb planes of th x tw inputs and cb x KB x R x S weights.
constexpr size_t kDirectStageBytes = 48 * 1024;  // the dynamic shared memory a launch gets without opt-in

int direct_kb(int Kg) { return Kg <= 2 ? 2 : Kg <= 8 ? 8 : 16; }

// The launch geometry of the direct kernel; cb = 0 when one channel's stage alone exceeds
// kDirectStageBytes (a large kernel, stride or dilation), where only the GEMM can run.
DirectGeom direct_geometry(const ConvGeom& c, size_t elem_bytes) {
  DirectGeom d{};
  d.c = c;
  d.tiles_q = (c.Q + kDirectPatchW - 1) / kDirectPatchW;
  const int kb = direct_kb(c.Kg);
  d.k_chunks = (c.Kg + kb - 1) / kb;
  const int64_t th = int64_t(kDirectPatchH - 1) * c.sh + int64_t(c.R - 1) * c.dh + 1;
  const int64_t tw = int64_t(kDirectPatchW - 1) * c.sw + int64_t(c.S - 1) * c.dw + 1;
  const int64_t per_channel = (th * tw + int64_t(kb) * c.R * c.S) * int64_t(elem_bytes);
  if (per_channel > int64_t(kDirectStageBytes)) return d;  // cb = 0
  d.th = static_cast<int>(th), d.tw = static_cast<int>(tw);
  d.cb = static_cast<int>(std::min<int64_t>({c.Cg, 16, int64_t(kDirectStageBytes) / per_channel}));
  return d;
}

size_t direct_stage_bytes(const DirectGeom& d, size_t elem_bytes) {
  return size_t(d.cb) * (size_t(d.th) * d.tw + size_t(direct_kb(d.c.Kg)) * d.c.R * d.c.S) * elem_bytes;
}

int64_t& winograd_pass_bytes_ref() {
  static int64_t bytes = int64_t(1) << 30;
  return bytes;
}

// The automatic rule's second half (the kernel shape already qualifies): f32, at least 64
// channels in and out per group, one image's workspace within a pass.
bool winograd_pays(const ConvGeom& c, size_t elem_bytes) {
  return elem_bytes == sizeof(float) && c.Cg >= 64 && c.Kg >= 64 &&
         winograd_image_bytes(c, elem_bytes) <= winograd_pass_bytes();
}

// The conv whose forward is the data gradient of c at stride 1 and dilation 1: dy is its input,
// its filters are c's flipped and transposed (the adjoint filter transform), its pad R - 1 - pad.
ConvGeom adjoint_geometry(const ConvGeom& c) {
  ConvGeom a = c;
  a.C = c.K, a.H = c.P, a.W = c.Q;
  a.K = c.C, a.P = c.H, a.Q = c.W;
  a.Cg = c.Kg, a.Kg = c.Cg;
  a.ph = c.R - 1 - c.ph, a.pw = c.S - 1 - c.pw;
  return a;
}

ConvForwardPath forward_path(const ConvGeom& c, size_t elem_bytes) {
  const ConvForwardPath want = conv_forward_path();
  if (want == ConvForwardPath::gemm) return want;
  if (want == ConvForwardPath::winograd) {
    FCNLAB_CHECK(winograd_applies(c), "conv2d forward: Winograd F(2x2, 3x3) needs a 3x3 kernel at "
                 "stride 1 and dilation 1, got ", c.R, "x", c.S, " at stride ", c.sh, "x", c.sw,
                 " and dilation ", c.dh, "x", c.dw, " (FCNLAB_CONV_FORWARD=winograd); use gemm or auto");
    return want;
  }
  const bool fits = direct_geometry(c, elem_bytes).cb > 0;
  if (want == ConvForwardPath::direct) {
    FCNLAB_CHECK(fits, "conv2d forward: the direct kernel cannot stage a ", c.R, "x", c.S,
                 " kernel at stride ", c.sh, "x", c.sw, " and dilation ", c.dh, "x", c.dw,
                 " in ", kDirectStageBytes / 1024, " KiB of shared memory (FCNLAB_CONV_FORWARD=direct); ",
                 "use gemm or auto");
    return want;
  }
  const bool small = int64_t(c.Cg) * c.R * c.S <= 64 && c.Kg <= 64;
  if (small && fits) return ConvForwardPath::direct;
  if (winograd_applies(c) && winograd_pays(c, elem_bytes)) return ConvForwardPath::winograd;
  return ConvForwardPath::gemm;
}

// c is the convolution of dx's shape (as conv2d_backward_data receives it).
ConvBackwardDataPath backward_data_path(const ConvGeom& c, size_t elem_bytes) {
  const ConvBackwardDataPath want = conv_backward_data_path();
  if (want == ConvBackwardDataPath::gemm) return want;
  const bool applies = winograd_applies(c) && c.ph <= 2 && c.pw <= 2;
  if (want == ConvBackwardDataPath::winograd) {
    FCNLAB_CHECK(applies, "conv2d backward data: Winograd F(2x2, 3x3) needs a 3x3 kernel at stride 1, "
                 "dilation 1 and pad <= 2, got ", c.R, "x", c.S, " at stride ", c.sh, "x", c.sw,
                 ", dilation ", c.dh, "x", c.dw, " and pad ", c.ph, "x", c.pw,
                 " (FCNLAB_CONV_BACKWARD_DATA=winograd); use gemm or auto");
    return want;
  }
  return applies && winograd_pays(adjoint_geometry(c), elem_bytes) ? ConvBackwardDataPath::winograd
                                                                    : ConvBackwardDataPath::gemm;
}

ConvBackwardWeightPath backward_weight_path(const ConvGeom& c, size_t elem_bytes) {
  const ConvBackwardWeightPath want = conv_backward_weight_path();
  if (want == ConvBackwardWeightPath::gemm) return want;
  if (want == ConvBackwardWeightPath::winograd) {
    FCNLAB_CHECK(winograd_applies(c), "conv2d backward weight: Winograd F(3x3, 2x2) needs a 3x3 kernel at "
                 "stride 1 and dilation 1, got ", c.R, "x", c.S, " at stride ", c.sh, "x", c.sw,
                 " and dilation ", c.dh, "x", c.dw, " (FCNLAB_CONV_BACKWARD_WEIGHT=winograd); use gemm or auto");
    return want;
  }
  // Its GEMMs are Kg x Cg per position: with Cg < 128 half of every 128-wide tile would be zeros
  // and the 2.25x fewer multiplies would not pay for the transforms (conv1_2, conv2_1).
  return winograd_applies(c) && winograd_pays(c, elem_bytes) && c.Cg >= 128 ? ConvBackwardWeightPath::winograd
                                                                             : ConvBackwardWeightPath::gemm;
}

template <class T, int KB>
void launch_direct(const DirectGeom& d, const T* x, const T* w, const T* bias, T* y) {
  const ConvGeom& c = d.c;
  const int64_t tiles = int64_t((c.P + kDirectPatchH - 1) / kDirectPatchH) * d.tiles_q;
  const int64_t rows = int64_t(c.N) * d.k_chunks;
  FCNLAB_CHECK(tiles < (int64_t(1) << 31) && rows <= 65535 && c.G <= 65535,
               "conv2d direct: grid ", tiles, " x ", rows, " x ", c.G, " exceeds the launch limits");
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(rows), static_cast<unsigned>(c.G));
  const dim3 block(kDirectThreadsX, kDirectThreadsY);
  FCNLAB_LAUNCH_CHECKED((conv2d_direct_kernel<T, KB>), grid, block, direct_stage_bytes(d, sizeof(T)),
                        x, w, bias, y, d);
}

}  // namespace

int64_t winograd_pass_bytes() { return winograd_pass_bytes_ref(); }
void set_winograd_pass_bytes(int64_t bytes) {
  FCNLAB_CHECK(bytes > 0, "winograd pass bytes must be > 0, got ", bytes);
  winograd_pass_bytes_ref() = bytes;
}

ConvForwardPath conv2d_forward_path_for(const Shape& x, const Shape& w, const Conv2dOptions& o,
                                        DType dt) {
  return forward_path(geometry(x, w, output_shape(x, w, o), o), dtype_size(dt));
}

ConvBackwardDataPath conv2d_backward_data_path_for(const Shape& dx, const Shape& w,
                                                   const Conv2dOptions& o, DType dt) {
  return backward_data_path(geometry(dx, w, output_shape(dx, w, o), o), dtype_size(dt));
}

ConvBackwardWeightPath conv2d_backward_weight_path_for(const Shape& x, const Shape& w,
                                                       const Conv2dOptions& o, DType dt) {
  return backward_weight_path(geometry(x, w, output_shape(x, w, o), o), dtype_size(dt));
}

bool conv2d_backward_data_phased(const Conv2dOptions& o) {
  return o.dilation_h == 1 && o.dilation_w == 1 && (o.stride_h > 1 || o.stride_w > 1) &&
         int64_t(o.groups) * o.stride_h * o.stride_w <= 4096;
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o) {
  const ConvGeom c = geometry(x, w, y, o);
  if (c.N == 0 || c.K == 0 || c.P == 0 || c.Q == 0) return;
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const ConvForwardPath path = forward_path(c, sizeof(T));
    if (path == ConvForwardPath::winograd) {
      launch_winograd<T>(c, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr, y.data<T>());
      return;
    }
    if (path == ConvForwardPath::direct) {
      const DirectGeom d = direct_geometry(c, sizeof(T));
      const T* bias = b.defined() ? b.data<T>() : nullptr;
      const int kb = direct_kb(c.Kg);
      if (kb == 2) launch_direct<T, 2>(d, x.data<T>(), w.data<T>(), bias, y.data<T>());
      if (kb == 8) launch_direct<T, 8>(d, x.data<T>(), w.data<T>(), bias, y.data<T>());
      if (kb == 16) launch_direct<T, 16>(d, x.data<T>(), w.data<T>(), bias, y.data<T>());
      return;
    }
    const int crs = c.Cg * c.R * c.S;
    run_tiled_gemm<T>(c.G, c.Kg, int64_t(c.N) * c.P * c.Q, crs,
                      FwdWeightRows<T>{w.data<T>(), crs, c.Kg, rows_vec4(w.data<T>(), crs)},
                      FwdImageCols<T>{x.data<T>(), c},
                      FwdStore<T>{y.data<T>(), b.defined() ? b.data<T>() : nullptr, c});
  });
}

// Also conv_transpose2d's forward. A wide 3x3 at stride 1 takes Winograd (the adjoint filter
// transform; backward_data_path). With a stride and dilation 1 the phase-decomposed GEMM
// (conv2d.cuh) skips the taps no dy pixel reaches: (sh * sw) fewer multiply-adds, FCN-32s's
// upscore 1024x fewer. Dilated convs (and a phase count past the grid) take the plain gather.
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o) {
  const ConvGeom c = geometry(dx, w, dy, o);
  if (c.N == 0 || c.C == 0 || c.H == 0 || c.W == 0) return;
  const bool phased = conv2d_backward_data_phased(o);
  dispatch_floating(dy.dtype(), "conv2d_backward_data", [&](auto tag) {
    using T = decltype(tag);
    if (backward_data_path(c, sizeof(T)) == ConvBackwardDataPath::winograd) {
      launch_winograd<T, true>(adjoint_geometry(c), dy.data<T>(), w.data<T>(), nullptr, dx.data<T>());
      return;
    }
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
    if (c.K > 0 && c.Cg > 0 && c.N > 0 && c.P > 0 && c.Q > 0 &&
        backward_weight_path(c, sizeof(T)) == ConvBackwardWeightPath::winograd) {
      launch_winograd_weight<T>(c, x.data<T>(), dy.data<T>(), dw.data<T>());
      return;
    }
    const int crs = c.Cg * c.R * c.S;
    run_tiled_gemm<T>(c.G, c.Kg, crs, int64_t(c.N) * c.P * c.Q,
                      BwdWeightGradRows<T>{dy.data<T>(), c, rows_vec4(dy.data<T>(), int64_t(c.P) * c.Q)},
                      BwdWeightImageCols<T>{x.data<T>(), c, int64_t(c.N) * c.P * c.Q % 4 == 0},
                      BwdWeightStore<T>{dw.data<T>(), crs, c.Kg});
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
