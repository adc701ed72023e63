// describe.cpp — see describe.h.
#include "models/describe.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "models/models.h"

namespace fcnlab {

namespace {

// Columns of text, each left- or right-aligned, widths from the content.
class TextTable {
 public:
  struct Column {
    std::string title;
    bool right = false;
  };
  explicit TextTable(std::vector<Column> cols) : cols_(std::move(cols)) {}
  void add(std::vector<std::string> row) {
    FCNLAB_CHECK(row.size() == cols_.size(), "TextTable: row of ", row.size(), " cells for ",
                 cols_.size(), " columns");
    rows_.push_back(std::move(row));
  }
  std::string str() const {
    std::vector<size_t> w(cols_.size());
    for (size_t c = 0; c < cols_.size(); ++c) {
      w[c] = cols_[c].title.size();
      for (const auto& r : rows_) w[c] = std::max(w[c], r[c].size());
    }
    std::ostringstream os;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string s;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string pad(w[c] - cells[c].size(), ' ');
        if (c) s += "  ";
        s += cols_[c].right ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : "");
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      os << s << "\n";
    };
    std::vector<std::string> titles;
    for (const auto& c : cols_) titles.push_back(c.title);
    line(titles);
    size_t total = 0;
    for (size_t c = 0; c < w.size(); ++c) total += w[c] + (c ? 2 : 0);
    os << std::string(total, '-') << "\n";
    for (const auto& r : rows_) line(r);
    return os.str();
  }

 private:
  std::vector<Column> cols_;
  std::vector<std::vector<std::string>> rows_;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string mib(int64_t bytes) { return fmt("%.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

std::string shape_text(const Shape& s) {
  std::string t;
  for (int i = 0; i < s.ndim(); ++i) {
    if (i) t += 'x';
    t += std::to_string(s[i]);
  }
  return t;
}

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

ModelTotals model_totals(const GraphModel& g, const std::vector<LayerStats>& stats) {
  const auto& layers = g.layers();
  FCNLAB_CHECK(stats.size() == layers.size(), "model_totals: ", stats.size(), " stats for ",
               layers.size(), " layers");
  ModelTotals t;
  for (const auto& s : stats) {
    t.params += s.params;
    if (!s.fixed) t.params_learned += s.params;
    t.macs += s.macs;
    t.activation_bytes += s.out.numel() * 4;
  }
  const LayerStats& score = stats[static_cast<size_t>(g.index(g.score_layer()))];
  t.score_layer = score.name;
  t.rf = score.rf;
  t.stride = score.stride;
  t.depth = score.depth;

  // Replays GraphModel's forward: each output lives from its layer to its last reader (the
  // model's output to the end), so the peak is what an inference pass holds at once.
  const int out = g.index(g.output_name());
  std::vector<int> last_use(layers.size(), -1);
  for (int i = 0; i <= out; ++i)
    for (int j : layers[static_cast<size_t>(i)].inputs) last_use[static_cast<size_t>(j)] = i;
  last_use[static_cast<size_t>(out)] = out + 1;
  int64_t live = 0;
  for (int i = 0; i <= out; ++i) {
    live += stats[static_cast<size_t>(i)].out.numel() * 4;
    t.peak_bytes = std::max(t.peak_bytes, live);
    const auto& in = layers[static_cast<size_t>(i)].inputs;
    for (int j : std::set<int>(in.begin(), in.end()))
      if (last_use[static_cast<size_t>(j)] == i) live -= stats[static_cast<size_t>(j)].out.numel() * 4;
  }
  return t;
}

std::string layer_table(const GraphModel& g, int64_t n, int64_t h, int64_t w) {
  const std::vector<LayerStats> st = g.stats(n, h, w);
  TextTable table({{"layer"}, {"type"}, {"output (NxCxHxW)"}, {"params", true}, {"rf", true},
                   {"stride", true}, {"MACs", true}, {"reads"}});
  for (size_t i = 0; i < st.size(); ++i) {
    const LayerStats& s = st[i];
    // Only name the inputs when the layer does not simply read the row above.
    std::string reads;
    if (!(s.inputs.size() == 1 && i > 0 && s.inputs[0] == st[i - 1].name))
      for (const auto& in : s.inputs) reads += (reads.empty() ? "" : ", ") + in;
    table.add({s.name, s.type, shape_text(s.out), s.params ? with_commas(s.params) : "",
               std::to_string(s.rf), fmt("%g", s.stride), s.macs ? with_commas(s.macs) : "", reads});
  }
  const ModelTotals t = model_totals(g, st);
  std::ostringstream os;
  os << g.type_name() << " at " << n << "x" << g.in_channels() << "x" << h << "x" << w << ", "
     << st.size() << " layers\n\n"
     << table.str() << "\n"
     << "parameters   " << with_commas(t.params) << " (" << with_commas(t.params_learned)
     << " learned, " << with_commas(t.params - t.params_learned)
     << " in fixed bilinear upsampling)\n"
     << "MACs         " << with_commas(t.macs) << " = " << fmt("%.2f", t.gflops())
     << " GFLOPs (2 x MACs; transposed convolutions counted dense, as executed)\n"
     << "activations  " << mib(t.activation_bytes) << " f32 for all layer outputs (kept for "
     << "training); peak " << mib(t.peak_bytes) << " in an inference pass\n"
     << "score layer  " << t.score_layer << ": rf " << t.rf << ", stride " << fmt("%g", t.stride)
     << ", " << t.depth << " conv layers deep\n";
  return os.str();
}

std::string time_table(const GraphModel& g, const std::vector<LayerStats>& st,
                       const std::vector<double>& layer_ms, double total_ms, int trials,
                       const std::string& device, const std::vector<std::string>* kernels) {
  FCNLAB_CHECK(layer_ms.size() == st.size(), "time_table: ", layer_ms.size(), " times for ",
               st.size(), " layers");
  FCNLAB_CHECK(!kernels || kernels->size() == st.size(), "time_table: ", kernels ? kernels->size() : 0,
               " kernel names for ", st.size(), " layers");
  std::vector<TextTable::Column> cols = {{"layer"}, {"type"}, {"output (NxCxHxW)"}, {"ms", true},
                                         {"%", true}, {"GFLOP/s", true}};
  if (kernels) cols.push_back({"kernel"});
  TextTable table(cols);
  double sum_ms = 0;
  for (size_t i = 1; i < st.size(); ++i) sum_ms += layer_ms[i];
  for (size_t i = 1; i < st.size(); ++i) {
    const double ms = layer_ms[i];
    std::vector<std::string> row = {
        st[i].name, st[i].type, shape_text(st[i].out), fmt("%.3f", ms),
        fmt("%.1f", sum_ms > 0 ? 100.0 * ms / sum_ms : 0.0),
        st[i].macs && ms > 0 ? fmt("%.1f", 2.0 * static_cast<double>(st[i].macs) / (ms * 1e6)) : ""};
    if (kernels) row.push_back((*kernels)[i]);
    table.add(row);
  }
  const ModelTotals t = model_totals(g, st);
  std::ostringstream os;
  os << table.str() << "\n"
     << "layers   " << fmt("%.3f", sum_ms) << " ms summed (each layer timed with a device sync "
     << "after it)\n"
     << "forward  " << fmt("%.3f", total_ms) << " ms, mean of " << trials
     << " runs after a warm-up on " << device << ": "
     << fmt("%.1f", total_ms > 0 ? t.gflops() / (total_ms * 1e-3) : 0.0) << " GFLOP/s over "
     << fmt("%.2f", t.gflops()) << " GFLOPs\n";
  return os.str();
}

const std::vector<PaperTable1Column>& paper_table1() {
  // ../shared/reference/fcn.md §1.1, exactly as printed.
  static const std::vector<PaperTable1Column> cols = {
      {"FCN-AlexNet", "fcn-alexnet", "39.8", "50 ms", 8, "57M", 355, 32},
      {"FCN-VGG16", "fcn32s", "56.0", "210 ms", 16, "134M", 404, 32},
      {"FCN-GoogLeNet", "fcn-googlenet", "42.5", "59 ms", 22, "6M", 907, 32},
  };
  return cols;
}

Table1Numbers table1_numbers(const std::string& model, int64_t size) {
  auto g = make_model(model, ModelOptions{.classes = 21, .in_channels = 3, .random_init = false});
  const ModelTotals t = model_totals(*g, g->stats(1, size, size));
  Table1Numbers r;
  r.conv_layers = t.depth;
  r.params_learned = t.params_learned;
  r.params_all = t.params;
  r.rf = t.rf;
  r.stride = t.stride;
  r.macs = t.macs;
  return r;
}

std::string paper_table() {
  constexpr int64_t kSize = 500;
  // BVLC GoogLeNet's final average pool: 7x7, discarded by the paper (§4.1) but apparently
  // counted in its rf of 907.
  constexpr int kGoogLeNetPoolWindow = 7;
  TextTable table([&] {
    std::vector<TextTable::Column> c = {{""}};
    for (const auto& p : paper_table1()) {
      c.push_back({std::string(p.net).substr(4), true});  // "AlexNet": "FCN-" said above
      c.push_back({"paper", true});
    }
    return c;
  }());
  std::vector<Table1Numbers> ours;
  for (const auto& p : paper_table1()) ours.push_back(table1_numbers(p.model, kSize));
  auto row = [&](const std::string& what, auto ours_cell, auto paper_cell) {
    std::vector<std::string> r = {what};
    for (size_t i = 0; i < ours.size(); ++i) {
      r.push_back(ours_cell(i));
      r.push_back(paper_cell(i));
    }
    table.add(r);
  };
  const auto& paper = paper_table1();
  auto none = [](size_t) { return std::string("-"); };
  row("mean IU (VOC2011 val)", none, [&](size_t i) { return std::string(paper[i].mean_iu); });
  row("forward time (K40c)", none, [&](size_t i) { return std::string(paper[i].forward); });
  row("conv. layers", [&](size_t i) { return std::to_string(ours[i].conv_layers); },
      [&](size_t i) { return std::to_string(paper[i].conv_layers); });
  row("params, excl. fixed upsampling", [&](size_t i) { return with_commas(ours[i].params_learned); },
      [&](size_t i) { return std::string(paper[i].params); });
  row("params, incl. fixed upsampling", [&](size_t i) { return with_commas(ours[i].params_all); },
      none);
  row("rf size",
      [&](size_t i) {
        std::string s = std::to_string(ours[i].rf);
        if (std::string(paper[i].model) == "fcn-googlenet")
          s += " / " + std::to_string(ours[i].rf + (kGoogLeNetPoolWindow - 1) *
                                                       static_cast<int64_t>(ours[i].stride)) + " *";
        return s;
      },
      [&](size_t i) { return std::to_string(paper[i].rf); });
  row("max stride", [&](size_t i) { return fmt("%g", ours[i].stride); },
      [&](size_t i) { return std::to_string(paper[i].max_stride); });
  row("GFLOPs (2 x MACs)",
      [&](size_t i) { return fmt("%.2f", 2.0 * static_cast<double>(ours[i].macs) * 1e-9); }, none);

  std::ostringstream os;
  os << "Table 1 of Long, Shelhamer & Darrell, \"Fully Convolutional Networks for Semantic "
        "Segmentation\" (CVPR 2015),\n"
        "recomputed from fcnlab's model definitions at "
     << kSize << "x" << kSize << ", 21 classes, 3 input channels; the paper's values beside.\n"
     << "Columns: FCN-AlexNet = fcnlab's " << paper[0].model << ", FCN-VGG16 = " << paper[1].model
     << ", FCN-GoogLeNet = " << paper[2].model << ".\n\n"
     << table.str() << "\n"
     << "How fcnlab counts:\n"
        "  conv. layers  parameter layers on the longest path to score_fr (convolutions, fc6/fc7 as\n"
        "                convolutions, score_fr; no upsampling).\n"
        "  parameters    weights + biases. The paper's counts exclude the fixed bilinear upsampling\n"
        "                filters (upscore, 21x21x63x63 for AlexNet/GoogLeNet, 21x21x64x64 for VGG16).\n"
        "  rf size       receptive field of one score_fr unit in input pixels; max stride: its stride.\n"
        "  GFLOPs        2 x multiply-accumulates of every convolution and of the transposed\n"
        "                convolution counted dense, as Caffe executes it (all 21x21 class pairs);\n"
        "                ReLU, pooling, LRN, crop not counted.\n"
        "  * GoogLeNet rf: "
     << ours[2].rf << " at score_fr on inception_5b; "
     << ours[2].rf + (kGoogLeNetPoolWindow - 1) * static_cast<int64_t>(ours[2].stride)
     << " = " << ours[2].rf << " + " << kGoogLeNetPoolWindow - 1 << "*" << fmt("%g", ours[2].stride)
     << "\n"
        "    when the 7x7 average-pool window (pool5/7x7_s1) is counted. The paper discards that\n"
        "    pool (sec. 4.1) yet prints 907, so its rf counts the 7x7 window.\n"
        "  mean IU and forward time are the paper's measurements (VOC2011 val; Tesla K40c, 20 "
        "trials),\n"
        "    not recomputed here; fcnlab-paper-table times our three nets under the paper's\n"
        "    protocol, fcnlab-inspect --model NAME --time layer by layer.\n";
  return os.str();
}

}  // namespace fcnlab
