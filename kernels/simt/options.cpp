// options.cpp — the SIMT layer's options and their environment variables (see scheduler.h).
#include <cstdlib>
#include <string>

#include "kernels/simt/scheduler.h"

namespace fcnlab::simt {

Schedule Schedule::parse(std::string_view text) {
  if (text == "inorder") return {Order::InOrder, 0};
  if (text == "reverse") return {Order::Reverse, 0};
  if (text.substr(0, 7) == "random:" && text.size() > 7) {
    std::string digits(text.substr(7));
    char* end = nullptr;
    unsigned long long seed = std::strtoull(digits.c_str(), &end, 10);
    if (end && *end == '\0' && digits.find_first_not_of("0123456789") == std::string::npos)
      return {Order::Random, seed};
  }
  FCNLAB_FAIL("simt schedule must be inorder, reverse or random:SEED (SEED a decimal number), got '",
              std::string(text), "'");
}

std::string Schedule::str() const {
  switch (order) {
    case Order::InOrder: return "inorder";
    case Order::Reverse: return "reverse";
    case Order::Random: return "random:" + std::to_string(seed);
  }
  return "?";
}

namespace {

Options from_environment() {
  Options o;
  if (const char* s = std::getenv("FCNLAB_SIMT_SCHEDULE"); s && *s) {
    try {
      o.schedule = Schedule::parse(s);
    } catch (const fcnlab::Error& e) {
      FCNLAB_FAIL("FCNLAB_SIMT_SCHEDULE: ", e.what());
    }
  }
  if (const char* s = std::getenv("FCNLAB_SIMT_STRICT_EXIT"); s && *s) {
    std::string v = s;
    FCNLAB_CHECK(v == "0" || v == "1", "FCNLAB_SIMT_STRICT_EXIT must be 0 or 1, got '", v, "'");
    o.strict_exit = v == "1";
  }
  if (const char* s = std::getenv("FCNLAB_SIMT_ERRORS"); s && *s) {
    std::string v = s;
    FCNLAB_CHECK(v == "throw" || v == "record",
                 "FCNLAB_SIMT_ERRORS must be throw or record, got '", v, "'");
    o.errors = v == "throw" ? ErrorMode::Throw : ErrorMode::Record;
  }
  if (const char* s = std::getenv("FCNLAB_SIMT_STACK_KIB"); s && *s) {
    char* end = nullptr;
    long kib = std::strtol(s, &end, 10);
    FCNLAB_CHECK(end && *end == '\0' && kib >= 16 && kib <= 65536,
                 "FCNLAB_SIMT_STACK_KIB must be a number of KiB in [16, 65536], got '", s, "'");
    o.stack_bytes = static_cast<size_t>(kib) * 1024;
  }
  return o;
}

}  // namespace

Options& options() {
  static Options o = from_environment();
  return o;
}

}  // namespace fcnlab::simt
