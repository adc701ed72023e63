// ops/loss.h — channel softmax, losses for segmentation, and the classifier head's ops.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace fcnlab {

enum class Reduction {
  mean,        // average over counted (non-ignored, weighted) pixels — PyTorch's default
  sum,         // plain sum
  batch_mean,  // sum / N: Caffe SoftmaxWithLoss with normalize: false (FCN's choice)
};

// Over the channel axis (dim 1) of (N, C) or (N, C, H, W).
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

// Channel c of (N, C, H, W) as (N, H, W) (e.g. the foreground probability).
Tensor select_channel(const Tensor& x, int64_t c);

struct CrossEntropyOptions {
  std::vector<double> class_weights;  // empty = all 1
  int ignore_index = -100;            // target value that contributes nothing (VOC uses 255)
  Reduction reduction = Reduction::mean;
};
// logits: (N, C, H, W) or (N, C); target: i32 (N, H, W) or (N) -> scalar [1].
// Fused with log_softmax (numerically stable). Mean divides by the sum of the counted weights.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o = {});

struct DiceOptions {
  double smooth = 1.0;    // added to numerator and denominator
  bool per_image = true;  // mean of per-image Dice (true) or one Dice over the whole batch
};
// Soft Dice loss 1 - (2 sum(p t) + s) / (sum p + sum t + s); prob and target (N, H, W),
// target 0/1 of the same floating dtype. -> scalar [1].
Tensor dice_loss(const Tensor& prob, const Tensor& target, const DiceOptions& o = {});

Tensor sigmoid(const Tensor& x);
// Binary cross-entropy on logits, stable form max(x,0) - x t + log(1 + exp(-|x|)).
// target same shape and dtype; pos_weight scales the positive term. -> scalar [1].
Tensor bce_with_logits(const Tensor& logits, const Tensor& target,
                       Reduction reduction = Reduction::mean, double pos_weight = 1.0);

// Index of the largest channel: (N, C, H, W) -> i32 (N, H, W); (N, C) -> i32 (N). Not differentiable.
Tensor argmax_channels(const Tensor& x);

}  // namespace fcnlab
