// check.h — the one validation helper every test uses: elementwise |a - b| <= atol + rtol*|b|,
// and on failure the first mismatches with their multi-index (N, C, H, W for 4-d tensors).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace fcnlab::test {

inline std::string index_of(const Shape& s, int64_t flat) {
  std::vector<int64_t> idx(static_cast<size_t>(s.ndim()));
  for (int d = s.ndim() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = s[d] ? flat % s[d] : 0;
    flat = s[d] ? flat / s[d] : 0;
  }
  std::ostringstream r;
  r << "(";
  for (size_t i = 0; i < idx.size(); ++i) r << (i ? "," : "") << idx[i];
  r << ")";
  return r.str();
}

// Returns "" when close, else a report of the first few mismatches.
inline std::string compare(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  std::ostringstream os;
  if (actual.shape() != expected.shape()) {
    os << "shape " << actual.shape().str() << " != expected " << expected.shape().str();
    return os.str();
  }
  std::vector<double> a = actual.to_vector(), e = expected.to_vector();
  int64_t bad = 0;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    double tol = atol + rtol * std::fabs(e[i]);
    double err = std::fabs(a[i] - e[i]);
    bool ok = err <= tol && std::isfinite(a[i]) == std::isfinite(e[i]);
    if (!ok) {
      if (bad < 5)
        os << "  at " << index_of(actual.shape(), static_cast<int64_t>(i)) << ": got " << a[i]
           << ", expected " << e[i] << " (|diff| " << err << " > tol " << tol << ")\n";
      ++bad;
      worst = std::max(worst, err);
    }
  }
  if (bad) os << "  " << bad << " of " << a.size() << " elements differ; worst |diff| " << worst;
  return bad ? os.str() : "";
}

}  // namespace fcnlab::test

#define CHECK_CLOSE(actual, expected, atol, rtol)                                      \
  do {                                                                                 \
    std::string fcnlab_report_ = ::fcnlab::test::compare((actual), (expected), (atol), (rtol)); \
    INFO(fcnlab_report_);                                                              \
    CHECK(fcnlab_report_.empty());                                                     \
  } while (0)

#define CHECK_EXACT(actual, expected) CHECK_CLOSE(actual, expected, 0.0, 0.0)
