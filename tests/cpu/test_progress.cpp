// engine/progress.h: the plain lines written when stderr is not a terminal — one per
// plain_every steps and one at the end, the rate in the caller's unit, none when there is none.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/progress.h"
#include "tests/common/capture.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;

namespace {

// Runs fn with stderr sent to a file; returns what it wrote.
template <class F>
std::string capture_stderr(const test::TempDir& dir, F fn) {
  return test::capture_fd(STDERR_FILENO, dir, fn);
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("progress: plain lines every plain_every steps, the rate in the caller's unit") {
  test::TempDir dir("progress");
  const std::string images = capture_stderr(dir, [] {
    Progress p(10, 8, "train", 5);
    for (int i = 1; i <= 10; ++i) p.update(i, "loss 0.5");
    p.finish();
  });
  CHECK(count_lines(images) == 2);  // steps 5 and 10
  CHECK(images.find("train  50% 5/10  ") != std::string::npos);
  CHECK(images.find("train 100% 10/10  ") != std::string::npos);
  CHECK(images.find(" img/s  elapsed ") != std::string::npos);
  CHECK(images.find("  loss 0.5\n") != std::string::npos);

  const std::string mib = capture_stderr(dir, [] {
    Progress p(3, 16, "sha256", 1, "MiB");
    for (int i = 1; i <= 3; ++i) p.update(i);
  });
  CHECK(count_lines(mib) == 3);
  CHECK(mib.find(" MiB/s  elapsed ") != std::string::npos);
  CHECK(mib.find("img/s") == std::string::npos);

  const std::string none = capture_stderr(dir, [] {
    Progress p(4, 0, "forward", 2);
    for (int i = 1; i <= 4; ++i) p.update(i, "conv1_1");
  });
  CHECK(count_lines(none) == 2);
  CHECK(none.find("/s") == std::string::npos);  // no rate at all
  CHECK(none.find("forward 100% 4/4  elapsed ") != std::string::npos);
}
