// inspect_cli.h — the model modes of fcnlab-inspect, as a library function so that tests run
// them in-process (apps/inspect.cpp only dispatches to it):
//   --paper-table                                  Table 1 of the FCN paper, ours beside theirs
//   --model NAME [--classes K] [--channels C] [--width W] [--size HxW] [--batch N]
//                                                  per-layer table and totals
//   --weights FILE | --pretrained FILE             strict load (fcnlab checkpoint, .pth, .safetensors)
//   --input FILE (.png | .npy NCHW f32)            else a synthetic chest phantom
//   --dump L1,L2 --out DIR                         DIR/L1.npy ... ('/' in a name becomes '_')
//   --feature-maps L1,L2 --out DIR                 DIR/L1.png ... channel grids
//   --time [--device cpu|cuda] [--trials N]        per-layer forward time
// Exit codes: 0 done, 1 an error (bad file, unknown layer, ...), 2 a usage error (bad flag).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace fcnlab {

// True when the arguments select a model mode (one of the flags above is present).
bool is_model_inspect(const std::vector<std::string>& args);
// The usage lines of the model modes, for fcnlab-inspect --help.
std::string model_inspect_usage();
// Runs a model mode; args exclude the program name. Errors go to `err`, prefixed
// "fcnlab-inspect: ".
int model_inspect_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// "/" -> "_" (GoogLeNet's "inception_3a/output" -> "inception_3a_output"): the file name stem
// --dump and --feature-maps use for a layer.
std::string layer_file_stem(const std::string& layer);

}  // namespace fcnlab
