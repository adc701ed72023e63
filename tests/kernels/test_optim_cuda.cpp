// CUDA fused optimizer updates against the CPU reference kernels (kernels/cpu/optim.h):
// SGD plain, with momentum, dampening, Nesterov and weight decay; Adam and AdamW with and
// without weight decay; several steps, so the state (momentum buffers, moments) carries over.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "kernels/cpu/optim.h"
#include "kernels/cuda/kernels.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {
struct State {
  Tensor p, m, v;
};
State make_state(int64_t n, DType dt, Device dev, uint64_t seed) {
  Generator g(seed);
  State s{Tensor::uniform({n}, -1, 1, g, dt), Tensor::zeros({n}, dt), Tensor::zeros({n}, dt)};
  return {s.p.to(dev), s.m.to(dev), s.v.to(dev)};
}
// f32 tolerance: the GPU may contract a*b + c into one fma (rounded once), the CPU does not.
double tol(DType dt) { return dt == DType::f32 ? 1e-6 : 1e-14; }
}  // namespace

TEST_CASE("cuda sgd_update matches the CPU over several steps, every option") {
  struct Cfg { double lr, wd, mu, damp; bool nesterov; };
  const Cfg cfgs[] = {{0.1, 0, 0, 0, false}, {0.1, 1e-2, 0.9, 0, false}, {0.05, 0, 0.9, 0.3, false},
                      {0.05, 5e-4, 0.9, 0, true}};
  for (DType dt : {DType::f32, DType::f64})
    for (const Cfg& c : cfgs) {
      const int64_t n = 517;
      State a = make_state(n, dt, Device::cpu(), 1), b = make_state(n, dt, Device::cuda(), 1);
      for (int step = 0; step < 3; ++step) {
        Generator g(static_cast<uint64_t>(10 + step));
        Tensor grad = Tensor::uniform({n}, -1, 1, g, dt);
        Tensor grad_d = grad.to(Device::cuda());
        Tensor buf_a = c.mu != 0 ? a.m : Tensor(), buf_b = c.mu != 0 ? b.m : Tensor();
        kernels::cpu::sgd_update(a.p, grad, buf_a, c.lr, c.wd, c.mu, c.damp, c.nesterov, step == 0);
        kernels::cuda::sgd_update(b.p, grad_d, buf_b, c.lr, c.wd, c.mu, c.damp, c.nesterov, step == 0);
      }
      CHECK_CLOSE(b.p.to(Device::cpu()), a.p, tol(dt), tol(dt));
      if (c.mu != 0) CHECK_CLOSE(b.m.to(Device::cpu()), a.m, tol(dt), tol(dt));
    }
}

TEST_CASE("cuda adam_update (Adam and AdamW) matches the CPU over several steps") {
  for (DType dt : {DType::f32, DType::f64})
    for (bool decoupled : {false, true})
      for (double wd : {0.0, 0.01}) {
        const int64_t n = 300;
        State a = make_state(n, dt, Device::cpu(), 2), b = make_state(n, dt, Device::cuda(), 2);
        for (int64_t step = 1; step <= 3; ++step) {
          Generator g(static_cast<uint64_t>(20 + step));
          Tensor grad = Tensor::uniform({n}, -1, 1, g, dt);
          Tensor grad_d = grad.to(Device::cuda());
          kernels::cpu::adam_update(a.p, grad, a.m, a.v, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, step);
          kernels::cuda::adam_update(b.p, grad_d, b.m, b.v, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, step);
        }
        CHECK_CLOSE(b.p.to(Device::cpu()), a.p, tol(dt), tol(dt));
        CHECK_CLOSE(b.m.to(Device::cpu()), a.m, tol(dt), tol(dt));
        CHECK_CLOSE(b.v.to(Device::cpu()), a.v, tol(dt), tol(dt));
      }
}
