// progress.h — progress for long work: on a terminal a bar redrawn in place
//   train [#########...............]  38% 570/1500  183.2 img/s  elapsed 00:03  ETA 00:05  loss 0.0412
// and, when stderr is not a terminal (CI, logs), a plain line every `plain_every` steps.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace fcnlab {

class Progress {
 public:
  // total: steps expected; items_per_step: items per step, shown as a rate "<unit>/s" (0: no
  // rate); label: "train"; plain_every: steps between plain lines (0: about every 10%).
  Progress(int64_t total, int64_t items_per_step, std::string label, int64_t plain_every = 0,
           std::string unit = "img");
  // After step `done` (1-based) with an extra text such as "loss 0.041".
  void update(int64_t done, const std::string& extra = "");
  void finish(const std::string& extra = "");
  double elapsed_seconds() const;
  double items_per_second() const;

 private:
  std::string line(int64_t done, const std::string& extra, bool bar) const;

  int64_t total_, items_per_step_, plain_every_, done_ = 0;
  std::string label_, unit_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

// "01:02:03" or "02:03".
std::string format_duration(double seconds);

}  // namespace fcnlab
