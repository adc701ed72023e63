// cpu/dropout.h — reference kernel for inverted dropout with a counter-based (Philox) mask.
//
// The mask rule, shared by every backend (a CUDA kernel must produce the very same mask):
//   base = gen.reserve(numel) is taken once per dropout call by the engine op;
//   element i (flat, row-major index of the tensor) is DROPPED when
//       philox_uniform(seed, base + i) < p        (engine/rng.h; the float is widened to double
//                                                  and compared with the double p, exactly)
//   i.e. when (philox_word(seed, base + i) >> 8) < ceil(p * 2^24) in integers;
//   a kept element is multiplied by 1 / (1 - p).
// Nothing is stored: backward regenerates the mask from (seed, base), so it is the same mask.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// out[i] = dropped(i) ? 0 : x[i] / (1 - p), with dropped(i) as above; 0 <= p <= 1 (p == 1:
// all zeros, no 0 * inf). Used for the forward (x) and for the backward (x = dy): both are
// the same linear map. out may alias x.
void dropout_apply(const Tensor& x, double p, uint64_t seed, uint64_t base, Tensor& out);

}  // namespace fcnlab::kernels::cpu
