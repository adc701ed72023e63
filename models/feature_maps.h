// feature_maps.h — a picture of one layer's output: every channel of one image as a gray tile,
// tiles in a grid with gaps between them, and an optional caption row on top (layer name,
// channels, map size, value range). fcnlab-inspect --feature-maps writes these.
//
// Each channel is min-max normalised on its own (its smallest value black, its largest white),
// so a weak channel shows its pattern as well as a strong one; a constant channel (a ReLU that
// never fires) is black. Large maps are shrunk by area averaging to at most `max_tile` pixels a
// side; small ones (fc7's 16x16) are enlarged by whole-pixel replication up to `min_tile`, so
// each unit stays a visible square.
#pragma once
#include <string>
#include <utility>

#include "engine/tensor.h"
#include "train/overlay.h"

namespace fcnlab {

struct FeatureMapOptions {
  int max_tile = 128;     // largest tile side in pixels (area-averaged down to it)
  int min_tile = 32;      // smaller maps are enlarged by an integer factor to reach it
  int gap = 2;            // pixels between tiles and around the grid
  int columns = 0;        // tiles per row; 0: ceil(sqrt(channels))
  int max_channels = 0;   // draw only the first N channels; 0: all
  bool caption = true;    // a text row on top
  train::Rgb gap_colour{40, 90, 160};  // not gray, so black and white tiles keep their edges
};

// maps: (C, H, W) or (1, C, H, W), any floating dtype, on any device. caption: the text of the
// caption row (upper-cased by the font); ignored without options.caption.
train::RgbImage feature_map_grid(const Tensor& maps, const std::string& caption,
                                 const FeatureMapOptions& options = {});

// The tile side lengths (height, width) a (H, W) map gets under `options`.
std::pair<int, int> feature_map_tile_size(int h, int w, const FeatureMapOptions& options);

// The grid written as an RGB PNG, atomically.
void write_feature_maps(const std::string& path, const Tensor& maps, const std::string& caption,
                        const FeatureMapOptions& options = {});

}  // namespace fcnlab
