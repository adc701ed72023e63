// fcnlab-evaluate — see train/evaluate_cli.h (the program lives there so tests can run it).
#include <string>
#include <vector>

#include "train/evaluate_cli.h"

int main(int argc, char** argv) {
  return fcnlab::train::evaluate_main(std::vector<std::string>(argv, argv + argc));
}
