// plot.cpp — line plots, confusion matrices and the 5x7 bitmap font they label with.
// Everything is drawn into an RgbImage with integer pixel coordinates; no antialiasing, so the
// output is exact and the same on every machine.
#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/error.h"

namespace fcnlab::train {

// ---------------------------------------------------------------- font
namespace {

// Each glyph: 7 rows of 5 columns, '#' = ink. Designed for this file; upper case only.
struct Glyph {
  char c;
  const char* rows[7];
};

constexpr Glyph kFont[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {',', {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}},
    {'-', {".....", ".....", ".....", ".###.", ".....", ".....", "....."}},
    {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
    {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
    {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
    {'%', {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}},
    {'_', {".....", ".....", ".....", ".....", ".....", ".....", "#####"}},
    {'=', {".....", ".....", "#####", ".....", "#####", ".....", "....."}},
    {'[', {".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."}},
    {']', {".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."}},
    {'<', {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}},
    {'>', {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}},
    {'#', {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."}},
    {'!', {"..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."}},
    {'?', {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}},
    {'*', {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}},
    {'\'', {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."}},
    {'|', {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
};

const Glyph* find_glyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

// Ink at glyph cell (row, col) of c; unknown characters are a hollow box.
bool glyph_ink(char c, int row, int col) {
  const Glyph* g = find_glyph(c);
  if (g == nullptr) return row == 0 || row == 6 || col == 0 || col == 4;
  return g->rows[row][col] == '#';
}

constexpr int kAdvance = 6;  // 5 columns + 1 gap

}  // namespace

bool font_has_glyph(char c) { return find_glyph(c) != nullptr; }

int text_width(const std::string& text, int scale) {
  if (text.empty()) return 0;
  return (static_cast<int>(text.size()) * kAdvance - 1) * scale;
}

void draw_text(RgbImage& img, int x, int y, const std::string& text, Rgb colour, int scale) {
  for (size_t k = 0; k < text.size(); ++k) {
    const int ox = x + static_cast<int>(k) * kAdvance * scale;
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (glyph_ink(text[k], row, col))
          fill_rect(img, ox + col * scale, y + row * scale, scale, scale, colour);
  }
}

void draw_text_vertical(RgbImage& img, int x, int y, const std::string& text, Rgb colour,
                        int scale) {
  // Anticlockwise quarter turn: glyph column c goes up from the bottom, glyph row r goes
  // right. The box is text_height wide and text_width tall.
  const int h = text_width(text, scale);
  for (size_t k = 0; k < text.size(); ++k) {
    const int oy = y + h - static_cast<int>(k) * kAdvance * scale;  // bottom of this glyph
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (glyph_ink(text[k], row, col))
          fill_rect(img, x + row * scale, oy - (col + 1) * scale, scale, scale, colour);
  }
}

// ---------------------------------------------------------------- primitives

void fill_rect(RgbImage& img, int x, int y, int w, int h, Rgb colour) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(img.width, x + w), y1 = std::min(img.height, y + h);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) img.set(yy, xx, colour);
}

void draw_rect(RgbImage& img, int x, int y, int w, int h, Rgb colour) {
  fill_rect(img, x, y, w, 1, colour);
  fill_rect(img, x, y + h - 1, w, 1, colour);
  fill_rect(img, x, y, 1, h, colour);
  fill_rect(img, x + w - 1, y, 1, h, colour);
}

void draw_line(RgbImage& img, double x0, double y0, double x1, double y1, Rgb colour,
               int thickness) {
  // Sample the segment at every pixel step of its longer axis and stamp a square.
  const double steps = std::max({std::abs(x1 - x0), std::abs(y1 - y0), 1.0});
  const int half = thickness / 2;
  for (int i = 0; i <= static_cast<int>(std::ceil(steps)); ++i) {
    const double t = std::min(1.0, i / steps);
    const int x = static_cast<int>(std::lround(x0 + t * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
    fill_rect(img, x - half, y - half, thickness, thickness, colour);
  }
}

// ---------------------------------------------------------------- line plots

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  FCNLAB_CHECK(std::isfinite(lo) && std::isfinite(hi) && hi > lo && target > 0,
               "nice_ticks: bad range [", lo, ", ", hi, "]");
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  std::vector<double> ticks;
  // Multiples k * step (not a running sum, which drifts): 3 * 0.2, not 0.2 + 0.2 + 0.2.
  const double first = std::ceil(lo / step - 1e-9);
  for (int i = 0; i < 1000; ++i) {
    const double v = (first + i) * step;
    if (v > hi + 1e-9 * step) break;
    ticks.push_back(v == 0 ? 0.0 : v);  // no "-0.0" labels
  }
  return ticks;
}

namespace {

const Rgb kInk{30, 30, 30}, kGrid{225, 225, 225}, kAxisText{60, 60, 60};

// Tick label with as many decimals as the step needs.
std::string tick_label(double v, double step) {
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 6);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void finite_range(const std::vector<Series>& series, bool use_x, double& lo, double& hi) {
  lo = std::numeric_limits<double>::infinity();
  hi = -lo;
  for (const Series& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double v = use_x ? s.x[i] : s.y[i];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
}

}  // namespace

RgbImage render_plot(const PlotSpec& spec, int width, int height) {
  for (const Series& s : spec.series)
    FCNLAB_CHECK(s.x.size() == s.y.size(), "render_plot: series '", s.name, "' has ",
                 s.x.size(), " x values and ", s.y.size(), " y values");
  const int sc = 2;  // font scale
  RgbImage img(width, height);

  // Data ranges; an empty or flat range gets a unit-wide window so the axes still draw.
  double xlo, xhi, ylo, yhi;
  finite_range(spec.series, true, xlo, xhi);
  finite_range(spec.series, false, ylo, yhi);
  if (!(xlo <= xhi)) xlo = 0, xhi = 1;
  if (!(ylo <= yhi)) ylo = 0, yhi = 1;
  if (xhi - xlo < 1e-12) xlo -= 1, xhi += 1;
  if (yhi - ylo < 1e-12) {
    const double pad = std::max(0.5, std::abs(ylo) * 0.1);
    ylo -= pad, yhi += pad;
  } else {
    const double pad = 0.05 * (yhi - ylo);
    ylo -= pad, yhi += pad;
  }
  if (spec.y_min) ylo = *spec.y_min;
  if (spec.y_max) yhi = *spec.y_max;
  FCNLAB_CHECK(yhi > ylo, "render_plot '", spec.title, "': y range [", ylo, ", ", yhi, "] is empty");
  const std::vector<double> yt = nice_ticks(ylo, yhi, 5);
  const std::vector<double> xt = nice_ticks(xlo, xhi, 6, spec.integer_x);
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : (yhi - ylo);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : (xhi - xlo);

  // Layout: title, then the plot box; y label and tick labels on the left, x below.
  int ytick_w = 0;
  for (double v : yt) ytick_w = std::max(ytick_w, text_width(tick_label(v, ystep), sc));
  const int th = text_height(sc), pad = 8;
  const int left = pad + th + pad + ytick_w + pad;
  const int top = pad + th + pad;
  const int right = width - 2 * pad;
  const int bottom = height - (pad + th + pad + th + pad);
  FCNLAB_CHECK(right - left > 40 && bottom - top > 40, "render_plot: ", width, "x", height,
               " is too small for the axes and labels");
  auto px = [&](double x) { return left + (x - xlo) / (xhi - xlo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ylo) / (yhi - ylo) * (bottom - top); };

  draw_text(img, (width - text_width(spec.title, sc)) / 2, pad, spec.title, kInk, sc);
  for (double v : yt) {
    const int y = static_cast<int>(std::lround(py(v)));
    fill_rect(img, left, y, right - left, 1, kGrid);
    const std::string s = tick_label(v, ystep);
    draw_text(img, left - pad - text_width(s, sc), y - th / 2, s, kAxisText, sc);
  }
  for (double v : xt) {
    const int x = static_cast<int>(std::lround(px(v)));
    fill_rect(img, x, top, 1, bottom - top, kGrid);
    const std::string s = tick_label(v, xstep);
    draw_text(img, x - text_width(s, sc) / 2, bottom + pad, s, kAxisText, sc);
  }
  draw_rect(img, left, top, right - left + 1, bottom - top + 1, kInk);
  draw_text(img, (left + right - text_width(spec.x_label, sc)) / 2, bottom + pad + th + pad,
            spec.x_label, kInk, sc);
  draw_text_vertical(img, pad, (top + bottom - text_width(spec.y_label, sc)) / 2, spec.y_label,
                     kInk, sc);

  // Series: segments between consecutive finite points, a square marker on each point (so a
  // single epoch still shows).
  for (const Series& s : spec.series) {
    bool have_prev = false;
    double prev_x = 0, prev_y = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have_prev = false;
        continue;
      }
      const double x = px(s.x[i]), y = py(std::clamp(s.y[i], ylo, yhi));
      if (have_prev) draw_line(img, prev_x, prev_y, x, y, s.colour, 2);
      fill_rect(img, static_cast<int>(std::lround(x)) - 3, static_cast<int>(std::lround(y)) - 3,
                7, 7, s.colour);
      prev_x = x, prev_y = y, have_prev = true;
    }
  }

  // Legend: top-right inside the box, a colour sample and the name per series.
  if (!spec.series.empty()) {
    int name_w = 0;
    for (const Series& s : spec.series) name_w = std::max(name_w, text_width(s.name, sc));
    const int row_h = th + 6, sample = 20;
    const int lw = pad + sample + pad + name_w + pad;
    const int lh = pad + static_cast<int>(spec.series.size()) * row_h;
    const int lx = right - lw - pad;
    const int ly = spec.legend_bottom ? bottom - lh - pad : top + pad;
    fill_rect(img, lx, ly, lw, lh, Rgb{255, 255, 255});
    draw_rect(img, lx, ly, lw, lh, Rgb{160, 160, 160});
    for (size_t k = 0; k < spec.series.size(); ++k) {
      const int ry = ly + pad + static_cast<int>(k) * row_h;
      fill_rect(img, lx + pad, ry + th / 2 - 1, sample, 3, spec.series[k].colour);
      draw_text(img, lx + pad + sample + pad, ry, spec.series[k].name, kInk, sc);
    }
  }
  return img;
}

RgbImage hstack(const std::vector<RgbImage>& images, int gap, Rgb background) {
  int w = 0, h = 0;
  for (const RgbImage& im : images) {
    w += im.width;
    h = std::max(h, im.height);
  }
  if (!images.empty()) w += gap * static_cast<int>(images.size() - 1);
  RgbImage out(std::max(w, 1), std::max(h, 1), background);
  int ox = 0;
  for (const RgbImage& im : images) {
    for (int y = 0; y < im.height; ++y)
      for (int x = 0; x < im.width; ++x) out.set(y, ox + x, im.get(y, x));
    ox += im.width + gap;
  }
  return out;
}

RgbImage render_progress(const EpochHistory& h) {
  const size_t n = h.epoch.size();
  auto check = [&](const std::vector<double>& v, const char* name) {
    FCNLAB_CHECK(v.size() == n, "render_progress: ", name, " has ", v.size(), " values for ", n,
                 " epochs");
  };
  check(h.train_loss, "train_loss");
  check(h.val_loss, "val_loss");
  check(h.val_dice, "val_dice");
  check(h.val_dice_positive, "val_dice_positive");
  check(h.val_iou, "val_iou");
  PlotSpec loss{"LOSS", "EPOCH", "LOSS",
                {{"train", h.epoch, h.train_loss, Rgb{31, 119, 180}},
                 {"validation", h.epoch, h.val_loss, Rgb{255, 127, 14}}},
                std::nullopt, std::nullopt, true};
  PlotSpec dice{"VALIDATION", "EPOCH", "SCORE",
                {{"dice", h.epoch, h.val_dice, Rgb{44, 160, 44}},
                 {"dice pos.", h.epoch, h.val_dice_positive, Rgb{214, 39, 40}},
                 {"iou", h.epoch, h.val_iou, Rgb{148, 103, 189}}},
                0.0, 1.0, true, /*legend_bottom=*/true};
  return hstack({render_plot(loss, 640, 420), render_plot(dice, 640, 420)}, 0);
}

void write_progress_png(const std::string& path, const EpochHistory& h) {
  write_png_rgb(path, render_progress(h));
}

// ---------------------------------------------------------------- confusion matrices

RgbImage render_confusion(const ConfusionPanel& panel) {
  const Confusion& c = panel.counts;
  const int sc = 2, th = text_height(sc), pad = 10, cell = 150;
  const int left = pad + th + pad + text_width("NEG", sc) + pad;  // "TRUTH" vertical + row names
  const int top = pad + th + pad + th + pad + th + pad;           // title, "PREDICTED", col names
  const int w = left + 2 * cell + pad;
  const int h = top + 2 * cell + pad + th + pad;
  RgbImage img(std::max(w, text_width(panel.title, sc) + 2 * pad), h);

  draw_text(img, (img.width - text_width(panel.title, sc)) / 2, pad, panel.title, kInk, sc);
  draw_text(img, left + cell - text_width("PREDICTED", sc) / 2, pad + th + pad, "PREDICTED", kInk, sc);
  draw_text(img, left + cell / 2 - text_width("POS", sc) / 2, top - pad - th, "POS", kAxisText, sc);
  draw_text(img, left + cell + cell / 2 - text_width("NEG", sc) / 2, top - pad - th, "NEG", kAxisText, sc);
  draw_text_vertical(img, pad, top + cell - text_width("TRUTH", sc) / 2, "TRUTH", kInk, sc);
  draw_text(img, left - pad - text_width("POS", sc), top + cell / 2 - th / 2, "POS", kAxisText, sc);
  draw_text(img, left - pad - text_width("NEG", sc), top + cell + cell / 2 - th / 2, "NEG", kAxisText, sc);

  const int64_t counts[2][2] = {{c.tp, c.fn}, {c.fp, c.tn}};
  for (int r = 0; r < 2; ++r) {
    const int64_t row_total = counts[r][0] + counts[r][1];
    for (int k = 0; k < 2; ++k) {
      const double share = row_total > 0 ? static_cast<double>(counts[r][k]) / row_total : 0.0;
      // White to a deep blue by the row share; text flips to white on dark cells.
      const Rgb shade{static_cast<uint8_t>(std::lround(255 - share * (255 - 33))),
                      static_cast<uint8_t>(std::lround(255 - share * (255 - 102))),
                      static_cast<uint8_t>(std::lround(255 - share * (255 - 172)))};
      const Rgb text = share > 0.55 ? Rgb{255, 255, 255} : kInk;
      const int x = left + k * cell, y = top + r * cell;
      fill_rect(img, x, y, cell, cell, shade);
      draw_rect(img, x, y, cell + 1, cell + 1, kInk);
      const char* name = r == 0 ? (k == 0 ? "TP" : "FN") : (k == 0 ? "FP" : "TN");
      const std::string count = std::to_string(counts[r][k]);
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.1f%%", 100 * share);
      draw_text(img, x + 6, y + 6, name, text, sc);
      draw_text(img, x + (cell - text_width(count, 3)) / 2, y + cell / 2 - 14, count, text, 3);
      draw_text(img, x + (cell - text_width(pct, sc)) / 2, y + cell / 2 + 14, pct, text, sc);
    }
  }
  auto ratio = [](int64_t a, int64_t b) {
    if (b == 0) return std::string("NAN");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(a) / static_cast<double>(b));
    return std::string(buf);
  };
  const std::string foot = "SENS " + ratio(c.tp, c.tp + c.fn) + "  SPEC " + ratio(c.tn, c.tn + c.fp);
  draw_text(img, left, top + 2 * cell + pad, foot, kInk, sc);
  return img;
}

void write_confusion_png(const std::string& path, const std::vector<ConfusionPanel>& panels) {
  FCNLAB_CHECK(!panels.empty(), "write_confusion_png '", path, "': no matrices to draw");
  std::vector<RgbImage> images;
  for (const ConfusionPanel& p : panels) images.push_back(render_confusion(p));
  write_png_rgb(path, hstack(images, 20));
}

}  // namespace fcnlab::train
