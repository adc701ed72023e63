// inference.h — what fcnlab-predict and fcnlab-evaluate share: each image prepared for the model
// exactly as the trainer's loader prepares a validation sample (CLAHE if the checkpoint says so,
// resize to the model's side, normalisation), batched forward passes (optional flip TTA), and
// the prediction brought back to the source image's size and scored there — the size a
// competition submission is scored at.
//
// Post-processing at the source size: the empty / non-empty decision is made at the model's
// resolution by the checkpoint's rule (pixels with prob >= threshold; fewer than min_area of
// them, counted at the model's side, empties the image). A non-empty prediction's region is
// then drawn from the probabilities enlarged to the source size (bilinear), which gives smooth
// outlines, falling back to the nearest-neighbour enlarged mask in the rare case the smooth one
// comes out empty, so that has_pneumo and the mask always agree.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/siim.h"
#include "train/metrics.h"
#include "train/model_io.h"

namespace fcnlab::train {

// True for a .dcm path (any case): an X-ray of the original DICOM release.
bool is_dicom_path(const std::string& path);
// The 8-bit grey X-ray at `path`: a PNG, or a DICOM file (.dcm: data/dicom.h, scaled to 8 bits
// as the trainer's DICOM source does).
data::GrayImage read_xray(const std::string& path);

// One image to predict (a PNG or a .dcm); mask_path (a PNG) empty when the truth is unknown.
// A case of an indexed release whose truth is not a file (the DICOM release's RLE rows) comes
// with `load` instead: it decodes image and mask (0/1), and image_path only names it.
struct InferenceInput {
  std::string id;          // file stem
  std::string image_path;
  std::string mask_path;
  std::function<data::SiimSample()> load;
};

struct InferenceOptions {
  int size = 0;            // model input side; 0: the checkpoint's
  int batch = 4;
  bool hflip_tta = false;
  bool progress = true;    // a progress bar on stderr
  std::string label = "predict";
};

// The model input of one gray image at side `size`: C*size*size floats (C from the
// checkpoint's normalisation), the same numbers data::Loader::prepare gives without augment.
void prepare_model_input(const data::GrayImage& image, const ModelMeta& meta, int size, float* out);

// min_area is stored in pixels at the checkpoint's side; at another side it scales with the
// area: round(min_area * (size / meta.size)^2).
int64_t min_area_at(const ModelMeta& meta, int size);

// The post-processed mask at the source size (see the file comment). prob: size*size.
std::vector<uint8_t> source_mask(const float* prob, int size, double threshold, int64_t min_area,
                                 int width, int height);

struct ImagePrediction {
  InferenceInput input;
  data::GrayImage image;       // the source X-ray (H, W)
  std::vector<uint8_t> truth;  // (H, W) 0/1, empty when unknown
  int size = 0;                // model side
  std::vector<float> prob;     // (size, size) foreground probabilities
  std::vector<uint8_t> mask;   // (H, W) 0/1 after post-processing
  double head_score = -1;      // sigmoid of the head's logit; -1 without a head
  ImageResult result;          // at the source size; score = max pixel probability
};

// Checks every input before anything runs, so a bad file fails the run before any output:
// the image (and mask) exist and are valid PNGs (chunks, CRCs), and a mask has its image's
// size. Errors name the file.
void check_inputs(const std::vector<InferenceInput>& inputs);

// Runs the model over the inputs in order, `batch` at a time, and hands each image's
// prediction to `sink` (so that only one batch is held in memory).
void run_inference(LoadedModel& model, const std::vector<InferenceInput>& inputs,
                   const InferenceOptions& options,
                   const std::function<void(ImagePrediction&)>& sink);

}  // namespace fcnlab::train
