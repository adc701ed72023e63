// rle.h — the run-length encoding of the original SIIM-ACR release (train-rle.csv).
// Convention (official mask_functions.py): pixels are numbered column-major, idx = x * H + y;
// the string holds "start length" pairs where each start is RELATIVE (pixels skipped since the
// end of the previous run; the first counts from pixel 0); "-1" (or empty) means no
// pneumothorax; an image with several regions has several rows, merged by union.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab::data {

// Decodes one RLE string into a row-major (H, W) mask of 0/1. Throws on malformed text or
// runs past the image, naming `what` (e.g. "train-rle.csv:17").
std::vector<uint8_t> rle_decode(const std::string& rle, int width, int height,
                                const std::string& what = "RLE");
// Same, OR-ing the runs into an existing mask (for images with several rows).
void rle_decode_into(const std::string& rle, int width, int height, std::vector<uint8_t>& mask,
                     const std::string& what = "RLE");
// Encodes a row-major (H, W) mask (nonzero = foreground) as one string; "-1" when empty.
// Unlike the official encoder, a run that reaches the last pixel is written too.
std::string rle_encode(const std::vector<uint8_t>& mask, int width, int height);

// One image of an RLE CSV: its id and every EncodedPixels row given for it, in file order.
struct RleEntry {
  std::string image_id;
  std::vector<std::string> rles;  // trimmed; "-1" rows kept
  std::vector<int> lines;         // the CSV line of each row
};

// Reads a CSV with columns ImageId and EncodedPixels (names matched ignoring surrounding
// spaces, as the stage-1 file writes " EncodedPixels"). Entries keep first-appearance order.
std::vector<RleEntry> read_rle_csv(const std::string& path);
// The merged mask of one entry (row-major (H, W), 0/1).
std::vector<uint8_t> decode_entry(const RleEntry& e, int width, int height,
                                  const std::string& file = "RLE CSV");
// Writes "ImageId,EncodedPixels" with one merged row per image (the submission format).
void write_rle_csv(const std::string& path, const std::vector<std::string>& image_ids,
                   const std::vector<std::string>& rles);

}  // namespace fcnlab::data
