// cuda/pending.cu — CUDA kernels not written yet. Each is a clear run-time error naming the op,
// never a silent fall back to the CPU. A kernel leaves this file when its .cu lands.
// (Empty now: every op of kernels/cuda/kernels.h has a hand-written kernel.)
#include "engine/error.h"
#include "kernels/cuda/kernels.h"

namespace fcnlab::kernels::cuda {

#define FCNLAB_PENDING(name) FCNLAB_FAIL(name ": no hand-written CUDA kernel yet (run this op on --device cpu)")

}  // namespace fcnlab::kernels::cuda
