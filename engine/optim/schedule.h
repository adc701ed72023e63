// optim/schedule.h — learning-rate schedules as pure functions of the iteration number:
//   constant: base_lr
//   step:     base_lr * gamma^floor(it / step_size)
//   poly:     (base_lr - min_lr) * (1 - min(it, max_iters)/max_iters)^power + min_lr
//             (FCN/DeepLab "poly", power 0.9; min_lr 0 gives the classic form)
//   cosine:   min_lr + (base_lr - min_lr) * (1 + cos(pi * min(it, max_iters)/max_iters)) / 2
// with an optional linear warm-up that multiplies the schedule's lr for it < warmup_iters by
//   w(it) = warmup_start + (1 - warmup_start) * it / warmup_iters
// (mmseg's convention: continuous where the warm-up ends, the schedule's own clock unshifted).
// Training loops call optimizer.set_lr_factor(schedule.factor(it)) before each step.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace fcnlab {

enum class ScheduleKind { constant, step, poly, cosine };

const char* schedule_kind_name(ScheduleKind k);
ScheduleKind parse_schedule_kind(const std::string& s);  // "constant" | "step" | "poly" | "cosine"

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::constant;
  double base_lr = 0.01;
  int64_t step_size = 1;   // step
  double gamma = 0.1;      // step
  double power = 0.9;      // poly
  int64_t max_iters = 0;   // poly, cosine
  double min_lr = 0.0;     // poly, cosine
  int64_t warmup_iters = 0;
  double warmup_start = 0.01;  // fraction of the lr at iteration 0 of the warm-up

  static LrSchedule constant(double base_lr);
  static LrSchedule steps(double base_lr, int64_t step_size, double gamma);
  static LrSchedule poly(double base_lr, int64_t max_iters, double power = 0.9, double min_lr = 0.0);
  static LrSchedule cosine(double base_lr, int64_t max_iters, double min_lr = 0.0);
  LrSchedule& with_warmup(int64_t iters, double start = 0.01);

  // Throws an Error naming the bad field (max_iters of poly/cosine, step_size, ...).
  void validate() const;
  double lr(int64_t it) const;
  // lr(it) / base_lr: what Optimizer::set_lr_factor wants (groups keep their own base lrs).
  double factor(int64_t it) const;

  std::string str() const;  // "poly(base_lr=0.01, max_iters=1000, power=0.9) + warmup(100, 0.01)"
  nlohmann::json to_json() const;
  static LrSchedule from_json(const nlohmann::json& j);
};

}  // namespace fcnlab
