// cuda/pending.cu — CUDA kernels not written yet. Each is a clear run-time error naming the op,
// never a silent fall back to the CPU. A kernel leaves this file when its .cu lands.
#include "engine/error.h"
#include "kernels/cuda/kernels.h"

namespace fcnlab::kernels::cuda {

#define FCNLAB_PENDING(name) FCNLAB_FAIL(name ": no hand-written CUDA kernel yet (run this op on --device cpu)")

void max_pool2d_forward(const Tensor&, const MaxPool2dOptions&, Tensor&, Tensor&) { FCNLAB_PENDING("max_pool2d_forward"); }
void max_pool2d_backward(const Tensor&, const Tensor&, Tensor&) { FCNLAB_PENDING("max_pool2d_backward"); }
void dropout_apply(const Tensor&, double, uint64_t, uint64_t, Tensor&) { FCNLAB_PENDING("dropout_apply"); }
void concat_channels_copy(const Tensor&, int64_t, Tensor&) { FCNLAB_PENDING("concat_channels_copy"); }
void split_channels_copy(const Tensor&, int64_t, Tensor&) { FCNLAB_PENDING("split_channels_copy"); }
void crop2d_forward(const Tensor&, int64_t, int64_t, Tensor&) { FCNLAB_PENDING("crop2d_forward"); }
void crop2d_backward(const Tensor&, int64_t, int64_t, Tensor&) { FCNLAB_PENDING("crop2d_backward"); }
void lrn_forward(const Tensor&, int, double, double, double, Tensor&, Tensor&) { FCNLAB_PENDING("lrn_forward"); }
void lrn_backward(const Tensor&, const Tensor&, const Tensor&, int, double, double, Tensor&) { FCNLAB_PENDING("lrn_backward"); }
void softmax_forward(const Tensor&, Tensor&) { FCNLAB_PENDING("softmax_forward"); }
void log_softmax_forward(const Tensor&, Tensor&) { FCNLAB_PENDING("log_softmax_forward"); }
void softmax_backward(const Tensor&, const Tensor&, Tensor&) { FCNLAB_PENDING("softmax_backward"); }
void log_softmax_backward(const Tensor&, const Tensor&, Tensor&) { FCNLAB_PENDING("log_softmax_backward"); }
void select_channel_forward(const Tensor&, int64_t, Tensor&) { FCNLAB_PENDING("select_channel_forward"); }
void select_channel_backward(const Tensor&, int64_t, Tensor&) { FCNLAB_PENDING("select_channel_backward"); }
void argmax_channels(const Tensor&, Tensor&) { FCNLAB_PENDING("argmax_channels"); }
void sigmoid_forward(const Tensor&, Tensor&) { FCNLAB_PENDING("sigmoid_forward"); }
void sigmoid_backward(const Tensor&, const Tensor&, Tensor&) { FCNLAB_PENDING("sigmoid_backward"); }
void cross_entropy_forward(const Tensor&, const Tensor&, const Tensor&, int, Tensor&) { FCNLAB_PENDING("cross_entropy_forward"); }
void cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, int, double, Tensor&) { FCNLAB_PENDING("cross_entropy_backward"); }
void dice_forward(const Tensor&, const Tensor&, Tensor&) { FCNLAB_PENDING("dice_forward"); }
void dice_backward(const Tensor&, const Tensor&, const Tensor&, double, double, Tensor&, Tensor&) { FCNLAB_PENDING("dice_backward"); }
void bce_with_logits_forward(const Tensor&, const Tensor&, double, Tensor&) { FCNLAB_PENDING("bce_with_logits_forward"); }
void bce_with_logits_backward(const Tensor&, const Tensor&, double, double, Tensor&, Tensor&) { FCNLAB_PENDING("bce_with_logits_backward"); }
void sgd_update(Tensor&, const Tensor&, Tensor&, double, double, double, double, bool, bool) { FCNLAB_PENDING("sgd_update"); }
void adam_update(Tensor&, const Tensor&, Tensor&, Tensor&, double, double, double, double, double, bool, int64_t) { FCNLAB_PENDING("adam_update"); }

}  // namespace fcnlab::kernels::cuda
