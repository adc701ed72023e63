// optim/schedule.cpp — the schedule formulas, validation and JSON form.
#include "engine/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/error.h"

namespace fcnlab {

const char* schedule_kind_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::step: return "step";
    case ScheduleKind::poly: return "poly";
    case ScheduleKind::cosine: return "cosine";
  }
  return "?";
}

ScheduleKind parse_schedule_kind(const std::string& s) {
  for (ScheduleKind k : {ScheduleKind::constant, ScheduleKind::step, ScheduleKind::poly,
                         ScheduleKind::cosine})
    if (s == schedule_kind_name(k)) return k;
  FCNLAB_FAIL("lr schedule: expected constant, step, poly or cosine, got '", s, "'");
}

LrSchedule LrSchedule::constant(double base_lr) {
  LrSchedule s;
  s.base_lr = base_lr;
  return s;
}
LrSchedule LrSchedule::steps(double base_lr, int64_t step_size, double gamma) {
  LrSchedule s = constant(base_lr);
  s.kind = ScheduleKind::step;
  s.step_size = step_size;
  s.gamma = gamma;
  return s;
}
LrSchedule LrSchedule::poly(double base_lr, int64_t max_iters, double power, double min_lr) {
  LrSchedule s = constant(base_lr);
  s.kind = ScheduleKind::poly;
  s.max_iters = max_iters;
  s.power = power;
  s.min_lr = min_lr;
  return s;
}
LrSchedule LrSchedule::cosine(double base_lr, int64_t max_iters, double min_lr) {
  LrSchedule s = constant(base_lr);
  s.kind = ScheduleKind::cosine;
  s.max_iters = max_iters;
  s.min_lr = min_lr;
  return s;
}
LrSchedule& LrSchedule::with_warmup(int64_t iters, double start) {
  warmup_iters = iters;
  warmup_start = start;
  return *this;
}

void LrSchedule::validate() const {
  FCNLAB_CHECK(base_lr > 0, "lr schedule: base_lr must be > 0, got ", base_lr);
  if (kind == ScheduleKind::step) {
    FCNLAB_CHECK(step_size > 0, "lr schedule step: step_size must be > 0, got ", step_size);
    FCNLAB_CHECK(gamma > 0, "lr schedule step: gamma must be > 0, got ", gamma);
  }
  if (kind == ScheduleKind::poly || kind == ScheduleKind::cosine) {
    FCNLAB_CHECK(max_iters > 0, "lr schedule ", schedule_kind_name(kind),
                 ": max_iters must be > 0, got ", max_iters);
    FCNLAB_CHECK(min_lr >= 0 && min_lr <= base_lr, "lr schedule ", schedule_kind_name(kind),
                 ": min_lr must be in [0, base_lr=", base_lr, "], got ", min_lr);
  }
  if (kind == ScheduleKind::poly)
    FCNLAB_CHECK(power > 0, "lr schedule poly: power must be > 0, got ", power);
  FCNLAB_CHECK(warmup_iters >= 0, "lr schedule: warmup_iters must be >= 0, got ", warmup_iters);
  FCNLAB_CHECK(warmup_start >= 0 && warmup_start <= 1,
               "lr schedule: warmup_start must be in [0, 1], got ", warmup_start);
}

double LrSchedule::lr(int64_t it) const {
  validate();
  FCNLAB_CHECK(it >= 0, "lr schedule: iteration must be >= 0, got ", it);
  const double pi = 3.14159265358979323846;
  double lr = base_lr;
  switch (kind) {
    case ScheduleKind::constant: break;
    case ScheduleKind::step:
      lr = base_lr * std::pow(gamma, static_cast<double>(it / step_size));
      break;
    case ScheduleKind::poly: {
      double t = static_cast<double>(std::min(it, max_iters)) / static_cast<double>(max_iters);
      lr = (base_lr - min_lr) * std::pow(1.0 - t, power) + min_lr;
      break;
    }
    case ScheduleKind::cosine: {
      double t = static_cast<double>(std::min(it, max_iters)) / static_cast<double>(max_iters);
      lr = min_lr + (base_lr - min_lr) * (1.0 + std::cos(pi * t)) / 2.0;
      break;
    }
  }
  if (it < warmup_iters)
    lr *= warmup_start + (1.0 - warmup_start) * static_cast<double>(it) /
                             static_cast<double>(warmup_iters);
  return lr;
}

double LrSchedule::factor(int64_t it) const { return lr(it) / base_lr; }

std::string LrSchedule::str() const {
  std::ostringstream os;
  os << schedule_kind_name(kind) << "(base_lr=" << base_lr;
  if (kind == ScheduleKind::step) os << ", step_size=" << step_size << ", gamma=" << gamma;
  if (kind == ScheduleKind::poly) os << ", max_iters=" << max_iters << ", power=" << power;
  if (kind == ScheduleKind::cosine) os << ", max_iters=" << max_iters;
  if ((kind == ScheduleKind::poly || kind == ScheduleKind::cosine) && min_lr > 0)
    os << ", min_lr=" << min_lr;
  os << ")";
  if (warmup_iters > 0) os << " + warmup(" << warmup_iters << ", " << warmup_start << ")";
  return os.str();
}

nlohmann::json LrSchedule::to_json() const {
  return {{"kind", schedule_kind_name(kind)}, {"base_lr", base_lr}, {"step_size", step_size},
          {"gamma", gamma}, {"power", power}, {"max_iters", max_iters}, {"min_lr", min_lr},
          {"warmup_iters", warmup_iters}, {"warmup_start", warmup_start}};
}

LrSchedule LrSchedule::from_json(const nlohmann::json& j) {
  try {
    LrSchedule s;
    s.kind = parse_schedule_kind(j.at("kind").get<std::string>());
    s.base_lr = j.at("base_lr").get<double>();
    s.step_size = j.value("step_size", s.step_size);
    s.gamma = j.value("gamma", s.gamma);
    s.power = j.value("power", s.power);
    s.max_iters = j.value("max_iters", s.max_iters);
    s.min_lr = j.value("min_lr", s.min_lr);
    s.warmup_iters = j.value("warmup_iters", s.warmup_iters);
    s.warmup_start = j.value("warmup_start", s.warmup_start);
    s.validate();
    return s;
  } catch (const nlohmann::json::exception& e) {
    FCNLAB_FAIL("lr schedule: malformed JSON: ", e.what());
  }
}

}  // namespace fcnlab
