// evaluate_cli.h — fcnlab-evaluate as a function, so that the tests run the very program
// (flags, checks, outputs, error text, exit code) in-process. apps/evaluate.cpp is its main().
#pragma once
#include <string>
#include <vector>

namespace fcnlab::train {

// args[0] is the program name. Returns the exit code (0 success, 1 error; CLI11's codes for
// flag errors). Errors are printed to stderr and, when `error` is given, stored there.
int evaluate_main(const std::vector<std::string>& args, std::string* error = nullptr);

}  // namespace fcnlab::train
