// inference.cpp — preparing images like the loader, batched prediction, and masks at the
// source size. See inference.h.
#include "train/inference.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <filesystem>

#include "data/dicom.h"
#include "data/transforms.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "train/overlay.h"

namespace fcnlab::train {

void prepare_model_input(const data::GrayImage& image, const ModelMeta& meta, int size, float* out) {
  // The steps of data::Loader::prepare with augmentation off, in its order (a test holds the
  // two equal): CLAHE on the 8-bit source, to [0, 1], resize, normalise.
  const data::GrayImage* src = &image;
  data::GrayImage equalised;
  if (meta.clahe) {
    equalised = data::clahe(image, meta.clahe_clip, meta.clahe_tiles, meta.clahe_tiles);
    src = &equalised;
  }
  const data::FloatImage resized = data::resize_image(data::to_float(*src), size, size);
  data::write_normalized(resized, meta.normalization, out);
}

int64_t min_area_at(const ModelMeta& meta, int size) {
  if (size == meta.size || meta.min_area == 0) return meta.min_area;
  const double r = static_cast<double>(size) / meta.size;
  return std::llround(static_cast<double>(meta.min_area) * r * r);
}

std::vector<uint8_t> source_mask(const float* prob, int size, double threshold, int64_t min_area,
                                 int width, int height) {
  const size_t n = static_cast<size_t>(size) * size;
  std::vector<uint8_t> small(n);
  const int64_t area = threshold_mask(prob, static_cast<int64_t>(n), threshold, min_area, small.data());
  if (area == 0) return std::vector<uint8_t>(static_cast<size_t>(width) * height, 0);
  if (width == size && height == size) return small;
  data::FloatImage p(size, size);
  std::copy(prob, prob + n, p.pixels.begin());
  const data::FloatImage big = data::resize_image(p, width, height);
  std::vector<uint8_t> out(big.pixels.size());
  bool any = false;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = big.pixels[i] >= threshold;
    any = any || out[i];
  }
  if (!any) return resize_mask_nearest(small, size, size, width, height);
  return out;
}

bool is_dicom_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".dcm";
}

data::GrayImage read_xray(const std::string& path) {
  return is_dicom_path(path) ? data::dicom_to_gray8(data::read_dicom(path)) : data::read_png_gray8(path);
}

void check_inputs(const std::vector<InferenceInput>& inputs) {
  namespace fs = std::filesystem;
  for (const InferenceInput& in : inputs) {
    if (in.load) continue;  // an indexed case: its index checked the files; decoding reports the rest
    FCNLAB_CHECK(fs::is_regular_file(in.image_path), in.image_path,
                 ": image not found (expected a PNG or DICOM file)");
    data::PngInfo info;
    if (is_dicom_path(in.image_path)) {  // decoded once here so that a bad file stops the run early
      const data::DicomImage d = data::read_dicom(in.image_path);
      info.width = d.image.width;
      info.height = d.image.height;
    } else {
      info = data::read_png_info(in.image_path);
    }
    if (in.mask_path.empty()) continue;
    FCNLAB_CHECK(fs::is_regular_file(in.mask_path), in.mask_path,
                 ": mask not found (expected a PNG of the same name as ", in.image_path, ")");
    const data::PngInfo m = data::read_png_info(in.mask_path);
    FCNLAB_CHECK(m.width == info.width && m.height == info.height, in.mask_path, ": mask is ",
                 m.width, "x", m.height, " but its image ", in.image_path, " is ", info.width,
                 "x", info.height);
  }
}

void run_inference(LoadedModel& model, const std::vector<InferenceInput>& inputs,
                   const InferenceOptions& options,
                   const std::function<void(ImagePrediction&)>& sink) {
  const ModelMeta& meta = model.meta;
  const int size = options.size > 0 ? options.size : meta.size;
  FCNLAB_CHECK(options.batch >= 1, "batch must be >= 1, got ", options.batch);
  const int64_t min_area = min_area_at(meta, size);
  const int channels = meta.normalization.channels;
  FCNLAB_CHECK(channels == model.net->in_channels(), "checkpoint: its normalisation gives ",
               channels, " channel(s) but the model reads ", model.net->in_channels());
  const Device device = model.net->parameters().empty() ? Device::cpu()
                                                        : model.net->parameters().front().device();
  const int64_t n_all = static_cast<int64_t>(inputs.size());
  const int64_t batches = (n_all + options.batch - 1) / options.batch;
  const size_t plane = static_cast<size_t>(size) * size;
  Progress progress(batches, options.batch, options.label);

  for (int64_t b = 0; b < batches; ++b) {
    const int64_t first = b * options.batch;
    const int64_t n = std::min<int64_t>(options.batch, n_all - first);
    std::vector<ImagePrediction> preds(static_cast<size_t>(n));
    Tensor x = Tensor::empty(Shape{n, channels, size, size});
    float* xd = x.data<float>();
    // Decoding and resizing dominate at 1024^2: one image per thread. An error is kept and
    // rethrown after the loop (exceptions must not leave an OpenMP region).
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      try {
        ImagePrediction& p = preds[static_cast<size_t>(i)];
        p.input = inputs[static_cast<size_t>(first + i)];
        if (p.input.load) {
          data::SiimSample smp = p.input.load();
          p.image = std::move(smp.image);
          p.truth = std::move(smp.mask.pixels);  // 0 / 1 already
        } else {
          p.image = read_xray(p.input.image_path);
        }
        if (!p.input.load && !p.input.mask_path.empty()) {
          data::GrayImage m = data::read_png_gray8(p.input.mask_path);
          FCNLAB_CHECK(m.width == p.image.width && m.height == p.image.height, p.input.mask_path,
                       ": mask is ", m.width, "x", m.height, " but its image is ",
                       p.image.width, "x", p.image.height);
          p.truth.resize(m.pixels.size());
          for (size_t k = 0; k < m.pixels.size(); ++k) p.truth[k] = m.pixels[k] > 127;
        }
        prepare_model_input(p.image, meta, size, xd + static_cast<size_t>(i) * channels * plane);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);

    const BatchPrediction bp = predict_batch(model, x.to(device), options.hflip_tta);
    for (int64_t i = 0; i < n; ++i) {
      ImagePrediction& p = preds[static_cast<size_t>(i)];
      p.size = size;
      p.prob.assign(bp.image_prob(i), bp.image_prob(i) + plane);
      p.head_score = bp.head_score.empty() ? -1.0 : bp.head_score[static_cast<size_t>(i)];
      const int w = p.image.width, h = p.image.height;
      p.mask = source_mask(p.prob.data(), size, meta.threshold, min_area, w, h);
      int64_t area = 0, truth_area = 0, inter = 0;
      for (size_t k = 0; k < p.mask.size(); ++k) {
        area += p.mask[k];
        if (!p.truth.empty()) {
          truth_area += p.truth[k];
          inter += p.mask[k] & p.truth[k];
        }
      }
      p.result = result_from_counts(p.input.id, bp.seg_score[static_cast<size_t>(i)],
                                    static_cast<int64_t>(w) * h, area, truth_area, inter);
      p.result.has_truth = !p.truth.empty();
    }
    for (ImagePrediction& p : preds) sink(p);
    if (options.progress) progress.update(b + 1);
  }
  if (options.progress) progress.finish();
}

}  // namespace fcnlab::train
