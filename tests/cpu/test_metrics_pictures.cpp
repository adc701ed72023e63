// The pictures: RGB PNG encoding (decoded back and compared), masks, outlines, nearest resize,
// overlays (exact colours where the rules say), the bitmap font, tick choice, line plots,
// progress.png and confusion.png.
#include <doctest/doctest.h>

#include <cmath>

#include "data/image.h"
#include "engine/error.h"
#include "tests/common/temp_dir.h"
#include "train/overlay.h"
#include "train/plot.h"

using namespace fcnlab;
using namespace fcnlab::train;

namespace {
bool same(Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
int luma(Rgb c) { return (77 * c.r + 150 * c.g + 29 * c.b) / 256; }  // data/image.h's rule
int64_t count_colour(const RgbImage& img, Rgb c) {
  int64_t n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += same(img.get(y, x), c);
  return n;
}
}  // namespace

TEST_CASE("pictures: RGB PNG round trip through the checked decoder, atomic write") {
  test::TempDir dir("pictures_png");
  RgbImage img(7, 5, Rgb{10, 20, 30});
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      img.set(y, x, Rgb{static_cast<uint8_t>(x * 30), static_cast<uint8_t>(y * 50), 200});
  write_png_rgb(dir / "a.png", img);
  CHECK(dir.listing() == std::vector<std::string>{"a.png"});
  data::PngInfo info = data::read_png_info(dir / "a.png");
  CHECK(info.width == 7);
  CHECK(info.height == 5);
  CHECK(info.color_type == 2);  // RGB
  data::GrayImage g = data::read_png_gray8(dir / "a.png");
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) CHECK(g.at(y, x) == luma(img.get(y, x)));
  CHECK_THROWS_WITH_AS(write_png_rgb(dir / "no/such/dir/b.png", img), doctest::Contains("b.png"),
                       Error);
  CHECK_THROWS_AS(encode_png_rgb(RgbImage()), Error);
}

TEST_CASE("pictures: mask PNG, outline rings, nearest resize") {
  // 7x7 with a 5x5 square at (1..5, 1..5).
  std::vector<uint8_t> m(49, 0);
  for (int y = 1; y <= 5; ++y)
    for (int x = 1; x <= 5; ++x) m[y * 7 + x] = 1;
  data::GrayImage img = mask_to_image(m, 7, 7);
  CHECK(img.at(1, 1) == 255);
  CHECK(img.at(0, 0) == 0);
  std::vector<uint8_t> ring = mask_outline(m, 7, 7, 1);
  int64_t n = 0;
  for (uint8_t v : ring) n += v;
  CHECK(n == 16);  // 25 - the 3x3 interior
  CHECK(ring[1 * 7 + 1] == 1);
  CHECK(ring[3 * 7 + 3] == 0);
  std::vector<uint8_t> ring2 = mask_outline(m, 7, 7, 2);
  n = 0;
  for (uint8_t v : ring2) n += v;
  CHECK(n == 24);  // only the centre survives two erosions
  // A mask touching the border: its border pixels are outline.
  std::vector<uint8_t> full(9, 1);
  std::vector<uint8_t> edge = mask_outline(full, 3, 3, 1);
  CHECK(edge == std::vector<uint8_t>{1, 1, 1, 1, 0, 1, 1, 1, 1});

  // 2x2 -> 4x4 replicates; 4x4 -> 2x2 picks the pixels under the output centres.
  std::vector<uint8_t> small{1, 0, 0, 1};
  CHECK(resize_mask_nearest(small, 2, 2, 4, 4) ==
        std::vector<uint8_t>{1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1});
  std::vector<uint8_t> big(16, 0);
  big[1 * 4 + 1] = 1;  // centre of output (0,0) samples (1,1)
  big[0] = 1;          // never sampled
  CHECK(resize_mask_nearest(big, 4, 4, 2, 2) == std::vector<uint8_t>{1, 0, 0, 0});
  // Non-integer ratio: 3 -> 5 along x; every source column is used.
  std::vector<uint8_t> row{1, 0, 1};
  CHECK(resize_mask_nearest(row, 3, 1, 5, 1) == std::vector<uint8_t>{1, 1, 0, 1, 1});
  CHECK_THROWS_AS(resize_mask_nearest(row, 2, 1, 5, 1), Error);
}

TEST_CASE("pictures: overlay tints and outlines the prediction, outlines the truth") {
  data::GrayImage xray(9, 9, 100);
  std::vector<uint8_t> pred(81, 0), truth(81, 0);
  for (int y = 1; y <= 5; ++y)
    for (int x = 1; x <= 5; ++x) pred[y * 9 + x] = 1;
  for (int y = 6; y <= 8; ++y)
    for (int x = 6; x <= 8; ++x) truth[y * 9 + x] = 1;
  RgbImage o = make_overlay(xray, pred, &truth);
  CHECK(same(o.get(0, 0), Rgb{100, 100, 100}));  // untouched X-ray
  CHECK(same(o.get(1, 1), kPredColour));          // outline
  // Interior: 35% red over gray 100: 0.65*100 + 0.35*230 = 145.5 -> 146 (round half away),
  // 0.65*100 + 0.35*40 = 79.
  CHECK(same(o.get(3, 3), Rgb{146, 79, 79}));
  CHECK(same(o.get(6, 6), kTruthColour));
  CHECK(same(o.get(8, 8), kTruthColour));  // the image border closes the outline
  CHECK(same(o.get(7, 7), Rgb{100, 100, 100}));  // truth is outlined, never tinted
  RgbImage no_truth = make_overlay(xray, pred, nullptr);
  CHECK(count_colour(no_truth, kTruthColour) == 0);
  CHECK(count_colour(no_truth, kPredColour) == 16);
  CHECK_THROWS_AS(make_overlay(xray, std::vector<uint8_t>(80, 0), nullptr), Error);
}

TEST_CASE("pictures: bitmap font covers the labels and draws the designed pixels") {
  for (char c : std::string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,-+:/()%_=[]<>#!?*'|"))
    CHECK_MESSAGE(font_has_glyph(c), "no glyph for '", c, "'");
  CHECK_FALSE(font_has_glyph('~'));
  CHECK(text_width("", 2) == 0);
  CHECK(text_width("AB", 1) == 11);  // 5 + 1 gap + 5
  CHECK(text_width("AB", 3) == 33);

  // "1" at scale 1: rows ..#.. .##.. ..#.. x4 .###.
  RgbImage img(5, 7, Rgb{255, 255, 255});
  const Rgb ink{0, 0, 0};
  draw_text(img, 0, 0, "1", ink, 1);
  const char* rows[7] = {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."};
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 5; ++x) CHECK(same(img.get(y, x), ink) == (rows[y][x] == '#'));
  // Lower case is drawn as upper case.
  RgbImage a(5, 7), b(5, 7);
  draw_text(a, 0, 0, "e", ink, 1);
  draw_text(b, 0, 0, "E", ink, 1);
  CHECK(a.pixels == b.pixels);
  // Vertical: glyph row r becomes column r; glyph column c rises from the bottom.
  RgbImage v(7, 5, Rgb{255, 255, 255});
  draw_text_vertical(v, 0, 0, "1", ink, 1);
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 5; ++c) CHECK(same(v.get(4 - c, r), ink) == (rows[r][c] == '#'));
  // Unknown characters show as a hollow box, not nothing.
  RgbImage box(5, 7, Rgb{255, 255, 255});
  draw_text(box, 0, 0, "~", ink, 1);
  CHECK(count_colour(box, ink) == 20);  // rows 0 and 6 (2 x 5) + columns 0 and 4 of rows 1-5
}

TEST_CASE("pictures: nice ticks") {
  std::vector<double> u = nice_ticks(0, 1, 5);
  REQUIRE(u.size() == 6);
  for (size_t i = 0; i < u.size(); ++i) CHECK(u[i] == doctest::Approx(0.2 * i));
  std::vector<double> t = nice_ticks(0.13, 0.87, 5);
  REQUIRE(t.size() == 4);
  CHECK(t[0] == doctest::Approx(0.2));
  CHECK(t[3] == doctest::Approx(0.8));
  CHECK(nice_ticks(1, 3, 6, true) == std::vector<double>{1, 2, 3});
  CHECK(nice_ticks(0, 50, 5, true) == std::vector<double>{0, 10, 20, 30, 40, 50});
  CHECK_THROWS_AS(nice_ticks(1, 1, 5), Error);
}

TEST_CASE("pictures: a line plot puts a rising series low-left to high-right, NaN is a gap") {
  const Rgb red{200, 0, 0};
  PlotSpec spec{"TITLE", "EPOCH", "DICE", {{"s", {1, 2, 3}, {0.0, NAN, 1.0}, red}},
                0.0, 1.0, true};
  RgbImage img = render_plot(spec, 400, 300);
  CHECK(img.width == 400);
  CHECK(img.height == 300);
  // Find the red markers' extent (the legend sample is red too: ignore the legend's rows by
  // looking at the topmost and bottommost red pixels' x).
  int top_y = 1 << 30, top_x = -1, bot_y = -1, bot_x = -1;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (same(img.get(y, x), red)) {
        if (y < top_y) top_y = y, top_x = x;
        if (y > bot_y) bot_y = y, bot_x = x;
      }
  REQUIRE(top_x >= 0);
  CHECK(bot_x < top_x);       // y=0 at epoch 1 (low, left), y=1 at epoch 3 (high, right)
  CHECK(bot_y - top_y > 150);
  // With the middle point NaN there is no segment: the column half-way holds no red.
  int mid_red = 0;
  const int mid = (top_x + bot_x) / 2;
  for (int y = top_y + 10; y < bot_y - 10; ++y) mid_red += same(img.get(y, mid), red);
  CHECK(mid_red == 0);
  spec.series[0].y = {0.0, 0.5, 1.0};
  RgbImage joined = render_plot(spec, 400, 300);
  CHECK(count_colour(joined, red) > count_colour(img, red) + 100);  // two segments drawn

  spec.series[0].y = {0.0};
  CHECK_THROWS_WITH_AS(render_plot(spec, 400, 300), doctest::Contains("'s'"), Error);
  CHECK_THROWS_AS(render_plot(PlotSpec{}, 60, 60), Error);  // too small for axes
}

TEST_CASE("pictures: progress.png and confusion.png are valid PNGs of the expected size") {
  test::TempDir dir("pictures_plots");
  EpochHistory h;
  h.epoch = {1, 2, 3};
  h.train_loss = {0.9, 0.5, 0.3};
  h.val_loss = {1.0, 0.6, NAN};
  h.val_dice = {0.3, 0.5, 0.7};
  h.val_dice_positive = {0.1, 0.3, 0.6};
  h.val_iou = {0.2, 0.4, 0.55};
  write_progress_png(dir / "progress.png", h);
  data::PngInfo info = data::read_png_info(dir / "progress.png");
  CHECK(info.width == 1280);
  CHECK(info.height == 420);
  // One epoch only still draws (a marker, no line).
  EpochHistory one{{1}, {0.5}, {0.4}, {0.6}, {0.2}, {0.5}};
  CHECK(render_progress(one).width == 1280);
  h.val_iou.pop_back();
  CHECK_THROWS_WITH_AS(write_progress_png(dir / "bad.png", h), doctest::Contains("val_iou"), Error);
  CHECK_FALSE(std::filesystem::exists(dir / "bad.png"));

  ConfusionPanel p{"fcn8s", Confusion{8, 2, 85, 5}};
  RgbImage c = render_confusion(p);
  write_confusion_png(dir / "confusion.png", {p, ConfusionPanel{"other", Confusion{}}});
  info = data::read_png_info(dir / "confusion.png");
  CHECK(info.width == 2 * c.width + 20);
  CHECK(info.height == c.height);
  // Each cell is shaded by its share of the truth row (white -> (33, 102, 172)): the shades
  // for TP 8/13, FN 5/13, TN 85/87, FP 2/87 each fill most of a 150x150 cell.
  auto shade = [](double s) {
    return Rgb{static_cast<uint8_t>(std::lround(255 - s * 222)),
               static_cast<uint8_t>(std::lround(255 - s * 153)),
               static_cast<uint8_t>(std::lround(255 - s * 83))};
  };
  for (double share : {8.0 / 13, 5.0 / 13, 85.0 / 87, 2.0 / 87})
    CHECK_MESSAGE(count_colour(c, shade(share)) > 15000, "share ", share);
  CHECK(count_colour(c, shade(0.5)) == 0);
  CHECK_THROWS_AS(write_confusion_png(dir / "none.png", {}), Error);
}
