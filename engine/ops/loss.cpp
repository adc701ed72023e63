// ops/loss.cpp — cross_entropy, dice_loss, bce_with_logits: checks, dispatch, backward rules.
// The kernels return double partial sums (a tiny f64 `stats` tensor); the loss value and the
// normaliser are formed here in double, so mean/sum/batch_mean differ only by a divisor.
#include <cmath>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/loss.h"
#include "kernels/cpu/loss.h"

namespace fcnlab {

namespace {

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::mean: return "mean";
    case Reduction::sum: return "sum";
    case Reduction::batch_mean: return "batch_mean";
  }
  return "?";
}

// A [1] tensor of dtype/device holding v.
Tensor scalar_like(double v, const Tensor& like) { return Tensor::full({1}, v, like.dtype(), like.device()); }

// dLoss/dloss as a host double (the incoming gradient of a scalar loss).
double scalar_grad(const Tensor& g) { return g.item(); }

// The loss divided by its normaliser; nothing counted (normaliser 0) gives 0, never NaN.
double safe_ratio(double total, double normaliser) { return normaliser != 0.0 ? total / normaliser : 0.0; }

// ---------------------------------------------------------------- cross-entropy

struct CrossEntropyNode final : Node {
  Tensor logits, target, weight;  // saved (detached); softmax is recomputed in backward
  int ignore_index = -100;
  double normaliser = 1.0;        // 0 when nothing was counted
  const char* name() const override { return "cross_entropy"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    const double scale = safe_ratio(scalar_grad(g), normaliser);
    FCNLAB_DISPATCH(dx.device(), cross_entropy_backward, logits, target, weight, ignore_index, scale, dx);
    return {dx};
  }
  void release_saved() override { logits = target = weight = Tensor(); }
};

void check_cross_entropy_args(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  FCNLAB_CHECK(logits.defined() && target.defined(), "cross_entropy: logits and target must be defined");
  FCNLAB_CHECK(logits.dim() >= 2, "cross_entropy: logits must be (N, C, H, W) or (N, C), got shape ",
               logits.shape().str());
  FCNLAB_CHECK(logits.size(1) >= 1, "cross_entropy: logits need at least one class, got shape ",
               logits.shape().str());
  FCNLAB_CHECK(is_floating(logits.dtype()), "cross_entropy: logits must be f32 or f64, got ",
               dtype_name(logits.dtype()));
  FCNLAB_CHECK(target.dtype() == DType::i32, "cross_entropy: target must be i32 class indices, got ",
               dtype_name(target.dtype()));
  std::vector<int64_t> expect = logits.shape().vec();
  expect.erase(expect.begin() + 1);
  FCNLAB_CHECK(target.shape() == Shape(expect), "cross_entropy: target must have shape ",
               Shape(expect).str(), " (logits ", logits.shape().str(), " without the class axis), got ",
               target.shape().str());
  FCNLAB_CHECK(target.device() == logits.device(), "cross_entropy: target on ", target.device().str(),
               ", logits on ", logits.device().str());
  const int64_t C = logits.size(1);
  FCNLAB_CHECK(o.class_weights.empty() || static_cast<int64_t>(o.class_weights.size()) == C,
               "cross_entropy: class_weights must have one entry per class (", C, "), got ",
               o.class_weights.size());
  for (size_t c = 0; c < o.class_weights.size(); ++c)
    FCNLAB_CHECK(std::isfinite(o.class_weights[c]) && o.class_weights[c] >= 0.0,
                 "cross_entropy: class_weights[", c, "] must be finite and >= 0, got ", o.class_weights[c]);
}

// ---------------------------------------------------------------- Dice

struct DiceNode final : Node {
  Tensor prob, target, stats;  // saved (detached); stats f64 (G, 3)
  double smooth = 1.0;
  const char* name() const override { return "dice_loss"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // loss = 1 - (1/G) sum_g D_g, so each D_g enters with -1/G.
    const double scale = -scalar_grad(g) / static_cast<double>(stats.size(0));
    Tensor dp, dt;
    if (needs_grad(0)) dp = Tensor::empty(prob.shape(), prob.dtype(), prob.device());
    if (needs_grad(1)) dt = Tensor::empty(target.shape(), target.dtype(), target.device());
    FCNLAB_DISPATCH(prob.device(), dice_backward, prob, target, stats, smooth, scale, dp, dt);
    return {dp, dt};
  }
  void release_saved() override { prob = target = stats = Tensor(); }
};

// ---------------------------------------------------------------- BCE with logits

struct BceWithLogitsNode final : Node {
  Tensor logits, target;  // saved (detached)
  double pos_weight = 1.0, normaliser = 1.0;
  const char* name() const override { return "bce_with_logits"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const double scale = safe_ratio(scalar_grad(g), normaliser);
    Tensor dx, dt;
    if (needs_grad(0)) dx = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    if (needs_grad(1)) dt = Tensor::empty(target.shape(), target.dtype(), target.device());
    FCNLAB_DISPATCH(logits.device(), bce_with_logits_backward, logits, target, pos_weight, scale, dx, dt);
    return {dx, dt};
  }
  void release_saved() override { logits = target = Tensor(); }
};

// Same shape, dtype, device; floating; at least 1-d (dim 0 = batch).
void check_pair(const Tensor& a, const Tensor& b, const char* op, const char* an, const char* bn) {
  FCNLAB_CHECK(a.defined() && b.defined(), op, ": ", an, " and ", bn, " must be defined");
  FCNLAB_CHECK(a.dim() >= 1, op, ": ", an, " must have a batch axis, got shape ", a.shape().str());
  FCNLAB_CHECK(is_floating(a.dtype()), op, ": ", an, " must be f32 or f64, got ", dtype_name(a.dtype()));
  FCNLAB_CHECK(a.shape() == b.shape(), op, ": ", bn, " must have the shape of ", an, " ",
               a.shape().str(), ", got ", b.shape().str());
  FCNLAB_CHECK(a.dtype() == b.dtype(), op, ": ", bn, " must have the dtype of ", an, " (",
               dtype_name(a.dtype()), "), got ", dtype_name(b.dtype()));
  FCNLAB_CHECK(a.device() == b.device(), op, ": ", bn, " on ", b.device().str(), ", ", an, " on ",
               a.device().str());
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  check_cross_entropy_args(logits, target, o);
  const int64_t C = logits.size(1);
  std::vector<double> w = o.class_weights.empty() ? std::vector<double>(static_cast<size_t>(C), 1.0)
                                                  : o.class_weights;
  Tensor weight = Tensor::from_vector<double>(w, {C}).to(logits.dtype()).to(logits.device());
  Tensor stats = Tensor::empty({2}, DType::f64, logits.device());
  FCNLAB_DISPATCH(logits.device(), cross_entropy_forward, logits, target, weight, o.ignore_index, stats);
  const std::vector<double> s = stats.to_vector();  // {sum w * nll, sum w}
  double normaliser = 1.0;
  switch (o.reduction) {
    case Reduction::mean: normaliser = s[1]; break;
    case Reduction::sum: normaliser = 1.0; break;
    case Reduction::batch_mean: normaliser = static_cast<double>(logits.size(0)); break;
  }
  Tensor out = scalar_like(safe_ratio(s[0], normaliser), logits);
  if (!any_requires_grad({&logits})) return out;
  auto node = std::make_shared<CrossEntropyNode>();
  node->logits = logits.detach();
  node->target = target.detach();
  node->weight = weight;
  node->ignore_index = o.ignore_index;
  node->normaliser = normaliser;
  return record(out, node, {logits});
}

Tensor dice_loss(const Tensor& prob, const Tensor& target, const DiceOptions& o) {
  check_pair(prob, target, "dice_loss", "prob", "target");
  FCNLAB_CHECK(std::isfinite(o.smooth) && o.smooth >= 0.0, "dice_loss: smooth must be finite and >= 0, got ",
               o.smooth);
  FCNLAB_CHECK(prob.size(0) >= 1, "dice_loss: empty batch (shape ", prob.shape().str(), ")");
  const int64_t groups = o.per_image ? prob.size(0) : 1;
  Tensor stats = Tensor::empty({groups, 3}, DType::f64, prob.device());
  // The backend writes the loss too (1 - mean Dice over groups), so on a GPU the forward is one
  // launch and never waits for the host.
  Tensor out = Tensor::empty({1}, prob.dtype(), prob.device());
  FCNLAB_DISPATCH(prob.device(), dice_forward, prob, target, o.smooth, stats, out);
  if (!any_requires_grad({&prob, &target})) return out;
  auto node = std::make_shared<DiceNode>();
  node->prob = prob.detach();
  node->target = target.detach();
  node->stats = stats;
  node->smooth = o.smooth;
  return record(out, node, {prob, target});
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction, double pos_weight) {
  check_pair(logits, target, "bce_with_logits", "logits", "target");
  FCNLAB_CHECK(std::isfinite(pos_weight) && pos_weight >= 0.0,
               "bce_with_logits: pos_weight must be finite and >= 0, got ", pos_weight);
  Tensor stats = Tensor::empty({1}, DType::f64, logits.device());
  FCNLAB_DISPATCH(logits.device(), bce_with_logits_forward, logits, target, pos_weight, stats);
  double normaliser = 1.0;
  switch (reduction) {
    case Reduction::mean: normaliser = static_cast<double>(logits.numel()); break;
    case Reduction::sum: normaliser = 1.0; break;
    case Reduction::batch_mean: normaliser = static_cast<double>(logits.size(0)); break;
  }
  FCNLAB_CHECK(normaliser > 0.0, "bce_with_logits: reduction ", reduction_name(reduction),
               " of an empty tensor (shape ", logits.shape().str(), ")");
  Tensor out = scalar_like(stats.item() / normaliser, logits);
  if (!any_requires_grad({&logits, &target})) return out;
  auto node = std::make_shared<BceWithLogitsNode>();
  node->logits = logits.detach();
  node->target = target.detach();
  node->pos_weight = pos_weight;
  node->normaliser = normaliser;
  return record(out, node, {logits, target});
}

}  // namespace fcnlab
