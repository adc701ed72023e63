// LR schedules at chosen iterations against their formulas, warm-up, validation, JSON, and
// driving an optimizer's lr factor.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"

using namespace fcnlab;

namespace {
constexpr double kTol = 1e-15;
const double kPi = std::acos(-1.0);
}  // namespace

TEST_CASE("constant and step schedules") {
  LrSchedule c = LrSchedule::constant(1e-4);
  CHECK(c.lr(0) == 1e-4);
  CHECK(c.lr(123456) == 1e-4);
  LrSchedule s = LrSchedule::steps(0.1, 3, 0.5);
  CHECK(s.lr(0) == doctest::Approx(0.1).epsilon(kTol));
  CHECK(s.lr(2) == doctest::Approx(0.1).epsilon(kTol));
  CHECK(s.lr(3) == doctest::Approx(0.05).epsilon(kTol));
  CHECK(s.lr(5) == doctest::Approx(0.05).epsilon(kTol));
  CHECK(s.lr(7) == doctest::Approx(0.025).epsilon(kTol));
  CHECK(s.factor(9) == doctest::Approx(0.125).epsilon(kTol));
}

TEST_CASE("poly schedule: base * (1 - it/max)^power, clamped after max_iters") {
  LrSchedule p = LrSchedule::poly(0.01, 100, 0.9);
  CHECK(p.lr(0) == doctest::Approx(0.01).epsilon(kTol));
  CHECK(p.lr(50) == doctest::Approx(0.01 * std::pow(0.5, 0.9)).epsilon(kTol));
  CHECK(p.lr(90) == doctest::Approx(0.01 * std::pow(0.1, 0.9)).epsilon(kTol));
  CHECK(p.lr(100) == 0.0);
  CHECK(p.lr(150) == 0.0);
  LrSchedule q = LrSchedule::poly(0.01, 100, 1.0, 1e-4);  // linear to min_lr
  CHECK(q.lr(25) == doctest::Approx((0.01 - 1e-4) * 0.75 + 1e-4).epsilon(kTol));
  CHECK(q.lr(200) == doctest::Approx(1e-4).epsilon(kTol));
}

TEST_CASE("cosine schedule: from base_lr to min_lr over max_iters") {
  LrSchedule c = LrSchedule::cosine(1.0, 10, 0.1);
  CHECK(c.lr(0) == doctest::Approx(1.0).epsilon(kTol));
  CHECK(c.lr(5) == doctest::Approx(0.55).epsilon(kTol));
  CHECK(c.lr(2) == doctest::Approx(0.1 + 0.9 * (1 + std::cos(kPi * 0.2)) / 2).epsilon(kTol));
  CHECK(c.lr(10) == doctest::Approx(0.1).epsilon(kTol));
  CHECK(c.lr(20) == doctest::Approx(0.1).epsilon(kTol));
}

TEST_CASE("linear warm-up multiplies the schedule and joins it continuously") {
  LrSchedule p = LrSchedule::poly(0.01, 100, 0.9).with_warmup(10, 0.1);
  auto poly = [](int64_t it) { return 0.01 * std::pow(1.0 - it / 100.0, 0.9); };
  CHECK(p.lr(0) == doctest::Approx(0.001).epsilon(kTol));
  CHECK(p.lr(5) == doctest::Approx(poly(5) * (0.1 + 0.9 * 0.5)).epsilon(kTol));
  CHECK(p.lr(9) == doctest::Approx(poly(9) * (0.1 + 0.9 * 0.9)).epsilon(kTol));
  CHECK(p.lr(10) == doctest::Approx(poly(10)).epsilon(kTol));
  CHECK(p.lr(50) == doctest::Approx(poly(50)).epsilon(kTol));
  LrSchedule c = LrSchedule::constant(0.2).with_warmup(4, 0.0);
  CHECK(c.lr(0) == 0.0);
  CHECK(c.lr(1) == doctest::Approx(0.05).epsilon(kTol));
  CHECK(c.lr(4) == doctest::Approx(0.2).epsilon(kTol));
  CHECK(c.str() == "constant(base_lr=0.2) + warmup(4, 0)");
}

TEST_CASE("schedules reject bad settings, naming the field") {
  CHECK_THROWS_WITH_AS(LrSchedule::poly(0.01, 0).lr(0), doctest::Contains("poly: max_iters must be > 0"),
                       Error);
  CHECK_THROWS_WITH_AS(LrSchedule::steps(0.01, 0, 0.1).lr(0),
                       doctest::Contains("step_size must be > 0"), Error);
  CHECK_THROWS_WITH_AS(LrSchedule::cosine(0.01, 10, 0.5).lr(0), doctest::Contains("min_lr must be in"),
                       Error);
  CHECK_THROWS_WITH_AS(LrSchedule::constant(0.01).lr(-1), doctest::Contains("iteration must be >= 0"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_schedule_kind("linear"),
                       doctest::Contains("expected constant, step, poly or cosine, got 'linear'"), Error);
}

TEST_CASE("schedule JSON round trip") {
  LrSchedule s = LrSchedule::cosine(0.05, 1000, 1e-5).with_warmup(50, 0.2);
  LrSchedule t = LrSchedule::from_json(nlohmann::json::parse(s.to_json().dump()));
  for (int64_t it : {0, 25, 50, 500, 1000, 2000}) CHECK(t.lr(it) == s.lr(it));
  CHECK(t.str() == s.str());
  CHECK_THROWS_WITH_AS(LrSchedule::from_json(nlohmann::json{{"base_lr", 1.0}}),
                       doctest::Contains("malformed JSON"), Error);
}

TEST_CASE("a schedule drives the optimizer's lr factor, groups keep their own base lr") {
  ParamInfo a{"backbone.w", Tensor::ones({1}, DType::f64).set_requires_grad(), 1, 1};
  ParamInfo b{"head.bias", Tensor::ones({1}, DType::f64).set_requires_grad(), 2, 0};
  SgdOptions o;
  o.lr = 0.01;
  SGD opt(std::vector<ParamGroup>{{"backbone", {a}, 0.001, {}, {}}, {"head", {b}, {}, {}, {}}}, o);
  LrSchedule s = LrSchedule::poly(0.01, 100, 0.9);
  opt.set_lr_factor(s.factor(50));
  CHECK(opt.effective_lr(0, 0) == doctest::Approx(0.001 * std::pow(0.5, 0.9)).epsilon(kTol));
  CHECK(opt.effective_lr(1, 0) == doctest::Approx(0.02 * std::pow(0.5, 0.9)).epsilon(kTol));
}
