// cudnn/baseline.h — cuDNN/cuBLAS versions of the ops that have a library equivalent, the
// baseline the hand-written kernels are compared against (tests: agreement; bench: speed).
// Same signatures as kernels/cuda/kernels.h. Compiled only in FCNLAB_GPU=cuda builds where
// cuDNN was found (FCNLAB_WITH_CUDNN); chosen at run time by kernels::cuda::kernel_source().
// Precision: fp32 runs with TF32 OFF (cuDNN CUDNN_FMA_MATH, cuBLAS CUBLAS_COMPUTE_32F) unless
// set_tf32(true) or FCNLAB_TF32=1; f64 runs in double. One cuDNN and one cuBLAS handle, both on
// fcnlab's stream; one workspace grown with cudaMalloc (never per call once large enough).
#pragma once
#include <string>

#include "engine/ops/conv.h"
#include "engine/tensor.h"

namespace fcnlab::kernels::cudnn {

// "cuDNN 9.x.y, cuBLAS 12.x" — for benchmark and test reports.
std::string version_string();
// TF32 for fp32 convolutions and GEMMs: off by default (FCNLAB_TF32=1 turns it on).
bool tf32_enabled();
void set_tf32(bool on);

// x (N, C, H, W), w (K, C/groups, R, S), b (K) or undefined, y (N, K, P, Q). Overwrites y.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o);
// dx (N, C, H, W) from dy (N, K, P, Q): also the forward of conv_transpose2d. Overwrites dx.
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o);
// dw (K, C/groups, R, S). Overwrites dw.
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o);

// Softmax over dim 1 of an (N, C, ...) tensor (CUDNN_SOFTMAX_MODE_CHANNEL).
void softmax_forward(const Tensor& x, Tensor& y);
void log_softmax_forward(const Tensor& x, Tensor& y);
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx);

// c = op(a) * op(b) + beta * c on row-major 2-d tensors (cuBLAS, column-major trick).
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c);

}  // namespace fcnlab::kernels::cudnn
