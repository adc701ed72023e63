// toy_discs.h — a tiny, seeded segmentation task for smoke tests and the first demo:
// noisy gray images with a few bright or dark discs; the mask marks the bright discs only,
// so a model must learn intensity *and* shape, not just threshold the image.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::data {

struct ToyBatch {
  Tensor image;  // f32 (N, 1, S, S), roughly zero-mean
  Tensor mask;   // i32 (N, S, S), 1 inside a bright disc
};

// Batch `index` of the stream `seed`: the same (seed, index) always gives the same batch.
ToyBatch make_toy_discs(int64_t batch, int64_t size, uint64_t seed, uint64_t index);

}  // namespace fcnlab::data
