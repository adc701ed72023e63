// fcnlab-paper-table — forward times of FCN-AlexNet, FCN-VGG16 (FCN-32s) and FCN-GoogLeNet the
// way the FCN paper's Table 1 reports them (500x500 input, batch 1, mean over 20 trials), beside
// the paper's Tesla K40c times (50 / 210 / 59 ms) and beside the floor this device allows:
// the model's FLOPs (2 x the multiply-accumulates of every conv and of the dense transposed
// convs, from GraphModel::stats) divided by the device's peak rate. Optionally one training step
// of FCN-8s (512x512, batch 8: forward, cross-entropy, backward, SGD update).
//
// Protocol (the same in bench/pytorch_reference.py, so the two CSVs compare row by row):
// random weights and a random input (never zeros), eval mode (no dropout), autograd off,
// `--warmup` untimed passes, then `--trials` passes each timed by the wall clock from the call
// to the end of a device synchronize; mean, median, min and max are reported.
//   --device cpu:  the CPU reference kernels with `--threads` OpenMP threads.
//   --device cuda: each of `--kernels` hand (fcnlab's CUDA kernels), cudnn (cuDNN/cuBLAS,
//                  TF32 off) and cudnn-tf32 (TF32 on: a different precision, stated as such).
// Peak rates: GPU from the device's SM count and max clock times a per-architecture rate table
// (gpu_rates below); CPU from the core count, the max clock (cpufreq, else /proc/cpuinfo) and the
// widest FMA the CPU reports (AVX-512: 64, AVX2+FMA: 32 FP32 FLOP per cycle per core, assuming
// two FMA pipes) — an estimate; --peak-gflops overrides it.
// Output: progress on stderr; a CSV (--csv, written atomically); a Markdown table printed last.
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/autograd.h"
#include "engine/cli.h"
#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "engine/progress.h"
#include "engine/serialize/atomic_file.h"
#include "models/models.h"

#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/runtime.h"
#endif
#if defined(FCNLAB_WITH_CUDNN)
#include "kernels/cudnn/baseline.h"
#endif
#if defined(FCNLAB_GPU_CUDA)
#include <cuda_runtime.h>
#endif

using namespace fcnlab;

namespace {

struct Config {
  std::string device = "cpu";
  std::vector<std::string> kernels = {"hand", "cudnn"};
  std::vector<std::string> models = {"fcn-alexnet", "fcn32s", "fcn-googlenet"};
  int size = 500, batch = 1, trials = 20, warmup = 2, threads = 0;
  double width = 1.0;
  double peak_gflops = 0;  // 0: estimate
  bool train_step = false;
  int train_size = 512, train_batch = 8, train_trials = 5;
  std::string csv;
};

// The paper's Table 1 (Long, Shelhamer, Darrell 2015): forward ms on a Tesla K40c at 500x500.
struct PaperRow { const char* name; const char* label; double k40c_ms; const char* params; };
const PaperRow kPaper[] = {{"fcn-alexnet", "FCN-AlexNet", 50, "57M"},
                           {"fcn32s", "FCN-VGG16 (FCN-32s)", 210, "134M"},
                           {"fcn-googlenet", "FCN-GoogLeNet", 59, "6M"}};
constexpr double kK40cPeakTflops = 4.29;  // FP32 at the 745 MHz base clock (performance.md §1.2)

const PaperRow* paper_row(const std::string& name) {
  for (const PaperRow& r : kPaper)
    if (name == r.name) return &r;
  return nullptr;
}
std::string label_of(const std::string& name) {
  const PaperRow* r = paper_row(name);
  return r ? r->label : name == "fcn8s" ? "FCN-8s" : name;
}

// ---- peak rates

struct Peak {
  double fp32_tflops = 0;  // 0: unknown
  double tf32_tflops = 0;  // tensor cores, dense; 0: none or unknown
  std::string how;         // how the figure was obtained, printed with the table
};

// The max clock of CPU 0 in GHz: cpufreq's cpuinfo_max_freq (kHz), else /proc/cpuinfo's first
// "cpu MHz" (the current clock on most VMs); 0 when neither is readable.
double cpu_ghz(std::string* source) {
  std::ifstream f("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  double khz = 0;
  if (f >> khz && khz > 0) {
    *source = "cpufreq max";
    return khz * 1e-6;
  }
  std::ifstream ci("/proc/cpuinfo");
  for (std::string line; std::getline(ci, line);)
    if (line.rfind("cpu MHz", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        *source = "/proc/cpuinfo cpu MHz";
        return std::stod(line.substr(colon + 1)) * 1e-3;
      }
    }
  return 0;
}

Peak cpu_peak(int threads, double override_gflops) {
  Peak p;
  if (override_gflops > 0) {
    p.fp32_tflops = override_gflops * 1e-3;
    p.how = "--peak-gflops " + std::to_string(override_gflops);
    return p;
  }
  __builtin_cpu_init();
  int per_cycle = 8;  // SSE: a 4-wide add and a 4-wide multiply per cycle
  std::string isa = "SSE";
  if (__builtin_cpu_supports("avx512f")) per_cycle = 64, isa = "AVX-512 (2 FMA pipes assumed)";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) per_cycle = 32, isa = "AVX2+FMA (2 FMA pipes)";
  else if (__builtin_cpu_supports("avx")) per_cycle = 16, isa = "AVX";
  std::string src;
  const double ghz = cpu_ghz(&src);
  const int cores = std::min<int>(threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (ghz <= 0) {
    p.how = "unknown clock (pass --peak-gflops)";
    return p;
  }
  p.fp32_tflops = cores * per_cycle * ghz * 1e-3;
  char buf[200];
  std::snprintf(buf, sizeof buf, "estimate: %d cores x %d FP32 FLOP/cycle (%s) x %.2f GHz (%s)", cores,
                per_cycle, isa.c_str(), ghz, src.c_str());
  p.how = buf;
  return p;
}

#if defined(FCNLAB_GPU_CUDA)
// FP32 lanes per SM (one FMA = 2 FLOP each per clock) and dense TF32 tensor FLOP per SM per clock,
// by compute capability (NVIDIA architecture whitepapers; H100/H200 check: 132 SMs x 128 x 2 x
// 1.98 GHz = 66.9 TFLOPS; 132 x 2048 x 1.83 GHz = 494.7 TFLOPS TF32, performance.md §1.1).
struct GpuRate { int major, minor, fp32_lanes, tf32_per_clk; };
const GpuRate kGpuRates[] = {
    {3, 5, 192, 0}, {3, 7, 192, 0}, {5, 0, 128, 0}, {5, 2, 128, 0}, {6, 0, 64, 0},
    {6, 1, 128, 0}, {7, 0, 64, 0},  {7, 5, 64, 0},  {8, 0, 64, 1024}, {8, 6, 128, 256},
    {8, 7, 128, 256}, {8, 9, 128, 256}, {9, 0, 128, 2048}};

Peak gpu_peak(double override_gflops) {
  Peak p;
  int dev = 0, sms = 0, khz = 0, major = 0, minor = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
  if (override_gflops > 0) {
    p.fp32_tflops = override_gflops * 1e-3;
    p.how = "--peak-gflops " + std::to_string(override_gflops);
    return p;
  }
  const double ghz = khz * 1e-6;
  for (const GpuRate& r : kGpuRates)
    if (r.major == major && r.minor == minor) {
      p.fp32_tflops = sms * r.fp32_lanes * 2.0 * ghz * 1e-3;
      p.tf32_tflops = sms * double(r.tf32_per_clk) * ghz * 1e-3;
      char buf[260];
      std::snprintf(buf, sizeof buf,
                    "cc %d.%d: %d SMs x %d FP32 lanes x 2 x %.2f GHz (max clock) = %.1f TFLOPS FP32; "
                    "TF32 dense %d FLOP/clk/SM -> %.1f TFLOPS at the same clock (NVIDIA quotes its "
                    "tensor peak at a lower clock, so this floor is, if anything, optimistic)",
                    major, minor, sms, r.fp32_lanes, ghz, p.fp32_tflops, r.tf32_per_clk, p.tf32_tflops);
      p.how = buf;
      return p;
    }
  p.how = "cc " + std::to_string(major) + "." + std::to_string(minor) +
          " is not in the rate table (pass --peak-gflops)";
  return p;
}
#endif

// ---- timing

struct Timing {
  std::vector<double> ms;
  double mean() const { return std::accumulate(ms.begin(), ms.end(), 0.0) / double(ms.size()); }
  double median() const {
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  }
  double min() const { return *std::min_element(ms.begin(), ms.end()); }
  double max() const { return *std::max_element(ms.begin(), ms.end()); }
};

void sync(const Device& d) {
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  if (!d.is_cpu()) kernels::cuda::synchronize();
#else
  (void)d;
#endif
}

// Runs fn warmup + trials times; times the trials (wall clock up to a device synchronize).
Timing time_it(const std::function<void()>& fn, const Device& dev, int warmup, int trials,
               const std::string& label) {
  for (int i = 0; i < warmup; ++i) fn();
  sync(dev);
  Timing t;
  Progress progress(trials, 1, label);
  for (int i = 0; i < trials; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    sync(dev);
    const auto t1 = std::chrono::steady_clock::now();
    t.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    char extra[48];
    std::snprintf(extra, sizeof extra, "%.2f ms", t.ms.back());
    progress.update(i + 1, extra);
  }
  progress.finish();
  return t;
}

// One result row; the CSV columns are shared with bench/pytorch_reference.py.
struct Row {
  std::string variant, model, task;
  int size = 0, batch = 0, threads = 0, trials = 0, warmup = 0;
  bool tf32 = false;
  double width = 1;
  Timing t;
  double gflop = 0, peak_tflops = 0, paper_ms = 0;  // 0: none
  int64_t params = 0;
};

const char* kCsvHeader =
    "framework,variant,tf32,device,model,task,size,batch,width,threads,trials,warmup,mean_ms,median_ms,"
    "min_ms,max_ms,gflop,tflops,peak_tflops,floor_ms,paper_k40c_ms,params\n";

std::string fmt(double v, const char* f = "%.3f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string csv_line(const Row& r, const std::string& device) {
  std::ostringstream s;
  const double mean = r.t.mean();
  s << "fcnlab," << r.variant << "," << (r.tf32 ? 1 : 0) << "," << device << "," << r.model << ","
    << r.task << "," << r.size << "," << r.batch << "," << r.width << "," << r.threads << ","
    << r.trials << "," << r.warmup << "," << fmt(mean) << "," << fmt(r.t.median()) << ","
    << fmt(r.t.min()) << "," << fmt(r.t.max()) << "," << fmt(r.gflop, "%.4f") << ","
    << fmt(r.gflop / mean, "%.4f") << "," << (r.peak_tflops > 0 ? fmt(r.peak_tflops, "%.2f") : "") << ","
    << (r.peak_tflops > 0 ? fmt(r.gflop / r.peak_tflops) : "") << ","
    << (r.paper_ms > 0 ? fmt(r.paper_ms, "%.0f") : "") << "," << r.params << "\n";
  return s.str();
}

// 2 x multiply-accumulates of the whole net (dense transposed convs), in GFLOP; learned params.
void count(const GraphModel& m, int64_t n, int64_t size, double* gflop, int64_t* params) {
  double macs = 0;
  int64_t p = 0;
  for (const LayerStats& s : m.stats(n, size, size)) {
    macs += double(s.macs);
    if (!s.fixed) p += s.params;
  }
  *gflop = 2.0 * macs * 1e-9;
  *params = p;
}

// Selects the CUDA kernel source for a variant; false (with *why) when this build cannot.
bool select_kernels(const std::string& variant, std::string* why) {
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  using kernels::cuda::KernelSource;
  if (variant == "hand") {
    kernels::cuda::set_kernel_source(KernelSource::hand);
    return true;
  }
#if defined(FCNLAB_WITH_CUDNN)
  kernels::cuda::set_kernel_source(KernelSource::cudnn);
  kernels::cudnn::set_tf32(variant == "cudnn-tf32");
  return true;
#else
  *why = "this build has no cuDNN baseline";
  return false;
#endif
#else
  (void)variant;
  *why = "this build has no CUDA kernels";
  return false;
#endif
}

int run(Config c) {
  const bool cuda = c.device == "cuda";
  Device dev = Device::cpu();
  Peak peak;
  std::string device_name;
  if (cuda) {
#if defined(FCNLAB_WITH_CUDA_KERNELS)
    std::string why;
    FCNLAB_CHECK(kernels::cuda::device_available(&why), "--device cuda: no usable CUDA device (", why, ")");
    dev = Device::cuda();
    device_name = kernels::cuda::device_description();
#if defined(FCNLAB_GPU_CUDA)
    peak = gpu_peak(c.peak_gflops);
#else
    peak.how = "SIMT emulation on the CPU: no meaningful peak";
#endif
#else
    FCNLAB_FAIL("--device cuda: this build of fcnlab has no CUDA kernels (configure with FCNLAB_GPU=cuda)");
#endif
  } else {
    if (c.threads > 0) omp_set_num_threads(c.threads);
    c.threads = omp_get_max_threads();
    peak = cpu_peak(c.threads, c.peak_gflops);
    device_name = "CPU, " + std::to_string(c.threads) + " threads";
    c.kernels = {"cpu"};
  }
  for (const std::string& k : c.kernels)
    FCNLAB_CHECK(!cuda || k == "hand" || k == "cudnn" || k == "cudnn-tf32",
                 "--kernels: unknown '", k, "' (expected hand, cudnn or cudnn-tf32)");
  for (const std::string& m : c.models) {
    const auto& names = model_names();
    FCNLAB_CHECK(std::find(names.begin(), names.end(), m) != names.end(), "--models: unknown model '", m, "'");
  }
  // Open the CSV before the long work, so a bad path fails at once (nothing is written until
  // commit, and an error on the way leaves no file).
  std::unique_ptr<AtomicFile> csv;
  if (!c.csv.empty()) csv = std::make_unique<AtomicFile>(c.csv);

  std::printf("fcnlab-paper-table: %s; %s; input %dx%d, batch %d, width %g; %d warm-up + %d timed "
              "trials each (wall clock to device sync)\n",
              c.device.c_str(), device_name.c_str(), c.size, c.size, c.batch, c.width, c.warmup, c.trials);
  std::printf("peak: %s\n", peak.how.c_str());
  std::fflush(stdout);

  std::vector<Row> rows;
  Generator gen(7);
  const Tensor x_host = Tensor::uniform({c.batch, 3, c.size, c.size}, -1, 1, gen);
  for (const std::string& name : c.models) {
    ModelOptions mo{.classes = 21, .in_channels = 3, .width = c.width, .dropout = false, .seed = 1};
    auto model = make_model(name, mo);
    model->eval();
    Row base;
    base.model = name;
    base.task = "forward";
    base.size = c.size, base.batch = c.batch, base.width = c.width, base.threads = cuda ? 0 : c.threads;
    base.trials = c.trials, base.warmup = c.warmup;
    count(*model, c.batch, c.size, &base.gflop, &base.params);
    if (const PaperRow* p = paper_row(name); p && c.size == 500 && c.batch == 1 && c.width == 1.0)
      base.paper_ms = p->k40c_ms;
    model->to(dev);
    const Tensor x = x_host.to(dev);
    for (const std::string& variant : c.kernels) {
      std::string why;
      if (cuda && !select_kernels(variant, &why)) {
        std::fprintf(stderr, "%s / %s: skipped (%s)\n", name.c_str(), variant.c_str(), why.c_str());
        continue;
      }
      Row r = base;
      r.variant = variant;
      r.tf32 = variant == "cudnn-tf32";
      r.peak_tflops = r.tf32 ? peak.tf32_tflops : peak.fp32_tflops;
      NoGrad ng;
      r.t = time_it([&] { Tensor y = model->forward(x); }, dev, c.warmup, c.trials, name + " " + variant);
      rows.push_back(r);
    }
  }

  if (c.train_step) {
    const std::string name = "fcn8s";
    ModelOptions mo{.classes = 21, .in_channels = 3, .width = c.width, .dropout = true, .seed = 1};
    auto model = make_model(name, mo);
    model->train();
    Row base;
    base.model = name;
    base.task = "train_step";
    base.size = c.train_size, base.batch = c.train_batch, base.width = c.width;
    base.threads = cuda ? 0 : c.threads, base.trials = c.train_trials, base.warmup = 1;
    count(*model, c.train_batch, c.train_size, &base.gflop, &base.params);
    base.gflop *= 3;  // forward + data gradient + weight gradient: about 3x the forward
    model->to(dev);
    SGD opt(model->named_parameters(), SgdOptions{.lr = 1e-4, .momentum = 0.9, .weight_decay = 5e-4});
    Generator tg(11);
    const Tensor xt = Tensor::uniform({c.train_batch, 3, c.train_size, c.train_size}, -1, 1, tg).to(dev);
    const Tensor target = Tensor::uniform({c.train_batch, c.train_size, c.train_size}, 0, 20.999, tg)
                              .to(DType::i32).to(dev);
    for (const std::string& variant : c.kernels) {
      std::string why;
      if (cuda && !select_kernels(variant, &why)) {
        std::fprintf(stderr, "%s train / %s: skipped (%s)\n", name.c_str(), variant.c_str(), why.c_str());
        continue;
      }
      Row r = base;
      r.variant = variant;
      r.tf32 = variant == "cudnn-tf32";
      r.peak_tflops = r.tf32 ? peak.tf32_tflops : peak.fp32_tflops;
      double loss_v = 0;
      r.t = time_it(
          [&] {
            opt.zero_grad();
            Tensor loss = cross_entropy(model->forward(xt), target);
            loss.backward();
            opt.step();
            loss_v = loss.to(Device::cpu()).item();
          },
          dev, 1, c.train_trials, "fcn8s train " + variant);
      FCNLAB_CHECK(std::isfinite(loss_v), "training step: the loss is ", loss_v, " (not finite)");
      rows.push_back(r);
    }
  }

  if (csv) {
    csv->write(kCsvHeader);
    for (const Row& r : rows) csv->write(csv_line(r, c.device));
    csv->commit();
  }

  // ---- the table, last
  std::printf("\n");
  std::printf("Device: %s. Floor = FLOPs / peak (%s). FLOPs = 2 x MACs of every conv and dense "
              "transposed conv; a training step counts 3 x its forward. Paper: Tesla K40c, Caffe, "
              "500x500, batch 1 (K40c FP32 peak %.2f TFLOPS at base clock).%s\n\n",
              device_name.c_str(), peak.how.c_str(), kK40cPeakTflops,
              cuda ? " Precision: fp32 everywhere; TF32 only in the cudnn-tf32 rows." : "");
  std::printf("| net | task | input | params | GFLOP | kernels | mean ms | median ms | TFLOP/s | floor ms | "
              "%% of peak | paper K40c ms | paper %% of K40c peak |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    const double mean = r.t.mean(), tflops = r.gflop / mean;
    const std::string floor_ms = r.peak_tflops > 0 ? fmt(r.gflop / r.peak_tflops, "%.2f") : "-";
    const std::string pct = r.peak_tflops > 0 ? fmt(100.0 * tflops / r.peak_tflops, "%.1f%%") : "-";
    const std::string paper = r.paper_ms > 0 ? fmt(r.paper_ms, "%.0f") : "-";
    const std::string paper_pct =
        r.paper_ms > 0 ? fmt(100.0 * r.gflop / r.paper_ms / kK40cPeakTflops, "%.0f%%") : "-";
    std::printf("| %s | %s | %dx%d x%d | %.2fM | %.1f | %s | %.2f | %.2f | %.3f | %s | %s | %s | %s |\n",
                label_of(r.model).c_str(), r.task == "forward" ? "forward" : "train step",
                r.size, r.size, r.batch, double(r.params) * 1e-6, r.gflop, r.variant.c_str(), mean,
                r.t.median(), tflops, floor_ms.c_str(), pct.c_str(), paper.c_str(), paper_pct.c_str());
  }
  return 0;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string tok; std::getline(ss, tok, ',');)
    if (!tok.empty()) out.push_back(tok);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Forward times of FCN-AlexNet, FCN-VGG16 and FCN-GoogLeNet beside the FCN paper's "
               "Table 1 (K40c) and the device's floor; optionally an FCN-8s training step"};
  fcnlab::cli::use_fcnlab_errors(app, "fcnlab-paper-table");
  Config c;
  std::string kernels = "hand,cudnn", models = "fcn-alexnet,fcn32s,fcn-googlenet";
  app.add_option("--device", c.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--kernels", kernels, "cuda: comma list of hand, cudnn, cudnn-tf32");
  app.add_option("--models", models, "comma list of model names (fcnlab's zoo)");
  app.add_option("--size", c.size, "input side in pixels (the paper: 500)")->check(fcnlab::cli::in_range(16, 4096));
  app.add_option("--batch", c.batch, "images per forward (the paper: 1)")->check(fcnlab::cli::in_range(1, 1024));
  app.add_option("--width", c.width, "channel multiplier (1 = the paper's nets; smaller for smoke runs)")
      ->check(fcnlab::cli::in_range(0.001, 4.0));
  app.add_option("--trials", c.trials, "timed passes per net (the paper: 20)")->check(fcnlab::cli::in_range(1, 100000));
  app.add_option("--warmup", c.warmup, "untimed passes first")->check(fcnlab::cli::in_range(0, 1000));
  app.add_option("--threads", c.threads, "cpu: OpenMP threads (default: OMP_NUM_THREADS or all cores)")
      ->check(fcnlab::cli::in_range(1, 1024));
  app.add_option("--peak-gflops", c.peak_gflops, "the device's FP32 peak in GFLOP/s (default: estimated)")
      ->check(fcnlab::cli::positive());
  app.add_flag("--train-step", c.train_step, "also time an FCN-8s training step (SGD, cross-entropy)");
  app.add_option("--train-size", c.train_size, "training step input side (default 512)")->check(fcnlab::cli::in_range(16, 4096));
  app.add_option("--train-batch", c.train_batch, "training step batch (default 8)")->check(fcnlab::cli::in_range(1, 1024));
  app.add_option("--train-trials", c.train_trials, "timed training steps (default 5)")->check(fcnlab::cli::in_range(1, 100000));
  app.add_option("--csv", c.csv, "write the rows to this CSV file (columns shared with pytorch_reference.py)");
  CLI11_PARSE(app, argc, argv);
  try {
    c.kernels = split_list(kernels);
    c.models = split_list(models);
    FCNLAB_CHECK(!c.kernels.empty(), "--kernels: empty list");
    FCNLAB_CHECK(!c.models.empty(), "--models: empty list");
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nfcnlab-paper-table: error: %s\n", e.what());
    return 1;
  }
}
