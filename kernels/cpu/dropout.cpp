// cpu/dropout.cpp — the Philox dropout mask applied elementwise (see dropout.h for the rule).
#include "kernels/cpu/dropout.h"

#include "engine/rng.h"

namespace fcnlab::kernels::cpu {

void dropout_apply(const Tensor& x, double p, uint64_t seed, uint64_t base, Tensor& out) {
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    // p == 1 drops everything (u < 1 always), so the survivor scale is never used.
    const T keep_scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const bool dropped =
          static_cast<double>(philox_uniform(seed, base + static_cast<uint64_t>(i))) < p;
      po[i] = dropped ? T(0) : px[i] * keep_scale;
    }
  });
}

}  // namespace fcnlab::kernels::cpu
