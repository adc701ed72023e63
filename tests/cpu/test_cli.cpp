// engine/cli.h: the number checks every program's flags use, and the "PROGRAM: error:" format
// of a parse failure, through a CLI11 app as the programs build it.
#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "engine/cli.h"

namespace {

struct Parsed {
  int code = 0;
  std::string err;
};

// Parses `args` (program name first) into an app with --count > 0, --size in [32, 8192] and
// --fraction in [0, 0.99]; a failure is rendered as the programs render it.
Parsed parse(std::vector<std::string> args) {
  CLI::App app{"test"};
  fcnlab::cli::use_fcnlab_errors(app, "fcnlab-test");
  int count = 1, size = 64;
  double fraction = 0.5;
  app.add_option("--count", count)->check(fcnlab::cli::positive());
  app.add_option("--size", size)->check(fcnlab::cli::in_range(32, 8192));
  app.add_option("--fraction", fraction)->check(fcnlab::cli::in_range(0.0, 0.99));
  app.add_option("--threads", count)->check(fcnlab::cli::at_least(0));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  Parsed p;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    p.code = app.exit(e, out, err);
    p.err = err.str();
  }
  return p;
}

}  // namespace

TEST_CASE("cli checks: accepted values pass, rejected ones name the flag, the bound and the value") {
  CHECK(parse({"p", "--count", "3", "--size", "32", "--fraction", "0.99", "--threads", "0"}).code == 0);
  CHECK(parse({"p", "--size", "8192", "--fraction", "0"}).code == 0);

  const Parsed neg = parse({"p", "--count", "-3"});
  CHECK(neg.code != 0);
  CHECK(neg.err == "fcnlab-test: error: --count: expected a number > 0, got -3\n"
                   "Run with --help for more information.\n");
  CHECK(parse({"p", "--count", "0"}).err.find("expected a number > 0, got 0") != std::string::npos);

  const Parsed small = parse({"p", "--size", "16"});
  CHECK(small.code != 0);
  CHECK(small.err.find("--size: expected a number in [32, 8192], got 16") != std::string::npos);
  CHECK(parse({"p", "--fraction", "0.995"}).err.find("in [0, 0.99], got 0.995") != std::string::npos);
  CHECK(parse({"p", "--threads", "-1"}).err.find("--threads: expected a number >= 0, got -1") !=
        std::string::npos);

  // not numbers at all: quoted, never a range of 1.8e308
  for (const char* bad : {"abc", "", "3x", "nan", "inf", "1e999"}) {
    INFO(bad);
    const Parsed p = parse({"p", "--count", bad});
    CHECK(p.code != 0);
    CHECK(p.err.find(std::string("--count: expected a number > 0, got '") + bad + "'") != std::string::npos);
    CHECK(p.err.find("179769") == std::string::npos);
  }
}

TEST_CASE("cli: a parse failure of a program is 'PROGRAM: error: ...' with a non-zero exit") {
  const Parsed p = parse({"p", "--bogus"});
  CHECK(p.code != 0);
  CHECK(p.err.rfind("fcnlab-test: error: ", 0) == 0);
  CHECK(p.err.find("--bogus") != std::string::npos);
  // --help is not a failure
  CHECK(parse({"p", "--help"}).code == 0);
}
