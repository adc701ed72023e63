// cuda/pending.cu — CUDA kernels not written yet. Each is a clear run-time error naming the op,
// never a silent fall back to the CPU. A kernel leaves this file when its .cu lands.
#include "engine/error.h"
#include "kernels/cuda/kernels.h"

namespace fcnlab::kernels::cuda {

#define FCNLAB_PENDING(name) FCNLAB_FAIL(name ": no hand-written CUDA kernel yet (run this op on --device cpu)")

void sgd_update(Tensor&, const Tensor&, Tensor&, double, double, double, double, bool, bool) { FCNLAB_PENDING("sgd_update"); }
void adam_update(Tensor&, const Tensor&, Tensor&, Tensor&, double, double, double, double, double, bool, int64_t) { FCNLAB_PENDING("adam_update"); }

}  // namespace fcnlab::kernels::cuda
