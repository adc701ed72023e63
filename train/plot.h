// plot.h — small PNG charts drawn pixel by pixel: line plots with axes, ticks, gridlines and a
// legend (the trainer's progress.png: loss and Dice per epoch), and image-level confusion
// matrices (confusion.png). Text uses a tiny 5x7 bitmap font of our own (upper case, digits
// and the punctuation labels need; lower case is drawn as upper case).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "train/metrics.h"
#include "train/overlay.h"

namespace fcnlab::train {

// ---- text
// Glyph cells are 5x7 pixels with a 1-pixel gap, times `scale`. A character without a glyph
// is drawn as a hollow box so that it shows rather than vanishes.
bool font_has_glyph(char c);
int text_width(const std::string& text, int scale);
inline int text_height(int scale) { return 7 * scale; }
// (x, y): top-left corner of the first glyph.
void draw_text(RgbImage& img, int x, int y, const std::string& text, Rgb colour, int scale);
// Rotated a quarter turn anticlockwise (reads bottom to top, as y-axis labels do); (x, y) is
// the top-left corner of the rotated text's box.
void draw_text_vertical(RgbImage& img, int x, int y, const std::string& text, Rgb colour, int scale);

// ---- drawing primitives (clipped to the image)
void draw_line(RgbImage& img, double x0, double y0, double x1, double y1, Rgb colour, int thickness);
void fill_rect(RgbImage& img, int x, int y, int w, int h, Rgb colour);
void draw_rect(RgbImage& img, int x, int y, int w, int h, Rgb colour);

// ---- line plots
struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; NaN or infinite points are skipped (a gap)
  Rgb colour;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::optional<double> y_min, y_max;  // fixed ends; otherwise from the data, padded 5%
  bool integer_x = false;              // x ticks on whole numbers only (epochs)
  bool legend_bottom = false;          // legend in the bottom-right corner (rising curves)
};

// "Nice" tick positions (steps of 1, 2 or 5 times a power of ten) covering [lo, hi], about
// `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target, bool integer = false);

RgbImage render_plot(const PlotSpec& spec, int width, int height);
// Images side by side on a background, `gap` pixels apart, tops aligned.
RgbImage hstack(const std::vector<RgbImage>& images, int gap, Rgb background = {255, 255, 255});

// The trainer's curves, one entry per epoch (NaN where a value is missing).
struct EpochHistory {
  std::vector<double> epoch, train_loss, val_loss, val_dice, val_dice_positive, val_iou;
};
// progress.png: left, train and validation loss; right, validation Dice (competition),
// positive-only Dice and IoU on [0, 1]. Written atomically.
RgbImage render_progress(const EpochHistory& h);
void write_progress_png(const std::string& path, const EpochHistory& h);

// ---- confusion matrices
struct ConfusionPanel {
  std::string title;  // e.g. the checkpoint's name
  Confusion counts;
};
// Rows: truth positive / negative; columns: predicted positive / negative. Each cell shows
// the count and its share of the row, shaded by that share.
RgbImage render_confusion(const ConfusionPanel& panel);
// One matrix per panel, side by side. Written atomically.
void write_confusion_png(const std::string& path, const std::vector<ConfusionPanel>& panels);

}  // namespace fcnlab::train
