// cli_run.h — the frame fcnlab-evaluate and fcnlab-predict share: parse `args` (program name
// first) with a CLI11 app, then run; a parse error is "PROGRAM: error: ..." (engine/cli.h) with CLI11's exit code (help: 0), an
// exception from run is "PROGRAM: error: ..." on stderr and exit 1. `error`, when given, receives
// the message (tests read it).
#pragma once
#include <CLI/CLI.hpp>

#include "engine/cli.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace fcnlab::train {

template <class Run>
int parse_and_run(CLI::App& app, const std::vector<std::string>& args, const char* program,
                  std::string* error, Run run) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  cli::use_fcnlab_errors(app, program);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (error != nullptr && e.get_exit_code() != 0) *error = e.what();
    return app.exit(e);
  }
  try {
    return run();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    if (error != nullptr) *error = e.what();
    return 1;
  }
}

}  // namespace fcnlab::train
