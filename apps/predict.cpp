// fcnlab-predict — see train/predict_cli.h (the program lives there so tests can run it).
#include <string>
#include <vector>

#include "train/predict_cli.h"

int main(int argc, char** argv) {
  return fcnlab::train::predict_main(std::vector<std::string>(argv, argv + argc));
}
