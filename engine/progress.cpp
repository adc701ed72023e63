// progress.cpp — see progress.h.
#include "engine/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace fcnlab {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

Progress::Progress(int64_t total, int64_t items_per_step, std::string label, int64_t plain_every,
                   std::string unit)
    : total_(total > 0 ? total : 1),
      items_per_step_(items_per_step),
      plain_every_(plain_every > 0 ? plain_every : std::max<int64_t>(1, total / 10)),
      label_(std::move(label)),
      unit_(std::move(unit)),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::items_per_second() const {
  double e = elapsed_seconds();
  return e > 0 ? static_cast<double>(done_ * items_per_step_) / e : 0.0;
}

std::string Progress::line(int64_t done, const std::string& extra, bool bar) const {
  const double frac = static_cast<double>(done) / static_cast<double>(total_);
  const double e = elapsed_seconds();
  const double eta = done > 0 ? e / static_cast<double>(done) * static_cast<double>(total_ - done) : NAN;
  char rate[64] = "";
  if (items_per_step_ > 0)
    std::snprintf(rate, sizeof rate, "  %.1f %s/s", items_per_second(), unit_.c_str());
  char stats[224];
  std::snprintf(stats, sizeof stats, "%3.0f%% %lld/%lld%s  elapsed %s  ETA %s", 100 * frac,
                static_cast<long long>(done), static_cast<long long>(total_), rate,
                format_duration(e).c_str(), format_duration(eta).c_str());
  std::string s = label_ + " ";
  if (bar) {
    const int width = 24, filled = static_cast<int>(frac * width);
    // Appends, not "[" + std::string(...): GCC 12 warns falsely (-Wrestrict) on that form.
    s += '[';
    s.append(static_cast<size_t>(filled), '#').append(static_cast<size_t>(width - filled), '.');
    s += "] ";
  }
  s += stats;
  if (!extra.empty()) s += "  " + extra;
  return s;
}

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line(done, extra, true).c_str());
    std::fflush(stderr);
  } else if (done % plain_every_ == 0 || done == total_) {
    std::fprintf(stderr, "%s\n", line(done, extra, false).c_str());
  }
}

void Progress::finish(const std::string& extra) {
  if (tty_) std::fprintf(stderr, "\r\033[K%s\n", line(done_, extra, true).c_str());
}

}  // namespace fcnlab
