// capture.h — runs a function with a file descriptor (stdout or stderr) sent to a file in a test
// folder and returns what was written there; the descriptor is restored after.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "tests/common/temp_dir.h"

namespace fcnlab::test {

template <class F>
std::string capture_fd(int fd, const TempDir& dir, F fn) {
  const std::string path = dir / (fd == STDOUT_FILENO ? "stdout.txt" : "stderr.txt");
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved = dup(fd);
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  dup2(fileno(f), fd);
  fn();
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved, fd);
  close(saved);
  std::fclose(f);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace fcnlab::test
