// ops/conv.cpp — conv2d, conv_transpose2d, linear, matmul: shape checks, dispatch to the
// kernels, and the backward rules. A transposed convolution is the data gradient of the
// convolution with the same weight, so the two ops share their three kernels:
//   conv2d            forward = conv2d_forward,        dx = conv2d_backward_data
//   conv_transpose2d  forward = conv2d_backward_data,  dx = conv2d_forward
//   both              dw = conv2d_backward_weight(input of the conv, gradient of its output)
#include "engine/ops/conv.h"

#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/gemm.h"

namespace fcnlab {

int64_t conv_output_size(int64_t in, int k, int stride, int pad, int dilation) {
  FCNLAB_CHECK(stride >= 1 && dilation >= 1 && pad >= 0 && k >= 1, "conv_output_size: need kernel >= 1, ",
               "stride >= 1, dilation >= 1, pad >= 0; got kernel ", k, ", stride ", stride,
               ", dilation ", dilation, ", pad ", pad);
  const int64_t span = in + 2 * int64_t{pad} - int64_t{dilation} * (k - 1) - 1;
  if (span < 0) return 0;  // the dilated kernel does not fit in the padded input
  return span / stride + 1;
}

int64_t conv_transpose_output_size(int64_t in, int k, int stride, int pad, int dilation,
                                   int output_pad) {
  return (in - 1) * stride - 2 * int64_t{pad} + int64_t{dilation} * (k - 1) + output_pad + 1;
}

namespace {

// The conv2d view of a transposed convolution (whose input plays dy, whose output plays dx).
Conv2dOptions as_conv(const ConvTranspose2dOptions& o) {
  return {o.stride_h, o.stride_w, o.pad_h, o.pad_w, o.dilation_h, o.dilation_w, o.groups};
}

void check_conv_options(const Conv2dOptions& o, const char* op) {
  FCNLAB_CHECK(o.stride_h >= 1 && o.stride_w >= 1, op, ": stride must be >= 1, got (",
               o.stride_h, ", ", o.stride_w, ")");
  FCNLAB_CHECK(o.pad_h >= 0 && o.pad_w >= 0, op, ": padding must be >= 0, got (", o.pad_h, ", ",
               o.pad_w, ")");
  FCNLAB_CHECK(o.dilation_h >= 1 && o.dilation_w >= 1, op, ": dilation must be >= 1, got (",
               o.dilation_h, ", ", o.dilation_w, ")");
  FCNLAB_CHECK(o.groups >= 1, op, ": groups must be >= 1, got ", o.groups);
}

// x: (N, Cx, H, W); w: (Cw0, Cw1, R, S) where the channels of x must equal Cw0 (transposed)
// or Cw1 * groups (conv). Checks ranks, dtypes, devices, group divisibility and bias.
void check_conv_inputs(const Tensor& x, const Tensor& w, const Tensor& b, int groups,
                       bool transposed, const char* op) {
  FCNLAB_CHECK(x.defined() && w.defined(), op, ": input and weight must be defined");
  FCNLAB_CHECK(x.dim() == 4, op, ": input x must be 4-d (N, C, H, W), got ", x.shape().str());
  FCNLAB_CHECK(w.dim() == 4, op, ": weight must be 4-d ",
               transposed ? "(C_in, C_out/groups, R, S)" : "(K, C/groups, R, S)", ", got ",
               w.shape().str());
  check_same_device(x, w, op);
  FCNLAB_CHECK(is_floating(x.dtype()), op, ": expected f32 or f64 tensors, got ", dtype_name(x.dtype()));
  const int64_t C = x.size(1);
  FCNLAB_CHECK(C % groups == 0, op, ": groups (", groups, ") must divide the input channels (", C, ")");
  if (transposed) {
    FCNLAB_CHECK(w.size(0) == C, op, ": weight dim 0 (", w.size(0), ") must equal the input channels (",
                 C, "), weight ", w.shape().str(), ", input ", x.shape().str());
  } else {
    FCNLAB_CHECK(w.size(0) % groups == 0, op, ": groups (", groups,
                 ") must divide the output channels (weight dim 0 = ", w.size(0), ")");
    FCNLAB_CHECK(w.size(1) * groups == C, op, ": weight expects ", w.size(1) * groups,
                 " input channels (C/groups = ", w.size(1), ", groups ", groups, "), input has ", C,
                 " (input ", x.shape().str(), ", weight ", w.shape().str(), ")");
  }
  const int64_t K = transposed ? w.size(1) * groups : w.size(0);
  if (b.defined()) {
    check_same_device(x, b, op);
    FCNLAB_CHECK(b.dim() == 1 && b.size(0) == K, op, ": bias must be 1-d of size ", K, ", got ",
                 b.shape().str());
  }
}

struct Conv2dNode final : Node {
  Tensor x, w;  // saved (detached)
  Conv2dOptions o;
  const char* name() const override { return "conv2d"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    Tensor dx, dw, db;
    if (needs_grad(0)) {
      dx = Tensor::empty(x.shape(), x.dtype(), x.device());
      FCNLAB_DISPATCH(dy.device(), conv2d_backward_data, dy, w, dx, o);
    }
    if (needs_grad(1)) {
      dw = Tensor::empty(w.shape(), w.dtype(), w.device());
      FCNLAB_DISPATCH(dy.device(), conv2d_backward_weight, x, dy, dw, o);
    }
    if (needs_grad(2)) {
      db = Tensor::empty({dy.size(1)}, dy.dtype(), dy.device());
      FCNLAB_DISPATCH(dy.device(), conv_bias_backward, dy, db);
    }
    return {dx, dw, db};
  }
  void release_saved() override { x = w = Tensor(); }
};

struct ConvTranspose2dNode final : Node {
  Tensor x, w;  // saved (detached)
  Conv2dOptions o;  // the options of the conv2d this op is the data gradient of
  const char* name() const override { return "conv_transpose2d"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    Tensor dx, dw, db;
    if (needs_grad(0)) {  // the adjoint of the adjoint: an ordinary convolution of dy
      dx = Tensor::empty(x.shape(), x.dtype(), x.device());
      FCNLAB_DISPATCH(dy.device(), conv2d_forward, dy, w, Tensor(), dx, o);
    }
    if (needs_grad(1)) {  // the conv's input is dy, its output gradient is x
      dw = Tensor::empty(w.shape(), w.dtype(), w.device());
      FCNLAB_DISPATCH(dy.device(), conv2d_backward_weight, dy, x, dw, o);
    }
    if (needs_grad(2)) {
      db = Tensor::empty({dy.size(1)}, dy.dtype(), dy.device());
      FCNLAB_DISPATCH(dy.device(), conv_bias_backward, dy, db);
    }
    return {dx, dw, db};
  }
  void release_saved() override { x = w = Tensor(); }
};

// c = op(a) op(b); the gradient rules of matmul and linear are the same GEMM with transposes.
Tensor gemm_op(const Tensor& a, bool ta, const Tensor& b, bool tb) {
  const int64_t M = ta ? a.size(1) : a.size(0), N = tb ? b.size(0) : b.size(1);
  Tensor c = Tensor::empty({M, N}, a.dtype(), a.device());
  FCNLAB_DISPATCH(a.device(), gemm, a, ta, b, tb, 0.0, c);
  return c;
}

struct MatmulNode final : Node {
  Tensor a, b;  // saved (detached)
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_grad(0) ? gemm_op(g, false, b, true) : Tensor(),    // dA = G B^T
            needs_grad(1) ? gemm_op(a, true, g, false) : Tensor()};  // dB = A^T G
  }
  void release_saved() override { a = b = Tensor(); }
};

struct LinearNode final : Node {
  Tensor x, w;  // saved (detached)
  const char* name() const override { return "linear"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor db;
    if (needs_grad(2)) {
      db = Tensor::empty({g.size(1)}, g.dtype(), g.device());
      FCNLAB_DISPATCH(g.device(), conv_bias_backward, g, db);
    }
    return {needs_grad(0) ? gemm_op(g, false, w, false) : Tensor(),  // dx = G W   (N, in)
            needs_grad(1) ? gemm_op(g, true, x, false) : Tensor(),   // dW = G^T X (out, in)
            db};
  }
  void release_saved() override { x = w = Tensor(); }
};

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  check_conv_options(o, "conv2d");
  check_conv_inputs(x, w, b, o.groups, false, "conv2d");
  const int64_t P = conv_output_size(x.size(2), static_cast<int>(w.size(2)), o.stride_h, o.pad_h, o.dilation_h);
  const int64_t Q = conv_output_size(x.size(3), static_cast<int>(w.size(3)), o.stride_w, o.pad_w, o.dilation_w);
  FCNLAB_CHECK(P > 0 && Q > 0, "conv2d: output size would be ", P, "x", Q, " (must be positive): input ",
               x.shape().str(), ", kernel ", w.size(2), "x", w.size(3), ", stride (", o.stride_h, ", ",
               o.stride_w, "), pad (", o.pad_h, ", ", o.pad_w, "), dilation (", o.dilation_h, ", ",
               o.dilation_w, ")");
  Tensor y = Tensor::empty({x.size(0), w.size(0), P, Q}, x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), conv2d_forward, x, w, b, y, o);
  if (!any_requires_grad({&x, &w, &b})) return y;
  auto node = std::make_shared<Conv2dNode>();
  node->x = x.detach();
  node->w = w.detach();
  node->o = o;
  return record(y, node, {x, w, b});
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b,
                        const ConvTranspose2dOptions& o) {
  const Conv2dOptions co = as_conv(o);
  check_conv_options(co, "conv_transpose2d");
  check_conv_inputs(x, w, b, o.groups, true, "conv_transpose2d");
  FCNLAB_CHECK(o.output_pad_h >= 0 && o.output_pad_w >= 0 &&
                   (o.output_pad_h < o.stride_h || o.output_pad_h < o.dilation_h) &&
                   (o.output_pad_w < o.stride_w || o.output_pad_w < o.dilation_w),
               "conv_transpose2d: output_padding (", o.output_pad_h, ", ", o.output_pad_w,
               ") must be >= 0 and smaller than the stride or the dilation");
  const int64_t Ho = conv_transpose_output_size(x.size(2), static_cast<int>(w.size(2)), o.stride_h,
                                                o.pad_h, o.dilation_h, o.output_pad_h);
  const int64_t Wo = conv_transpose_output_size(x.size(3), static_cast<int>(w.size(3)), o.stride_w,
                                                o.pad_w, o.dilation_w, o.output_pad_w);
  FCNLAB_CHECK(Ho > 0 && Wo > 0, "conv_transpose2d: output size would be ", Ho, "x", Wo,
               " (must be positive): input ", x.shape().str(), ", kernel ", w.size(2), "x", w.size(3));
  Tensor y = Tensor::empty({x.size(0), w.size(1) * o.groups, Ho, Wo}, x.dtype(), x.device());
  FCNLAB_DISPATCH(x.device(), conv2d_backward_data, x, w, y, co);
  if (b.defined()) FCNLAB_DISPATCH(x.device(), add_channel_bias, y, b);
  if (!any_requires_grad({&x, &w, &b})) return y;
  auto node = std::make_shared<ConvTranspose2dNode>();
  node->x = x.detach();
  node->w = w.detach();
  node->o = co;
  return record(y, node, {x, w, b});
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  FCNLAB_CHECK(a.defined() && b.defined(), "matmul: both operands must be defined");
  FCNLAB_CHECK(a.dim() == 2 && b.dim() == 2, "matmul: operands must be 2-d (M, K) and (K, N), got ",
               a.shape().str(), " and ", b.shape().str());
  check_same_device(a, b, "matmul");
  FCNLAB_CHECK(is_floating(a.dtype()), "matmul: expected f32 or f64 tensors, got ", dtype_name(a.dtype()));
  FCNLAB_CHECK(a.size(1) == b.size(0), "matmul: inner sizes differ: a is ", a.shape().str(), ", b is ",
               b.shape().str(), " (a's columns must equal b's rows)");
  Tensor c = gemm_op(a, false, b, false);
  if (!any_requires_grad({&a, &b})) return c;
  auto node = std::make_shared<MatmulNode>();
  node->a = a.detach();
  node->b = b.detach();
  return record(c, node, {a, b});
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  FCNLAB_CHECK(x.defined() && w.defined(), "linear: input and weight must be defined");
  FCNLAB_CHECK(x.dim() == 2, "linear: input must be 2-d (N, in), got ", x.shape().str());
  FCNLAB_CHECK(w.dim() == 2, "linear: weight must be 2-d (out, in), got ", w.shape().str());
  check_same_device(x, w, "linear");
  FCNLAB_CHECK(is_floating(x.dtype()), "linear: expected f32 or f64 tensors, got ", dtype_name(x.dtype()));
  FCNLAB_CHECK(x.size(1) == w.size(1), "linear: input has ", x.size(1), " features, weight expects ",
               w.size(1), " (weight ", w.shape().str(), ")");
  if (b.defined()) {
    check_same_device(x, b, "linear");
    FCNLAB_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "linear: bias must be 1-d of size ", w.size(0),
                 ", got ", b.shape().str());
  }
  Tensor y = gemm_op(x, false, w, true);  // (N, in) x (in, out)
  if (b.defined()) FCNLAB_DISPATCH(x.device(), add_channel_bias, y, b);
  if (!any_requires_grad({&x, &w, &b})) return y;
  auto node = std::make_shared<LinearNode>();
  node->x = x.detach();
  node->w = w.detach();
  return record(y, node, {x, w, b});
}

}  // namespace fcnlab
