// fcnlab-inspect — looks inside things fcnlab works with. One mode per flag:
//   --dataset DIR   the SIIM-ACR PNG release (or a phantom set) or the original DICOM+RLE
//                   release, told apart by their files: summary and every problem;
//                   exit 1 when there is any problem (files missing, unreadable, ...).
// Model modes (--paper-table, --model NAME ...: models/inspect_cli.h) take many flags and are
// handed the whole argument list.
// Usage errors (unknown flag, missing value, no mode) exit 2.
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "data/siim.h"
#include "data/siim_dicom.h"
#include "engine/error.h"
#include "models/inspect_cli.h"

namespace {

using Args = std::vector<std::string>;

struct Mode {
  const char* flag;   // the flag that selects the mode
  const char* usage;  // one line for --help
  std::function<int(const std::string& value, const Args& rest)> run;
};

int inspect_dataset(const std::string& dir, const Args& rest) {
  if (!rest.empty()) {
    std::cerr << "fcnlab-inspect: --dataset takes no further arguments, got '" << rest[0]
              << "'\n";
    return 2;
  }
  namespace siim = fcnlab::data::siim;
  const siim::Release release = siim::detect_release(dir);  // PNG or DICOM+RLE, else an error
  fcnlab::data::Inspection ins = release == siim::Release::png
                                     ? fcnlab::data::SiimPngDataset::open(dir).inspect(0, true)
                                     : fcnlab::data::SiimDicomDataset::open(dir).inspect(0, true);
  std::cout << "release: " << siim::release_name(release) << "\n";
  std::cout << "data set: " << dir << "\n" << ins.summary.str();
  if (ins.problems.empty()) {
    std::cout << "problems: none\n";
    return 0;
  }
  std::cout << "problems: " << ins.problems.size() << "\n";
  for (const auto& p : ins.problems) std::cout << "  " << p.str() << "\n";
  if (ins.files_missing())
    std::cout << "files are missing: " << ins.count(fcnlab::data::ProblemKind::missing_image)
              << " images, " << ins.count(fcnlab::data::ProblemKind::missing_mask)
              << " masks\n";
  return 1;
}

const std::vector<Mode> kModes = {
    {"--dataset", "--dataset DIR   summary and problems of a SIIM-ACR data set (PNG or DICOM+RLE)",
     inspect_dataset},
};

void usage(std::FILE* to) {
  std::fprintf(to, "usage: fcnlab-inspect MODE\nmodes:\n");
  for (const Mode& m : kModes) std::fprintf(to, "  %s\n", m.usage);
  std::fprintf(to, "%s", fcnlab::model_inspect_usage().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  if (args.empty()) {
    usage(stderr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    usage(stdout);
    return 0;
  }
  if (fcnlab::is_model_inspect(args)) return fcnlab::model_inspect_main(args, std::cout, std::cerr);
  std::string flag = args[0], value;
  if (auto eq = flag.find('='); eq != std::string::npos) {  // --dataset=DIR
    value = flag.substr(eq + 1);
    flag = flag.substr(0, eq);
    args.erase(args.begin());
  } else if (args.size() >= 2) {
    value = args[1];
    args.erase(args.begin(), args.begin() + 2);
  } else {
    args.erase(args.begin());
  }
  for (const Mode& m : kModes) {
    if (flag != m.flag) continue;
    if (value.empty()) {
      std::fprintf(stderr, "fcnlab-inspect: %s needs a value\n", m.flag);
      usage(stderr);
      return 2;
    }
    try {
      return m.run(value, args);
    } catch (const fcnlab::Error& e) {
      std::fprintf(stderr, "fcnlab-inspect: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "fcnlab-inspect: unknown option '%s'\n", flag.c_str());
  usage(stderr);
  return 2;
}
