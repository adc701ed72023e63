// event_timing.h — the timing protocol the ladder harnesses share: CUDA events around one call,
// the median of `reps` calls after a warm-up call, and a rung whose warm-up call takes over
// 0.25 s timed on that call alone (so naive rungs cannot eat gpu-check.sh's budget). `before(i)`
// runs ahead of call i outside the events (an L2 flush, or nothing).
#pragma once
#include <algorithm>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace fcnlab::bench {

template <class F, class Before>
double median_call_ms(F fn, int reps, cudaStream_t st, Before before) {
  cudaEvent_t e0, e1;
  FCNLAB_CUDA_CHECK(cudaEventCreate(&e0));
  FCNLAB_CUDA_CHECK(cudaEventCreate(&e1));
  auto once = [&](int i) {
    before(i);
    cudaEventRecord(e0, st);
    fn();
    cudaEventRecord(e1, st);
    FCNLAB_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    return double(ms);
  };
  const double first = once(0);
  std::vector<double> t;
  if (first > 250.0) {
    t.push_back(first);
  } else {
    for (int i = 0; i < reps; ++i) t.push_back(once(i + 1));
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace fcnlab::bench
