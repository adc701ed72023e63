// Optimizers against hand-computed updates (two steps each), per-parameter multipliers,
// frozen parameters, checkpoints that resume exactly, and gradient clipping.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/optim/adam.h"
#include "engine/optim/clip.h"
#include "engine/optim/sgd.h"
#include "engine/ops/elementwise.h"
#include "tests/common/check.h"

using namespace fcnlab;

namespace {

Tensor vec(std::vector<double> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor::from_vector<double>(v, {n});
}

// A leaf parameter with values v.
ParamInfo param(const std::string& name, std::vector<double> v, double lr_mult = 1,
                double decay_mult = 1) {
  return {name, vec(std::move(v)).set_requires_grad(), lr_mult, decay_mult};
}

void set_grad(ParamInfo& p, std::vector<double> g) { p.tensor.set_grad(vec(std::move(g))); }

// Runs two steps with gradients g1 then g2 on a single parameter starting at p0.
template <class Opt, class Options>
std::pair<double, double> two_steps(double p0, double g1, double g2, const Options& o) {
  ParamInfo p = param("w", {p0});
  Opt opt(std::vector<ParamInfo>{p}, o);
  set_grad(p, {g1});
  opt.step();
  double after1 = p.tensor.item();
  set_grad(p, {g2});
  opt.step();
  return {after1, p.tensor.item()};
}

constexpr double kTol = 1e-15;

}  // namespace

TEST_CASE("SGD plain: p -= lr * g") {
  SgdOptions o;
  o.lr = 0.1;
  auto [p1, p2] = two_steps<SGD>(1.0, 0.5, -1.0, o);
  CHECK(p1 == doctest::Approx(0.95).epsilon(kTol));
  CHECK(p2 == doctest::Approx(1.05).epsilon(kTol));
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient") {
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  auto [p1, p2] = two_steps<SGD>(1.0, 0.5, -1.0, o);
  // buf1 = 0.5, p1 = 1 - 0.05; buf2 = 0.9*0.5 - 1 = -0.55, p2 = 0.95 + 0.055
  CHECK(p1 == doctest::Approx(0.95).epsilon(kTol));
  CHECK(p2 == doctest::Approx(1.005).epsilon(kTol));
  o.dampening = 0.5;  // buf2 = 0.45 + 0.5*(-1) = -0.05, p2 = 0.95 + 0.005
  auto [q1, q2] = two_steps<SGD>(1.0, 0.5, -1.0, o);
  CHECK(q1 == doctest::Approx(0.95).epsilon(kTol));
  CHECK(q2 == doctest::Approx(0.955).epsilon(kTol));
}

TEST_CASE("SGD nesterov: d = g + momentum * buf") {
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.nesterov = true;
  auto [p1, p2] = two_steps<SGD>(1.0, 0.5, -1.0, o);
  // buf1 = 0.5, d1 = 0.5 + 0.45 = 0.95, p1 = 0.905;
  // buf2 = 0.45 - 1 = -0.55, d2 = -1 - 0.495 = -1.495, p2 = 0.905 + 0.1495
  CHECK(p1 == doctest::Approx(0.905).epsilon(kTol));
  CHECK(p2 == doctest::Approx(1.0545).epsilon(kTol));
  o.dampening = 0.1;
  CHECK_THROWS_WITH_AS(two_steps<SGD>(1.0, 0.5, -1.0, o),
                       doctest::Contains("nesterov needs momentum > 0 and dampening 0"), Error);
}

TEST_CASE("SGD weight decay adds wd * p to the gradient") {
  SgdOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.1;
  auto [p1, p2] = two_steps<SGD>(1.0, 0.5, -1.0, o);
  // d1 = 0.5 + 0.1 = 0.6 -> 0.94; d2 = -1 + 0.094 = -0.906 -> 1.0306
  CHECK(p1 == doctest::Approx(0.94).epsilon(kTol));
  CHECK(p2 == doctest::Approx(1.0306).epsilon(kTol));
}

TEST_CASE("SGD honours lr_mult 2 / decay_mult 0 for biases, lr factor and group lrs") {
  ParamInfo w = param("conv.weight", {1.0, 2.0});
  ParamInfo b = param("conv.bias", {1.0}, 2.0, 0.0);
  SgdOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.1;
  SGD opt(std::vector<ParamInfo>{w, b}, o);
  CHECK(opt.effective_lr(0, 1) == doctest::Approx(0.2));
  set_grad(w, {0.5, 0.0});
  set_grad(b, {0.5});
  opt.step();
  // w: d = g + 0.1 p -> [0.6, 0.2] -> [0.94, 1.98]; b: lr 0.2, no decay -> 1 - 0.1
  CHECK_CLOSE(w.tensor, vec({0.94, 1.98}), kTol, kTol);
  CHECK_CLOSE(b.tensor, vec({0.9}), kTol, kTol);
  opt.set_lr_factor(0.5);  // a schedule halves every lr
  set_grad(w, {-1.0, 0.0});
  set_grad(b, {-1.0});
  opt.step();
  // w: lr 0.05, d = [-1 + 0.094, 0.198] -> [0.94 + 0.0453, 1.98 - 0.0099]; b: lr 0.1 -> 0.9 + 0.1
  CHECK_CLOSE(w.tensor, vec({0.9853, 1.9701}), kTol, kTol);
  CHECK_CLOSE(b.tensor, vec({1.0}), kTol, kTol);
  CHECK(opt.step_count() == 2);

  // Two groups: the backbone at a tenth of the head's lr, set through the groups.
  ParamInfo x = param("backbone.w", {1.0}), y = param("head.w", {1.0});
  SGD opt2(std::vector<ParamGroup>{{"backbone", {x}, 0.01, {}, {}}, {"head", {y}, {}, {}, {}}}, o);
  CHECK(*opt2.param_groups()[1].lr == 0.1);  // the default filled in
  set_grad(x, {1.0});
  set_grad(y, {1.0});
  opt2.step();
  CHECK(x.tensor.item() == doctest::Approx(1 - 0.01 * 1.1).epsilon(kTol));
  CHECK(y.tensor.item() == doctest::Approx(1 - 0.1 * 1.1).epsilon(kTol));
}

TEST_CASE("frozen parameters, lr_mult 0 and parameters without a gradient stay unchanged") {
  ParamInfo frozen = param("frozen", {1.0, 2.0});
  frozen.tensor.set_requires_grad(false);
  frozen.tensor.set_grad(vec({5.0, 5.0}));  // a stale gradient must not be applied
  ParamInfo fixed = param("upscore.weight", {3.0}, 0.0, 1.0);  // FCN's fixed upsampling
  ParamInfo unused = param("unused", {4.0});
  ParamInfo live = param("live", {1.0});
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.5;
  SGD opt(std::vector<ParamInfo>{frozen, fixed, unused, live}, o);
  set_grad(fixed, {1.0});
  set_grad(live, {1.0});
  opt.step();
  opt.step();
  CHECK(frozen.tensor.to_vector() == std::vector<double>{1.0, 2.0});
  CHECK(fixed.tensor.item() == 3.0);
  CHECK(unused.tensor.item() == 4.0);
  CHECK(live.tensor.item() != 1.0);
  TensorMap st = opt.state_dict();
  CHECK(st.size() == 1);
  CHECK(st.count("live.momentum_buffer"));
}

TEST_CASE("a real backward then step: loss = sum(p*p), grad 2p") {
  ParamInfo p = param("p", {1.0, -2.0});
  SgdOptions o;
  o.lr = 0.25;
  SGD opt(std::vector<ParamInfo>{p}, o);
  sum(mul(p.tensor, p.tensor)).backward();
  opt.step();
  CHECK(p.tensor.to_vector() == std::vector<double>{0.5, -1.0});  // p - 0.25*2p = p/2
  CHECK(!p.tensor.grad_fn());  // the update was not recorded
  opt.zero_grad();
  CHECK(!p.tensor.grad().defined());
}

TEST_CASE("Adam: bias-corrected moments, two steps by hand") {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  AdamOptions o;
  o.lr = lr;
  auto [p1, p2] = two_steps<Adam>(1.0, 0.5, -1.0, o);
  // step 1: m = 0.05, v = 0.00025, p -= lr/(1-b1) * m / (sqrt(v)/sqrt(1-b2) + eps)
  double m1 = (1 - b1) * 0.5, v1 = (1 - b2) * 0.25;
  double e1 = 1.0 - lr / (1 - b1) * m1 / (std::sqrt(v1) / std::sqrt(1 - b2) + eps);
  CHECK(e1 == doctest::Approx(0.9).epsilon(1e-7));  // the first Adam step is lr * sign(g)
  CHECK(p1 == doctest::Approx(e1).epsilon(kTol));
  double m2 = b1 * m1 + (1 - b1) * -1.0, v2 = b2 * v1 + (1 - b2) * 1.0;
  double e2 = e1 - lr / (1 - b1 * b1) * m2 / (std::sqrt(v2) / std::sqrt(1 - b2 * b2) + eps);
  CHECK(p2 == doctest::Approx(e2).epsilon(1e-14));
}

TEST_CASE("Adam weight decay is L2 in the gradient, AdamW decays the weight directly") {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  AdamOptions o;
  o.lr = lr;
  o.weight_decay = wd;
  {
    auto [p1, p2] = two_steps<Adam>(1.0, 0.5, -1.0, o);
    double g1 = 0.5 + wd * 1.0;
    double m1 = (1 - b1) * g1, v1 = (1 - b2) * g1 * g1;
    double e1 = 1.0 - lr / (1 - b1) * m1 / (std::sqrt(v1) / std::sqrt(1 - b2) + eps);
    double g2 = -1.0 + wd * e1;
    double m2 = b1 * m1 + (1 - b1) * g2, v2 = b2 * v1 + (1 - b2) * g2 * g2;
    double e2 = e1 - lr / (1 - b1 * b1) * m2 / (std::sqrt(v2) / std::sqrt(1 - b2 * b2) + eps);
    CHECK(p1 == doctest::Approx(e1).epsilon(kTol));
    CHECK(p2 == doctest::Approx(e2).epsilon(1e-14));
  }
  {
    auto [p1, p2] = two_steps<AdamW>(1.0, 0.5, -1.0, o);
    double m1 = (1 - b1) * 0.5, v1 = (1 - b2) * 0.25;
    double e1 = 1.0 * (1 - lr * wd) - lr / (1 - b1) * m1 / (std::sqrt(v1) / std::sqrt(1 - b2) + eps);
    double m2 = b1 * m1 + (1 - b1) * -1.0, v2 = b2 * v1 + (1 - b2) * 1.0;
    double e2 = e1 * (1 - lr * wd) -
                lr / (1 - b1 * b1) * m2 / (std::sqrt(v2) / std::sqrt(1 - b2 * b2) + eps);
    CHECK(p1 == doctest::Approx(e1).epsilon(kTol));
    CHECK(p2 == doctest::Approx(e2).epsilon(1e-14));
    CHECK(p1 == doctest::Approx(0.89).epsilon(1e-7));  // 0.99 * 1 - 0.1
  }
}

TEST_CASE("Adam counts steps per parameter: a late parameter gets the first-step correction") {
  ParamInfo a = param("a", {1.0}), b = param("b", {1.0});
  AdamOptions o;
  o.lr = 0.1;
  Adam opt(std::vector<ParamInfo>{a, b}, o);
  set_grad(a, {1.0});
  opt.step();  // b has no gradient yet
  set_grad(b, {-3.0});
  opt.step();
  CHECK(b.tensor.item() == doctest::Approx(1.1).epsilon(1e-7));  // lr * sign: a first step
  CHECK(opt.state_json()["param_steps"]["a"] == 2);
  CHECK(opt.state_json()["param_steps"]["b"] == 1);
}

TEST_CASE("optimizer checkpoints resume exactly (SGD momentum, AdamW)") {
  auto run = [](auto make_opt) {
    // Reference: 3 steps straight. Resumed: 2 steps, save, restore into fresh objects, 1 step.
    std::vector<std::vector<double>> grads{{0.5, -1}, {-1, 2}, {0.25, 0.75}};
    ParamInfo ref = param("layer.weight", {1.0, -2.0}, 1.0, 1.0);
    auto opt_ref = make_opt(ref);
    for (auto& g : grads) {
      set_grad(ref, g);
      opt_ref->step();
    }
    ParamInfo p = param("layer.weight", {1.0, -2.0}, 1.0, 1.0);
    auto opt = make_opt(p);
    opt->set_lr_factor(1.0);
    for (int i = 0; i < 2; ++i) {
      set_grad(p, grads[static_cast<size_t>(i)]);
      opt->step();
    }
    TensorMap saved_state;
    for (auto& [k, t] : opt->state_dict()) saved_state[k] = t.clone();
    std::string saved_json = opt->state_json().dump();
    Tensor saved_param = p.tensor.clone();

    ParamInfo q = param("layer.weight", {0.0, 0.0}, 1.0, 1.0);
    q.tensor.copy_(saved_param);
    auto opt2 = make_opt(q);
    opt2->load_state_dict(saved_state, nlohmann::json::parse(saved_json));
    CHECK(opt2->step_count() == 2);
    set_grad(q, grads[2]);
    opt2->step();
    CHECK_EXACT(q.tensor, ref.tensor);
    CHECK(opt2->state_json() == opt_ref->state_json());
  };
  run([](ParamInfo& p) {
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.weight_decay = 1e-3;
    return std::make_unique<SGD>(std::vector<ParamInfo>{p}, o);
  });
  run([](ParamInfo& p) {
    AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.01;
    return std::make_unique<AdamW>(std::vector<ParamInfo>{p}, o);
  });
}

TEST_CASE("optimizer load_state_dict names every mismatch") {
  ParamInfo a = param("a", {1.0}), b = param("b", {1.0});
  SgdOptions o;
  o.momentum = 0.9;
  SGD opt(std::vector<ParamInfo>{a, b}, o);
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  ParamInfo c = param("c", {1.0}), a2 = param("a", {1.0});
  SGD other(std::vector<ParamInfo>{a2, c}, o);
  CHECK_THROWS_WITH_AS(other.load_state_dict(opt.state_dict(), opt.state_json()),
                       "SGD.load_state_dict: group group0: missing c, group group0: unexpected b, "
                       "unexpected state tensor b.momentum_buffer, unexpected parameter step b",
                       Error);
  TensorMap no_buffers;
  CHECK_THROWS_WITH_AS(opt.load_state_dict(no_buffers, opt.state_json()),
                       doctest::Contains("missing state tensor a.momentum_buffer"), Error);
  Adam adam(std::vector<ParamInfo>{param("a", {1.0})}, AdamOptions{});
  CHECK_THROWS_WITH_AS(adam.load_state_dict({}, opt.state_json()),
                       doctest::Contains("checkpoint is for optimizer 'SGD'"), Error);
  CHECK_THROWS_WITH_AS(SGD(std::vector<ParamInfo>{a, a}, o), doctest::Contains("'a' appears twice"),
                       Error);
  CHECK_THROWS_WITH_AS(Adam(std::vector<ParamGroup>{{"g", {param("x", {1.0})}, {}, {}, 0.9}}, {}),
                       doctest::Contains("group 'g' sets momentum"), Error);
}

TEST_CASE("clip_grad_norm returns the total norm and rescales only above max_norm") {
  ParamInfo a = param("a", {0.0, 0.0}), b = param("b", {0.0}), c = param("c", {1.0});
  set_grad(a, {3.0, 4.0});
  set_grad(b, {12.0});  // total norm sqrt(9 + 16 + 144) = 13; c has no gradient
  std::vector<ParamInfo> ps{a, b, c};
  CHECK(clip_grad_norm(ps, 20.0) == doctest::Approx(13.0).epsilon(kTol));
  CHECK(a.tensor.grad().to_vector() == std::vector<double>{3.0, 4.0});  // untouched
  CHECK(clip_grad_norm(ps, 6.5) == doctest::Approx(13.0).epsilon(kTol));
  const double k = 6.5 / (13.0 + 1e-6);
  CHECK_CLOSE(a.tensor.grad(), vec({3 * k, 4 * k}), kTol, kTol);
  CHECK_CLOSE(b.tensor.grad(), vec({12 * k}), kTol, kTol);
  CHECK(clip_grad_norm(ps, 6.5) == doctest::Approx(6.5).epsilon(1e-6));
  CHECK(!c.tensor.grad().defined());
  set_grad(b, {INFINITY});
  CHECK(std::isinf(clip_grad_norm(ps, 1.0)));
  CHECK(a.tensor.grad().flat(0) == doctest::Approx(3 * k).epsilon(kTol));  // left alone
  CHECK_THROWS_AS(clip_grad_norm(ps, 0.0), Error);
}
