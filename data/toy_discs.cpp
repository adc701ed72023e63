// toy_discs.cpp — see toy_discs.h. Each image draws its discs and noise from its own Philox
// stream position (seed, index * batch + n), so batches are independent of call order.
#include "data/toy_discs.h"

#include <cmath>

#include "engine/rng.h"

namespace fcnlab::data {

ToyBatch make_toy_discs(int64_t batch, int64_t size, uint64_t seed, uint64_t index) {
  FCNLAB_CHECK(batch > 0 && size >= 8, "toy discs: batch must be > 0 and size >= 8, got ", batch,
               " and ", size);
  ToyBatch b{Tensor::zeros({batch, 1, size, size}), Tensor::zeros({batch, size, size}, DType::i32)};
  float* img = b.image.data<float>();
  int32_t* msk = b.mask.data<int32_t>();
  for (int64_t n = 0; n < batch; ++n) {
    // 2^20 stream positions per image is far more than one image uses.
    Generator g(seed);
    g.set_state(seed, (index * static_cast<uint64_t>(batch) + static_cast<uint64_t>(n)) << 20);
    float* im = img + n * size * size;
    int32_t* mk = msk + n * size * size;
    const int discs = 1 + static_cast<int>(g.next_below(3));
    for (int d = 0; d < discs; ++d) {
      const double r = size * (0.08 + 0.10 * g.next_uniform());
      const double cy = r + (size - 2 * r) * g.next_uniform();
      const double cx = r + (size - 2 * r) * g.next_uniform();
      const bool bright = g.next_uniform() < 0.6;
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x) {
          const double dy = y + 0.5 - cy, dx = x + 0.5 - cx;
          if (dy * dy + dx * dx <= r * r) {
            im[y * size + x] = bright ? 1.0f : -1.0f;
            mk[y * size + x] = bright ? 1 : 0;
          }
        }
    }
    for (int64_t i = 0; i < size * size; ++i) im[i] += static_cast<float>(0.3 * (2 * g.next_uniform() - 1));
  }
  return b;
}

}  // namespace fcnlab::data
