// cpu/loss.h — reference kernels for the losses: cross-entropy (fused log-softmax + NLL),
// soft Dice, binary cross-entropy on logits. Forward kernels write double-precision partial
// sums into a small f64 `stats` tensor; the op turns them into the loss (reduction, ratio)
// so the normaliser, which depends on the data (counted pixels), is known to the backward.
#pragma once
#include <string>
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// "(n=0, h=1, w=2)" for a target of shape (N, H, W); "(n=3)" for (N); generic otherwise.
// Shared by the CPU and CUDA cross-entropy so a bad target reads the same on both.
std::string target_position(const Shape& s, int64_t flat);

// logits: (N, C, ...) floating; target: i32 (N, ...); weight: (C) of the logits' dtype.
// stats: f64 [2] <- { sum over counted pixels of weight[t] * nll, sum of weight[t] }.
// A pixel counts when target != ignore_index. A target outside [0, C) that is not
// ignore_index throws fcnlab::Error naming the value and its (n, h, w) position.
void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int ignore_index, Tensor& stats);
// dlogits = scale * weight[t] * (softmax(logits) - onehot(t)) on counted pixels, 0 on ignored
// ones. scale = dLoss/dloss / normaliser (the caller folds in the reduction).
void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int ignore_index, double scale, Tensor& dlogits);

// prob, target: (G * M) elements seen as G groups (images, or 1 for the whole batch) of M.
// stats: f64 (G, 3) <- per group { sum p t, sum p, sum t }; loss: one element of prob's dtype
// on prob's device <- 1 - mean over groups of (2I + s) / (P + T + s) (1 for a group whose
// denominator is 0: both empty with s = 0 is perfect agreement). s = smooth.
void dice_forward(const Tensor& prob, const Tensor& target, double smooth, Tensor& stats, Tensor& loss);
// Per group: D = (2I + s) / (P + T + s); dD/dp_i = 2 t_i / den - (2I + s) / den^2 (and the
// same with p, t swapped for the target). d{prob,target} = scale * dD/d{p,t}; an undefined
// output tensor is skipped. A group with den == 0 (empty masks, s = 0) gets gradient 0.
void dice_backward(const Tensor& prob, const Tensor& target, const Tensor& stats, double smooth,
                   double scale, Tensor& dprob, Tensor& dtarget);

// Elementwise l = (1 - t) x + (1 + (pw - 1) t) softplus(-x)   (= pw t sp(-x) + (1 - t) sp(x)),
// softplus(z) = max(z, 0) + log1p(exp(-|z|)). stats: f64 [1] <- sum of l.
void bce_with_logits_forward(const Tensor& logits, const Tensor& target, double pos_weight,
                             Tensor& stats);
// dl/dx = (1 - t) sigmoid(x) - pw t (1 - sigmoid(x)); dl/dt = (pw - 1) softplus(-x) - x.
// Outputs scaled by `scale`; an undefined output tensor is skipped.
void bce_with_logits_backward(const Tensor& logits, const Tensor& target, double pos_weight,
                              double scale, Tensor& dlogits, Tensor& dtarget);

}  // namespace fcnlab::kernels::cpu
