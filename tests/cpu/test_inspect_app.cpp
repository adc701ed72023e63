// fcnlab-inspect's model modes run as the program itself: apps/inspect.cpp hands them to
// models/inspect_cli (tested in-process in test_inspect_cli.cpp); here the exit codes a script
// sees (0 done, 1 error, 2 usage), the help text, and files written by a real run.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/serialize/npy.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;

namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr together
};

Run run_inspect(const std::string& args) {
  const std::string exe = std::string(FCNLAB_BINARY_DIR) + "/fcnlab-inspect";
  REQUIRE_MESSAGE(std::filesystem::exists(exe), "build fcnlab-inspect first: ", exe);
  Run r;
  FILE* p = popen((exe + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace

TEST_CASE("fcnlab-inspect (program): --paper-table exits 0 with Table 1's numbers") {
  const Run r = run_inspect("--paper-table");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("134,346,581") != std::string::npos);
  CHECK(r.out.find("715 / 907 *") != std::string::npos);
}

TEST_CASE("fcnlab-inspect (program): errors exit 1, usage errors 2, --help lists the model modes") {
  Run r = run_inspect("--model nope");
  CHECK(r.status == 1);
  CHECK(r.out.find("fcnlab-inspect: error: unknown model 'nope'; known models: fcn32s") != std::string::npos);
  r = run_inspect("--model fcn32s --bogus");
  CHECK(r.status == 2);
  r = run_inspect("--model fcn32s --width 0.0625 --dump conv1_1");
  CHECK(r.status == 2);
  CHECK(r.out.find("need --out DIR") != std::string::npos);
  r = run_inspect("--help");
  CHECK(r.status == 0);
  CHECK(r.out.find("--paper-table") != std::string::npos);
  CHECK(r.out.find("--dataset") != std::string::npos);
}

TEST_CASE("fcnlab-inspect (program): --dump on a phantom writes the layer's .npy") {
  test::TempDir dir("inspect_app");
  const Run r = run_inspect("--model fcn16s --width 0.0625 --size 40x56 --dump score_fr,score --out " +
                            dir.str() + "/d");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(load_npy(dir / "d/score.npy").shape() == Shape({1, 2, 40, 56}));
  CHECK(load_npy(dir / "d/score_fr.npy").shape()[1] == 2);
}
