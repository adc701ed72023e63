// simt_test.h — helpers for the SIMT layer's tests: a device buffer that copies in and out,
// and the schedules every schedule-sensitive test runs under.
#pragma once
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "kernels/cuda/portable.cuh"

namespace fcnlab::simt::test {

// A cudaMalloc'd array of T, filled from / read back into host vectors.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { REQUIRE(cudaMalloc(&p_, n * sizeof(T)) == cudaSuccess); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    REQUIRE(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  std::vector<T> read() const {
    std::vector<T> h(n_);
    REQUIRE(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

inline std::vector<Schedule> all_schedules() {
  return {Schedule::parse("inorder"), Schedule::parse("reverse"), Schedule::parse("random:1"),
          Schedule::parse("random:12345")};
}

}  // namespace fcnlab::simt::test
