// models/describe and models/feature_maps: the paper table holds Table 1's exact numbers beside
// the paper's printed ones, the layer table's rows and totals match the reference derivation
// (../shared/reference/fcn.md §3 and §5), the inference peak memory replays the graph, and the
// feature-map grid puts each min-max normalised channel where it belongs.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "engine/error.h"
#include "models/describe.h"
#include "models/feature_maps.h"
#include "models/models.h"

using namespace fcnlab;

namespace {

// The line of `text` that starts with `prefix` ("" when none).
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

// The whitespace-separated cells after the row label `label` (which may hold spaces).
std::vector<std::string> cells(const std::string& text, const std::string& label) {
  std::istringstream is(line_starting(text, label).substr(label.size()));
  std::vector<std::string> v;
  for (std::string c; is >> c;) v.push_back(c);
  return v;
}

}  // namespace

TEST_CASE("paper table: Table 1 recomputed, with the paper's printed values beside") {
  const std::string t = paper_table();
  INFO(t);
  // ours, paper for AlexNet, VGG16, GoogLeNet
  CHECK(cells(t, "conv. layers") == std::vector<std::string>{"8", "8", "16", "16", "22", "22"});
  CHECK(cells(t, "params, excl. fixed upsampling") ==
        std::vector<std::string>{"56,954,261", "57M", "134,346,581", "134M", "5,995,077", "6M"});
  CHECK(cells(t, "params, incl. fixed upsampling") ==
        std::vector<std::string>{"58,704,590", "-", "136,152,917", "-", "7,745,406", "-"});
  CHECK(cells(t, "rf size") ==
        std::vector<std::string>{"355", "355", "404", "404", "715", "/", "907", "*", "907"});
  CHECK(cells(t, "max stride") == std::vector<std::string>{"32", "32", "32", "32", "32", "32"});
  CHECK(cells(t, "mean IU (VOC2011 val)") == std::vector<std::string>{"-", "39.8", "-", "56.0", "-", "42.5"});
  CHECK(cells(t, "forward time (K40c)") ==
        std::vector<std::string>{"-", "50", "ms", "-", "210", "ms", "-", "59", "ms"});
  // 2 x 21,424,487,968 and 2 x 181,365,854,976 MACs (reference/fcn.md §5)
  const auto g = cells(t, "GFLOPs (2 x MACs)");
  REQUIRE(g.size() == 6);
  CHECK(g[0] == "42.85");
  CHECK(g[2] == "362.73");
  CHECK(t.find("907 = 715 + 6*32\n    when the 7x7 average-pool window") != std::string::npos);
  CHECK(t.find("FCN-VGG16 = fcn32s") != std::string::npos);
}

TEST_CASE("paper table data: the values the paper printed") {
  const auto& p = paper_table1();
  REQUIRE(p.size() == 3);
  CHECK(std::string(p[0].net) == "FCN-AlexNet");
  CHECK(std::string(p[0].mean_iu) == "39.8");
  CHECK(std::string(p[1].forward) == "210 ms");
  CHECK(std::string(p[2].params) == "6M");
  CHECK(p[0].rf == 355);
  CHECK(p[1].rf == 404);
  CHECK(p[2].rf == 907);
  CHECK(p[1].conv_layers == 16);
  const Table1Numbers alex = table1_numbers("fcn-alexnet");
  CHECK(alex.params_learned == 56954261);
  CHECK(alex.params_all == 58704590);
  CHECK(alex.macs == 21424487968LL);
  CHECK(alex.rf == 355);
  CHECK(alex.stride == 32);
  CHECK(alex.conv_layers == 8);
}

TEST_CASE("layer table: FCN-32s rows and totals at 500x500 match the reference derivation") {
  auto g = make_model("fcn32s", ModelOptions{.classes = 21, .in_channels = 3, .random_init = false});
  const std::string t = layer_table(*g, 1, 500, 500);
  INFO(t);
  CHECK(cells(t, "conv1_1 ") ==
        std::vector<std::string>{"Conv2d", "3x3", "s1", "p100", "1x64x698x698", "1,792", "3", "1",
                                 "841,888,512"});
  CHECK(cells(t, "fc6 ") == std::vector<std::string>{"Conv2d", "7x7", "s1", "p0", "1x4096x16x16",
                                                     "102,764,544", "404", "32", "26,306,674,688"});
  CHECK(cells(t, "upscore ")[4] == "1x21x544x544");
  // upscore's rf: score_fr's 404 + one more stride-32 step of its 64-wide window
  CHECK(cells(t, "score ") == std::vector<std::string>{"Crop", "+19+19", "1x21x500x500", "436", "1",
                                                       "upscore,", "data"});
  CHECK(t.find("parameters   136,152,917 (134,346,581 learned, 1,806,336 in fixed bilinear "
               "upsampling)") != std::string::npos);
  CHECK(t.find("MACs         181,365,854,976 = 362.73 GFLOPs") != std::string::npos);
  CHECK(t.find("score layer  score_fr: rf 404, stride 32, 16 conv layers deep") != std::string::npos);
}

TEST_CASE("model totals: activation bytes sum every output and the peak replays the graph") {
  Generator gen(1);
  GraphModel g("tiny", 1);
  g.conv("c1", "data", 2, 3, Conv2dOptions::make(1, 1), true, gen);
  g.relu("r1", "c1");
  g.conv("c2", "r1", 2, 3, Conv2dOptions::make(1, 1), true, gen);
  g.sum("s", {"r1", "c2"});
  g.set_score_layer("c2");
  const ModelTotals t = model_totals(g, g.stats(1, 4, 4));
  // outputs (floats): data 16, c1 32, r1 32, c2 32, s 32
  CHECK(t.activation_bytes == (16 + 4 * 32) * 4);
  // data 16 -> +c1 48 (data freed: 32) -> +r1 64 (c1 freed: 32) -> +c2 64 (r1 still read by s)
  // -> +s 96, then r1 and c2 are freed
  CHECK(t.peak_bytes == 96 * 4);
  CHECK(t.params == 58);  // c1: 1*2*9 + 2, c2: 2*2*9 + 2
  CHECK(t.params == t.params_learned);
  CHECK(t.macs == 16 * 2 * 9 + 16 * 2 * 2 * 9);
  CHECK(t.rf == 5);
  CHECK(t.depth == 2);
}

TEST_CASE("with_commas groups thousands") {
  CHECK(with_commas(0) == "0");
  CHECK(with_commas(999) == "999");
  CHECK(with_commas(1000) == "1,000");
  CHECK(with_commas(-1234567) == "-1,234,567");
  CHECK(with_commas(134346581) == "134,346,581");
}

TEST_CASE("feature maps: each channel min-max normalised into its tile, gaps between") {
  // Two 2x3 channels: a ramp 10..15, and a constant channel (drawn black).
  Tensor m = Tensor::empty({2, 2, 3});
  for (int i = 0; i < 6; ++i) m.set_flat(i, 10 + i);
  for (int i = 6; i < 12; ++i) m.set_flat(i, 4.0);
  FeatureMapOptions o;
  o.min_tile = 1;  // keep the 2x3 size
  o.caption = false;
  o.gap = 1;
  const train::RgbImage img = feature_map_grid(m, "", o);
  // two columns (ceil(sqrt(2))): 1 + 3 + 1 + 3 + 1 wide, 1 + 2 + 1 high
  REQUIRE(img.width == 9);
  REQUIRE(img.height == 4);
  CHECK(img.get(1, 1).r == 0);    // the smallest value
  CHECK(img.get(2, 3).r == 255);  // the largest
  CHECK(img.get(1, 2).r == 51);   // (11 - 10) / 5 * 255
  CHECK(img.get(1, 2).g == 51);
  for (int y = 1; y <= 2; ++y)
    for (int x = 5; x <= 7; ++x) CHECK(img.get(y, x).r == 0);  // constant: black
  const train::Rgb gap = o.gap_colour;
  CHECK(img.get(0, 0).b == gap.b);
  CHECK(img.get(1, 4).r == gap.r);  // between the tiles
  CHECK(img.get(3, 8).g == gap.g);
}

TEST_CASE("feature maps: small maps are enlarged by whole pixels, large ones shrunk, caption row on top") {
  FeatureMapOptions o;
  CHECK(feature_map_tile_size(16, 16, o) == std::pair<int, int>{32, 32});
  CHECK(feature_map_tile_size(5, 10, o) == std::pair<int, int>{20, 40});
  CHECK(feature_map_tile_size(698, 698, o) == std::pair<int, int>{128, 128});
  CHECK(feature_map_tile_size(100, 50, o) == std::pair<int, int>{100, 50});
  CHECK(feature_map_tile_size(256, 128, o) == std::pair<int, int>{128, 64});

  Tensor m = Tensor::zeros({1, 3, 2, 2});
  m.set_flat(0, 1.0);  // channel 0: top-left unit bright
  o.caption = false;
  o.min_tile = 4;      // each unit becomes a 2x2 block
  const train::RgbImage img = feature_map_grid(m, "", o);
  CHECK(img.width == 2 + 2 * (4 + 2));
  CHECK(img.height == 2 + 2 * (4 + 2));
  CHECK(img.get(2, 2).r == 255);
  CHECK(img.get(3, 3).r == 255);
  CHECK(img.get(2, 4).r == 0);
  CHECK(img.get(4, 2).r == 0);

  o.caption = true;
  const train::RgbImage cap = feature_map_grid(m, "conv1_1  3 channels", o);
  CHECK(cap.height > img.height);
  CHECK(cap.width >= img.width);
  CHECK_THROWS_WITH_AS(feature_map_grid(Tensor::zeros({2, 3}), "", o),
                       doctest::Contains("expected a floating (C, H, W)"), Error);
}

TEST_CASE("feature maps: NaN and infinity are magenta and left out of the min-max range") {
  Tensor m = Tensor::empty({1, 1, 3});
  m.set_flat(0, 1.0);
  m.set_flat(1, NAN);
  m.set_flat(2, 3.0);
  FeatureMapOptions o;
  o.min_tile = 1;
  o.caption = false;
  o.gap = 0;
  const train::RgbImage img = feature_map_grid(m, "", o);
  REQUIRE(img.width == 3);
  CHECK(img.get(0, 0).r == 0);
  CHECK(img.get(0, 2).r == 255);
  CHECK(img.get(0, 1).r == 255);
  CHECK(img.get(0, 1).g == 0);
  CHECK(img.get(0, 1).b == 255);
}
