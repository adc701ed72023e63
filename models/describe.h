// describe.h — a model as text, for fcnlab-inspect: the per-layer table (name, type, output
// shape, parameters, receptive field, stride, MACs) with totals, and the FCN paper's Table 1
// recomputed from fcnlab's own definitions beside the values the paper printed
// (../shared/reference/fcn.md §1.1 and §3). Nothing here runs a forward pass: everything comes
// from GraphModel::stats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/graph.h"

namespace fcnlab {

// Totals over a model's layers at one input size.
struct ModelTotals {
  int64_t params = 0;          // every parameter element
  int64_t params_learned = 0;  // without the fixed (never trained) bilinear upsampling filters
  int64_t macs = 0;            // multiply-accumulates; transposed convolutions counted dense
  int64_t activation_bytes = 0;  // f32 bytes of all layer outputs (what training keeps)
  int64_t peak_bytes = 0;        // f32 bytes alive at once in an inference forward pass
                                 // (outputs freed after their last reader, as GraphModel does)
  // At the coarse score layer (score_fr for the FCNs): what Table 1 describes.
  std::string score_layer;
  int64_t rf = 0;
  double stride = 0;
  int depth = 0;
  double gflops() const { return 2.0 * static_cast<double>(macs) * 1e-9; }
};
ModelTotals model_totals(const GraphModel& g, const std::vector<LayerStats>& stats);

// The layer table and the totals for an (N, C, H, W) input, as fcnlab-inspect --model prints it.
std::string layer_table(const GraphModel& g, int64_t n, int64_t h, int64_t w);

// The per-layer forward time table (fcnlab-inspect --time): layer_ms[i] is the mean time of
// layer i (the input layer's is ignored; % is of the layers' sum), total_ms the mean whole
// forward pass timed without per-layer syncs, GFLOP/s from each layer's MACs. `kernels`, when
// given (one entry per layer, "" for none), adds a column naming the kernel each layer ran.
std::string time_table(const GraphModel& g, const std::vector<LayerStats>& stats,
                       const std::vector<double>& layer_ms, double total_ms, int trials,
                       const std::string& device, const std::vector<std::string>* kernels = nullptr);

// ---- Table 1 of Long, Shelhamer & Darrell (CVPR 2015 / arXiv v2), as printed.
struct PaperTable1Column {
  const char* net;         // the paper's column: "FCN-AlexNet"
  const char* model;       // the fcnlab model it maps to: "fcn-alexnet"
  const char* mean_iu;     // PASCAL VOC 2011 val: "39.8"
  const char* forward;     // on a Tesla K40c, 500x500, mean of 20 trials: "50 ms"
  int conv_layers;         // 8
  const char* params;      // "57M"
  int rf;                  // 355
  int max_stride;          // 32
};
const std::vector<PaperTable1Column>& paper_table1();

// What fcnlab's definition of one Table 1 column gives (21 classes, 3 channels, size x size).
struct Table1Numbers {
  int conv_layers = 0;
  int64_t params_learned = 0, params_all = 0;
  int64_t rf = 0;
  double stride = 0;
  int64_t macs = 0;
};
Table1Numbers table1_numbers(const std::string& model, int64_t size = 500);

// fcnlab-inspect --paper-table: the three columns, ours beside the paper's, and notes on how
// each number is counted (the GoogLeNet rf note: 715 at score_fr, 907 with the discarded 7x7
// average-pool window, +6*32).
std::string paper_table();

// "134,346,581"
std::string with_commas(int64_t v);
// "1x64x698x698"
std::string shape_text(const Shape& s);

}  // namespace fcnlab
