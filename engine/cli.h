// cli.h — what the command lines of every fcnlab program share (CLI11, header-only):
//  - number checks whose messages a person can read: "--count: expected a number > 0, got -3"
//    (CLI11's own Range/PositiveNumber say "Value -3 not in range 0.000000 to 1797...0.000000");
//  - one failure format: "PROGRAM: error: MESSAGE" and a pointer to --help on stderr, with
//    CLI11's non-zero exit status (help: 0), the format of the programs' other errors.
#pragma once
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fcnlab::cli {

// 32, 0.99, 1e-06: the shortest form that round-trips the bound a person typed.
inline std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// A check that the option's text is a finite number accepted by `ok`; `expected` completes
// "expected a number ..." in the message and is the help's description.
template <class Ok>
CLI::Validator number_check(std::string expected, Ok ok) {
  return CLI::Validator(
      [expected, ok](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
          return "expected a number " + expected + ", got '" + text + "'";
        if (!ok(v)) return "expected a number " + expected + ", got " + text;
        return std::string();
      },
      expected);
}

inline CLI::Validator positive() {
  return number_check("> 0", [](double v) { return v > 0; });
}

inline CLI::Validator at_least(double lo) {
  return number_check(">= " + number_text(lo), [lo](double v) { return v >= lo; });
}

inline CLI::Validator in_range(double lo, double hi) {
  return number_check("in [" + number_text(lo) + ", " + number_text(hi) + "]",
                      [lo, hi](double v) { return v >= lo && v <= hi; });
}

// Parse errors (unknown flag, bad value, failed check) as "PROGRAM: error: MESSAGE".
inline void use_fcnlab_errors(CLI::App& app, const std::string& program) {
  app.failure_message([program](const CLI::App*, const CLI::Error& e) {
    return program + ": error: " + e.what() + "\nRun with --help for more information.\n";
  });
}

}  // namespace fcnlab::cli
