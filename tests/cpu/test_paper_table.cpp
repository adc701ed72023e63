// fcnlab-paper-table in its CI-sized mode (tiny input and width, 1-2 trials, 1 thread): runs the
// real binary and checks what it wrote against the models themselves — one CSV row per net and
// task with the parameter count and FLOPs GraphModel::stats gives, consistent statistics, the
// floor as FLOPs / peak, the Markdown table last — and that bad input fails clearly without
// leaving a file behind.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "models/models.h"
#include "tests/common/temp_dir.h"

using namespace fcnlab;

namespace {

struct Run { int status; std::string out; };

// Runs the binary with args (stdout and stderr together).
Run run_table(const std::string& args) {
  const std::string cmd = std::string(FCNLAB_BINARY_DIR) + "/fcnlab-paper-table " + args + " 2>&1";
  Run r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, sep);) out.push_back(t);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

}  // namespace

TEST_CASE("fcnlab-paper-table: CPU smoke run writes one CSV row per net and the Markdown table last") {
  test::TempDir dir("paper_table");
  const std::string csv = dir.str() + "/t.csv";
  const Run r = run_table("--device cpu --size 48 --width 0.0625 --trials 2 --warmup 0 --threads 1 "
                          "--peak-gflops 100 --train-step --train-size 48 --train-batch 2 --train-trials 1 --csv " + csv);
  INFO(r.out);
  REQUIRE(r.status == 0);

  // The table comes last: a header, a separator and one line per row.
  std::vector<std::string> lines = split(r.out, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  REQUIRE(lines.size() >= 6);
  CHECK(lines[lines.size() - 4].rfind("| FCN-AlexNet | forward | 48x48 x1 |", 0) == 0);
  CHECK(lines[lines.size() - 1].rfind("| FCN-8s | train step | 48x48 x2 |", 0) == 0);
  CHECK(lines[lines.size() - 6].rfind("| net | task | input |", 0) == 0);

  std::ifstream f(csv);
  REQUIRE(f.good());
  std::string header;
  std::getline(f, header);
  const std::vector<std::string> cols = split(header, ',');
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < cols.size(); ++i) at[cols[i]] = i;
  for (const char* c : {"framework", "variant", "tf32", "device", "model", "task", "size", "batch", "width",
                        "threads", "trials", "mean_ms", "median_ms", "min_ms", "max_ms", "gflop", "tflops",
                        "peak_tflops", "floor_ms", "paper_k40c_ms", "params"})
    CHECK_MESSAGE(at.count(c) == 1, "column ", c);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(f, line);) rows.push_back(split(line, ','));
  REQUIRE(rows.size() == 4);

  const char* models[] = {"fcn-alexnet", "fcn32s", "fcn-googlenet", "fcn8s"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    REQUIRE(row.size() == cols.size());
    auto v = [&](const char* c) { return row[at[c]]; };
    auto d = [&](const char* c) { return std::stod(row[at[c]]); };
    CAPTURE(models[i]);
    CHECK(v("framework") == "fcnlab");
    CHECK(v("variant") == "cpu");
    CHECK(v("device") == "cpu");
    CHECK(v("model") == models[i]);
    CHECK(v("threads") == "1");
    const bool train = i == 3;
    CHECK(v("task") == (train ? "train_step" : "forward"));
    const int64_t batch = train ? 2 : 1;
    CHECK(std::stoll(v("batch")) == batch);
    CHECK(std::stoll(v("trials")) == (train ? 1 : 2));
    // Parameters and FLOPs are the model's own, computed here independently of the binary.
    auto m = make_model(models[i], ModelOptions{.classes = 21, .in_channels = 3, .width = 0.0625,
                                                .random_init = false});
    double macs = 0;
    int64_t params = 0;
    for (const LayerStats& s : m->stats(batch, 48, 48)) {
      macs += double(s.macs);
      if (!s.fixed) params += s.params;
    }
    CHECK(std::stoll(v("params")) == params);
    const double gflop = 2e-9 * macs * (train ? 3 : 1);
    CHECK(d("gflop") == doctest::Approx(gflop).epsilon(1e-3));
    CHECK(d("min_ms") > 0);
    CHECK(d("min_ms") <= d("median_ms"));
    CHECK(d("median_ms") <= d("max_ms"));
    CHECK(d("min_ms") <= d("mean_ms") + 1e-3);
    CHECK(d("mean_ms") <= d("max_ms") + 1e-3);
    CHECK(d("tflops") == doctest::Approx(d("gflop") / d("mean_ms")).epsilon(1e-2));
    CHECK(d("peak_tflops") == doctest::Approx(0.1));
    CHECK(d("floor_ms") == doctest::Approx(d("gflop") / 0.1).epsilon(1e-2));
    CHECK(v("paper_k40c_ms").empty());  // only a 500x500, batch-1, full-width forward has one
  }
}

TEST_CASE("fcnlab-paper-table: bad options fail with a clear message and leave no CSV") {
  test::TempDir dir("paper_table_bad");
  const std::string csv = dir.str() + "/t.csv";
  Run r = run_table("--models fcn32s,fcn4s --size 48 --width 0.0625 --trials 1 --csv " + csv);
  CHECK(r.status != 0);
  CHECK(r.out.find("--models: unknown model 'fcn4s'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(csv));

  r = run_table("--size 48 --width 0.0625 --trials 1 --csv " + dir.str() + "/missing/t.csv");
  CHECK(r.status != 0);
  CHECK(r.out.find(dir.str() + "/missing/t.csv") != std::string::npos);

  r = run_table("--device tpu");
  CHECK(r.status != 0);
  CHECK(r.out.find("--device") != std::string::npos);

  r = run_table("--trials 0");
  CHECK(r.status != 0);

#if !defined(FCNLAB_WITH_CUDA_KERNELS)
  r = run_table("--device cuda --size 48 --width 0.0625 --trials 1");
  CHECK(r.status != 0);
  CHECK(r.out.find("no CUDA kernels") != std::string::npos);
#endif
  CHECK(std::filesystem::is_empty(dir.path()));  // no temp file left behind either
}
