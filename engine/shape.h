// shape.h — tensor sizes, up to 5 dimensions, row-major (NCHW) and always contiguous.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/error.h"

namespace fcnlab {

class Shape {
 public:
  static constexpr int kMaxDims = 5;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return d_[static_cast<size_t>(norm(i))]; }
  int64_t& operator[](int i) { return d_[static_cast<size_t>(norm(i))]; }

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim_; ++i) n *= d_[static_cast<size_t>(i)];
    return n;
  }

  std::vector<int64_t> vec() const { return {d_.begin(), d_.begin() + ndim_}; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + ndim_; }

  bool operator==(const Shape& o) const {
    if (ndim_ != o.ndim_) return false;
    for (int i = 0; i < ndim_; ++i)
      if (d_[static_cast<size_t>(i)] != o.d_[static_cast<size_t>(i)]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "[1, 3, 224, 224]"
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < ndim_; ++i) {
      if (i) s += ", ";
      s += std::to_string(d_[static_cast<size_t>(i)]);
    }
    return s + "]";
  }

 private:
  template <class It>
  void assign(It b, It e) {
    ndim_ = 0;
    for (It it = b; it != e; ++it) {
      FCNLAB_CHECK(ndim_ < kMaxDims, "shape: at most ", kMaxDims, " dimensions are supported");
      FCNLAB_CHECK(*it >= 0, "shape: negative size ", *it);
      d_[static_cast<size_t>(ndim_++)] = *it;
    }
  }
  int norm(int i) const {
    int j = i < 0 ? i + ndim_ : i;
    FCNLAB_CHECK(j >= 0 && j < ndim_, "shape ", str(), ": dimension ", i, " out of range");
    return j;
  }

  std::array<int64_t, kMaxDims> d_{};
  int ndim_ = 0;
};

}  // namespace fcnlab
