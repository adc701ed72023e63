// cuda/kernels.h — the hand-written CUDA kernels the engine dispatches to, one block per op
// family. Each function has exactly the signature of its CPU reference in kernels/cpu/<family>.h
// (engine/dispatch.h calls kernels::cpu::NAME or kernels::cuda::NAME by the tensors' device),
// and is implemented in kernels/cuda/<family>.cu over device code in <family>.cuh.
// Tensors passed here are on the CUDA device, contiguous, with checked shapes and dtypes.
#pragma once
#include <cstdint>

#include "engine/ops/conv.h"
#include "engine/ops/pool.h"
#include "engine/tensor.h"
#include "kernels/cuda/runtime.h"

namespace fcnlab::kernels::cuda {

// ---- elementwise.cu: pointwise ops and reductions
void add(const Tensor& a, const Tensor& b, Tensor& out);
void axpby(double alpha, const Tensor& a, double beta, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void scale_shift(const Tensor& x, double alpha, double beta, Tensor& out);
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void sum_all(const Tensor& x, Tensor& out);
void sum_of_squares_into(const Tensor& x, double& result);

// ---- gemm.cu: tiled SGEMM (linear, matmul, 1x1 convolutions)
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c);

// ---- conv2d.cu: implicit-GEMM convolution and its gradients; a direct forward kernel for
// small reductions; Winograd for the forward and both gradients of wide 3x3 layers
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o);
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o);
void conv_bias_backward(const Tensor& dy, Tensor& db);
void add_channel_bias(Tensor& y, const Tensor& b);
// The kernel conv2d_forward runs for x (N, C, H, W), w (K, C/G, R, S) in dtype dt under the
// current conv_forward_path() (never automatic). Automatic takes the direct kernel when the
// reduction is small, Cg*R*S <= 64 with Kg <= 64 (conv1_1 on RGB or grey input, a 1x1 score layer
// over <= 64 channels), and its stage fits; else Winograd F(2x2, 3x3) for a 3x3 kernel at stride 1
// and dilation 1 with Cg >= 64 and Kg >= 64 in f32 when one image's workspace fits a pass (1 GiB;
// the VGG16 convs from conv1_2 on at 500x500); else the implicit GEMM. Forcing direct on a shape
// whose stage cannot fit, or winograd on a kernel that is not 3x3 / stride 1 / dilation 1, is an Error.
ConvForwardPath conv2d_forward_path_for(const Shape& x, const Shape& w, const Conv2dOptions& o,
                                        DType dt);
// The kernel conv2d_backward_data runs for dx (N, C, H, W), w (K, C/G, R, S) under the current
// conv_backward_data_path(): automatic takes Winograd (dy correlated with the flipped, transposed
// filters at pad 2 - pad) for a 3x3 kernel at stride 1, dilation 1 and pad <= 2 with Cg >= 64 and
// Kg >= 64 in f32 when one image's workspace fits a pass; otherwise the implicit GEMM (phased or
// gather, below). Forcing winograd on a shape it cannot run is an Error.
ConvBackwardDataPath conv2d_backward_data_path_for(const Shape& dx, const Shape& w,
                                                   const Conv2dOptions& o, DType dt);
// The kernel conv2d_backward_weight runs for x (N, C, H, W), w (K, C/G, R, S) under the current
// conv_backward_weight_path(): automatic takes Winograd F(3x3, 2x2) by the forward's rule (3x3,
// stride 1, dilation 1, Kg >= 64, f32, one image's workspace within a pass) with Cg >= 128 (its
// GEMMs are Kg x Cg: fewer columns would leave half of each 128-wide tile idle), otherwise the
// implicit GEMM. Forcing winograd on another kernel shape is an Error.
ConvBackwardWeightPath conv2d_backward_weight_path_for(const Shape& x, const Shape& w,
                                                       const Conv2dOptions& o, DType dt);
// True when conv2d_backward_data (also conv_transpose2d's forward) runs the phase-decomposed
// GEMM for these options: a stride > 1 with dilation 1 and groups x stride_h x stride_w <= 4096;
// otherwise it gathers every tap (the plain implicit GEMM).
bool conv2d_backward_data_phased(const Conv2dOptions& o);

// ---- pool.cu: max pooling with argmax
void max_pool2d_forward(const Tensor& x, const MaxPool2dOptions& o, Tensor& y, Tensor& argmax);
void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, const MaxPool2dOptions& o,
                         Tensor& dx);

// ---- dropout.cu: the same Philox rule as kernels/cpu/dropout.h
void dropout_apply(const Tensor& x, double p, uint64_t seed, uint64_t base, Tensor& out);

// ---- shape_ops.cu: channel concat/split, crop
void concat_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst);
void split_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst);
void crop2d_forward(const Tensor& x, int64_t off_h, int64_t off_w, Tensor& y);
void crop2d_backward(const Tensor& dy, int64_t off_h, int64_t off_w, Tensor& dx);

// ---- lrn.cu: local response normalization across channels
void lrn_forward(const Tensor& x, int local_size, double alpha, double beta, double k, Tensor& y,
                 Tensor& scale);
void lrn_backward(const Tensor& x, const Tensor& scale, const Tensor& dy, int local_size,
                  double alpha, double beta, Tensor& dx);

// ---- softmax.cu: channel softmax family
void softmax_forward(const Tensor& x, Tensor& y);
void log_softmax_forward(const Tensor& x, Tensor& y);
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void select_channel_forward(const Tensor& x, int64_t c, Tensor& y);
void select_channel_backward(const Tensor& dy, int64_t c, Tensor& dx);
void argmax_channels(const Tensor& x, Tensor& out);
void sigmoid_forward(const Tensor& x, Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx);

// ---- loss.cu: fused cross-entropy, Dice, BCE (statistics reduced on the device)
void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int ignore_index, Tensor& stats);
void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int ignore_index, double scale, Tensor& dlogits);
// As kernels/cpu/loss.h, in one launch and without a host round trip.
void dice_forward(const Tensor& prob, const Tensor& target, double smooth, Tensor& stats, Tensor& loss);
void dice_backward(const Tensor& prob, const Tensor& target, const Tensor& stats, double smooth,
                   double scale, Tensor& dprob, Tensor& dtarget);
void bce_with_logits_forward(const Tensor& logits, const Tensor& target, double pos_weight,
                             Tensor& stats);
void bce_with_logits_backward(const Tensor& logits, const Tensor& target, double pos_weight,
                              double scale, Tensor& dlogits, Tensor& dtarget);

// ---- optim.cu: optimizer updates (kernels/cpu/optim.h)
void sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, double lr, double weight_decay,
                double momentum, double dampening, bool nesterov, bool first_step);
void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step);

}  // namespace fcnlab::kernels::cuda
