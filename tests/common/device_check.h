// device_check.h — the one harness that checks a CUDA kernel against the CPU reference:
// runs the same op on CPU tensors and on CUDA copies of them, then compares the outputs and
// the gradients of every input that requires grad (backward seeded with the same random R).
#pragma once
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "tests/common/check.h"
#include "tests/common/gradcheck.h"

namespace fcnlab::test {

struct DeviceCheckOptions {
  double atol = 1e-5;
  double rtol = 1e-5;
  bool grads = true;  // also compare input gradients
  uint64_t seed = 99;
};

inline std::string compare_on_devices(const TensorFn& f, const std::vector<Tensor>& cpu_inputs,
                                      DeviceCheckOptions opt = {}) {
  std::vector<Tensor> a, b;
  for (const Tensor& t : cpu_inputs) {
    if (!t.defined()) { a.emplace_back(); b.emplace_back(); continue; }
    Tensor ca = t.clone(), cb = t.to(Device::cuda());
    if (t.requires_grad() && opt.grads) { ca.set_requires_grad(true); cb.set_requires_grad(true); }
    a.push_back(ca);
    b.push_back(cb);
  }
  Tensor ya = f(a), yb = f(b);
  std::ostringstream report;
  if (yb.device() != Device::cuda()) report << "output is on " << yb.device().str() << ", not cuda\n";
  std::string d = compare(yb.to(Device::cpu()), ya, opt.atol, opt.rtol);
  if (!d.empty()) report << "output:\n" << d << "\n";
  if (opt.grads && ya.requires_grad()) {
    Generator gen(opt.seed);
    Tensor r = Tensor::uniform(ya.shape(), -1, 1, gen, ya.dtype());
    ya.backward(r);
    yb.backward(r.to(Device::cuda()));
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].defined() || !a[i].requires_grad()) continue;
      Tensor ga = a[i].grad(), gb = b[i].grad();
      if (!ga.defined() || !gb.defined()) {
        if (ga.defined() != gb.defined()) report << "input " << i << ": gradient on one device only\n";
        continue;
      }
      std::string dg = compare(gb.to(Device::cpu()), ga, opt.atol, opt.rtol);
      if (!dg.empty()) report << "gradient of input " << i << ":\n" << dg << "\n";
    }
  }
  return report.str();
}

}  // namespace fcnlab::test

#define CHECK_SAME_ON_DEVICES(...)                                            \
  do {                                                                        \
    std::string fcnlab_dc_ = ::fcnlab::test::compare_on_devices(__VA_ARGS__); \
    INFO(fcnlab_dc_);                                                         \
    CHECK(fcnlab_dc_.empty());                                                \
  } while (0)
