// gradcheck.h — the one gradient checker: compares autograd's gradients with central finite
// differences, in double precision, for every input that requires grad.
//
// f maps the inputs to an output tensor; the checked scalar is L = sum(f(x) * R) with a fixed
// random R, so every output element's gradient is exercised, not just their sum.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "tests/common/check.h"

namespace fcnlab::test {

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 1234;
};

// Returns "" on success, else which input and which elements disagree.
inline std::string gradcheck(const TensorFn& f, std::vector<Tensor> inputs,
                             GradcheckOptions opt = {}) {
  for (auto& t : inputs)
    if (t.defined() && t.requires_grad()) {
      FCNLAB_CHECK(t.dtype() == DType::f64, "gradcheck: inputs must be f64");
      t.zero_grad();
    }
  Tensor y0;
  {
    NoGrad ng;
    y0 = f(inputs);
  }
  Generator gen(opt.seed);
  Tensor r = Tensor::uniform(y0.shape(), -1.0, 1.0, gen, DType::f64, y0.device());
  auto loss_value = [&]() {
    NoGrad ng;
    Tensor y = f(inputs);
    std::vector<double> yv = y.to_vector(), rv = r.to_vector();
    double s = 0;
    for (size_t i = 0; i < yv.size(); ++i) s += yv[i] * rv[i];
    return s;
  };
  // Analytic.
  Tensor y = f(inputs);
  FCNLAB_CHECK(y.requires_grad(), "gradcheck: output does not require grad");
  y.backward(r);
  std::ostringstream report;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (!analytic.defined()) analytic = Tensor::zeros(x.shape(), DType::f64, x.device());
    Tensor numeric = Tensor::zeros(x.shape(), DType::f64);
    Tensor xc = x;  // shares storage with the input: perturb in place
    for (int64_t i = 0; i < x.numel(); ++i) {
      double orig = xc.flat(i);
      xc.set_flat(i, orig + opt.eps);
      double lp = loss_value();
      xc.set_flat(i, orig - opt.eps);
      double lm = loss_value();
      xc.set_flat(i, orig);
      numeric.set_flat(i, (lp - lm) / (2 * opt.eps));
    }
    std::string diff = compare(analytic, numeric, opt.atol, opt.rtol);
    if (!diff.empty()) report << "input " << k << " (shape " << x.shape().str() << "):\n" << diff << "\n";
  }
  return report.str();
}

// A leaf f64 tensor with values uniform in [lo, hi), requiring grad.
inline Tensor rand_leaf(const Shape& s, Generator& gen, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::uniform(s, lo, hi, gen, DType::f64);
  t.set_requires_grad(true);
  return t;
}

}  // namespace fcnlab::test

#define CHECK_GRADCHECK(...)                                     \
  do {                                                           \
    std::string fcnlab_gc_ = ::fcnlab::test::gradcheck(__VA_ARGS__); \
    INFO(fcnlab_gc_);                                            \
    CHECK(fcnlab_gc_.empty());                                   \
  } while (0)
