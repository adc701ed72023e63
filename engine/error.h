// error.h — the one exception type and the check macro used everywhere.
// Library code never calls exit(): it throws fcnlab::Error with a message that names
// what was wrong and what was expected; programs catch it in main and exit non-zero.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace fcnlab {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace fcnlab

// FCNLAB_CHECK(cond, "what", value, "more") throws fcnlab::Error("what value more").
#define FCNLAB_CHECK(cond, ...)                                          \
  do {                                                                   \
    if (!(cond)) throw ::fcnlab::Error(::fcnlab::detail::concat(__VA_ARGS__)); \
  } while (0)

#define FCNLAB_FAIL(...) throw ::fcnlab::Error(::fcnlab::detail::concat(__VA_ARGS__))
