// ops/loss.h — channel softmax, losses for segmentation, and the classifier head's ops.
// Shapes: x (N, C, H, W) for segmentation, (N, C) for the classifier; the channel axis is dim 1
// (any trailing spatial dims are accepted the same way). Losses return a one-element tensor [1].
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace fcnlab {

enum class Reduction {
  mean,        // average over counted (non-ignored, weighted) pixels — PyTorch's default
  sum,         // plain sum
  batch_mean,  // sum / N: Caffe SoftmaxWithLoss with normalize: false (FCN's choice)
};

// Over the channel axis (dim 1) of (N, C) or (N, C, H, W). Stable: the channel max is
// subtracted before exp, so logits of 1000 give finite results.
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

// Channel c of (N, C, H, W) as (N, H, W) (e.g. the foreground probability); (N, C) -> (N).
// Backward scatters the gradient into channel c (zeros elsewhere).
Tensor select_channel(const Tensor& x, int64_t c);

struct CrossEntropyOptions {
  std::vector<double> class_weights;  // empty = all 1; else one finite weight >= 0 per class
  int ignore_index = -100;            // target value that contributes nothing (VOC uses 255)
  Reduction reduction = Reduction::mean;
};
// logits: (N, C, H, W) or (N, C); target: i32 (N, H, W) or (N) -> scalar [1].
// Fused with log_softmax (numerically stable). Per counted pixel: w[t] * (-log softmax(x)[t]).
//   mean:       sum / (sum of w[t] over counted pixels)  (PyTorch's weighted mean)
//   sum:        sum
//   batch_mean: sum / N                                   (Caffe normalize: false)
// When nothing is counted (every pixel ignore_index, or all counted weights 0) the mean is
// defined as 0 with a zero gradient — not NaN as in PyTorch — so a batch of fully ignored
// crops does not poison training.
// Errors: a target value outside [0, C) that is not ignore_index (the message names the value
// and its (n, h, w) position); target not i32; target shape != logits shape without dim 1;
// class_weights of a length other than C.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o = {});

struct DiceOptions {
  double smooth = 1.0;    // added to numerator and denominator (>= 0)
  bool per_image = true;  // mean of per-image Dice (true) or one Dice over the whole batch
};
// Soft Dice loss 1 - (2 sum(p t) + s) / (sum p + sum t + s); prob and target (N, H, W)
// (any shape whose dim 0 is the batch), target 0/1 of the same floating dtype. -> scalar [1].
// Differentiable in prob and in target. An image with sum p + sum t + s == 0 (both empty and
// smooth 0) counts as Dice 1 (perfect agreement) with zero gradient.
Tensor dice_loss(const Tensor& prob, const Tensor& target, const DiceOptions& o = {});

// 1 / (1 + exp(-x)), elementwise; the backward uses the output: dy * y * (1 - y).
Tensor sigmoid(const Tensor& x);
// Binary cross-entropy on logits, stable form max(x,0) - x t + log(1 + exp(-|x|)).
// target same shape and dtype; pos_weight scales the positive term:
//   l = -(pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))). -> scalar [1].
// mean divides by the element count, batch_mean by N = size(0). Differentiable in both inputs.
Tensor bce_with_logits(const Tensor& logits, const Tensor& target,
                       Reduction reduction = Reduction::mean, double pos_weight = 1.0);

// Index of the largest channel: (N, C, H, W) -> i32 (N, H, W); (N, C) -> i32 (N).
// Ties go to the lowest index. Not differentiable: the output never requires grad.
Tensor argmax_channels(const Tensor& x);

}  // namespace fcnlab
