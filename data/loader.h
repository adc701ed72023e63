// loader.h — the threaded data loader: worker threads decode, resize and augment samples
// into a bounded prefetch window of batches; batches come out in order as fcnlab Tensors.
//   image f32 (N, C, S, S) normalised, mask i32 (N, S, S) 0/1, label i32 (N)
// The sample order of an epoch depends only on (seed, epoch), and each sample's augmentation
// only on (seed, epoch, position in the epoch), so the same seed gives the same batches
// whatever the number of workers or the thread timing.
// A sample that fails to decode stops the epoch at its batch (the default, for --strict), or,
// with LoaderConfig::skip_bad, is left out of its batch and counted.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/siim.h"
#include "data/siim_dicom.h"
#include "data/transforms.h"
#include "engine/tensor.h"

namespace fcnlab::data {

// Where samples come from. load() is called from several threads at once.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual size_t size() const = 0;
  virtual int label(size_t i) const = 0;  // 0 / 1, known without decoding (oversampling)
  virtual SiimSample load(size_t i) const = 0;
};

// Records of a SiimPngDataset: a whole split, or chosen indices of it (e.g. a TrainValSplit).
class SiimSource : public SampleSource {
 public:
  SiimSource(SiimPngDataset ds, siim::Split split);
  SiimSource(SiimPngDataset ds, siim::Split split, const std::vector<size_t>& indices);
  size_t size() const override { return records_.size(); }
  int label(size_t i) const override { return records_.at(i).has_pneumo == 1 ? 1 : 0; }
  SiimSample load(size_t i) const override { return ds_.load(records_.at(i)); }

 private:
  SiimPngDataset ds_;
  std::vector<SiimRecord> records_;
};

// Cases of the original release (DICOM + RLE): all of them, or chosen indices.
class SiimDicomSource : public SampleSource {
 public:
  explicit SiimDicomSource(SiimDicomDataset ds);
  SiimDicomSource(SiimDicomDataset ds, const std::vector<size_t>& indices);
  size_t size() const override { return cases_.size(); }
  int label(size_t i) const override { return ds_.records().at(cases_.at(i)).has_pneumo; }
  SiimSample load(size_t i) const override { return ds_.load(cases_.at(i)); }

 private:
  SiimDicomDataset ds_;
  std::vector<size_t> cases_;
};

// Whichever release `root` holds (siim::detect_release): the records of `split` (for
// stratified_split), and a source over all of them or those at `indices`. The original
// release has masks for its train split only; asking for its test split is an Error.
std::vector<SiimRecord> siim_records(const std::string& root, siim::Split split);
std::shared_ptr<SampleSource> open_siim_source(const std::string& root, siim::Split split,
                                               const std::vector<size_t>* indices = nullptr);

struct LoaderConfig {
  int batch_size = 8;
  int workers = 2;
  int prefetch = 4;              // batches in flight or waiting, at most
  int size = 512;                // output side S (area resize from the source size)
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;        // drop a last incomplete batch
  // 0: every sample once per epoch. p in (0, 1): every positive once plus
  // round(n_pos * (1 - p) / p) negatives drawn for this epoch, so positives make up ~p.
  double positive_fraction = 0.0;
  bool clahe = false;            // CLAHE on the 8-bit source before resizing
  double clahe_clip = 2.0;
  int clahe_tiles = 8;
  AugmentConfig augment;         // enabled = false: evaluation
  Normalization normalization = Normalization::imagenet();
  // false: a sample whose loading throws fcnlab::Error (a corrupt PNG, a missing file) makes
  // next() rethrow at its batch. true: the sample is left out of its batch (which comes out
  // shorter) and recorded in Batch::skipped and Loader::skipped(). Other exceptions
  // (std::bad_alloc, ...) stay fatal either way.
  bool skip_bad = false;
  // Batches in page-locked host memory (engine/storage.h pinned_host_allocator), for a
  // direct, async-capable copy to a CUDA device: set it when the batches go to the GPU. In a
  // build without a CUDA backend, or without a usable GPU, batches are plain memory
  // (Batch::pinned says which).
  bool pin_memory = false;
};

// A sample left out under LoaderConfig::skip_bad.
struct SkippedSample {
  size_t index = 0;      // source index
  int64_t position = 0;  // position in the epoch order
  std::string reason;    // the error's message (names the file)
};

struct Batch {
  Tensor image;                 // f32 (N, C, S, S)
  Tensor mask;                  // i32 (N, S, S)
  Tensor label;                 // i32 (N)
  std::vector<size_t> indices;  // source indices of the N samples
  int64_t number = 0;           // position of the batch in its epoch
  // skip_bad: the samples skipped since the previous batch was handed out, in epoch order:
  // this batch's own, and those of batches before it that had no good sample at all (such
  // a batch is never handed out, so `number` can jump).
  std::vector<SkippedSample> skipped;
  bool pinned = false;  // image, mask and label are in page-locked host memory
};

class Loader {
 public:
  Loader(std::shared_ptr<const SampleSource> source, LoaderConfig config);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  const LoaderConfig& config() const { return cfg_; }
  // Source indices in the order epoch `epoch` visits them.
  std::vector<size_t> epoch_order(int epoch) const;
  int64_t batches_in_epoch(int epoch) const;

  // Starts (or restarts) epoch `epoch`: stops any running workers and launches new ones.
  void start_epoch(int epoch);
  // The next batch of the running epoch; false when the epoch is done. A worker's error
  // (e.g. an unreadable file) is rethrown when the caller reaches the batch it belongs to;
  // the batches before it are delivered first. With skip_bad such a sample is skipped instead.
  bool next(Batch& out);
  // skip_bad: every sample skipped so far in the running epoch (in the batches handed out, and
  // at the end of the epoch all of them), in epoch order. Reset by start_epoch. Call from
  // the thread that calls next().
  const std::vector<SkippedSample>& skipped() const { return skipped_; }
  int64_t skipped_count() const { return int64_t(skipped_.size()); }

  // One sample exactly as the workers prepare it: writes C*S*S floats and S*S ints.
  void prepare(size_t source_index, int epoch, int64_t position, float* image_out,
               int32_t* mask_out) const;

 private:
  struct Slot {
    Batch batch;
    int filled = 0;  // samples done, prepared or skipped
    int size = 0;
    std::vector<SkippedSample> skipped;  // in completion order; sorted when handed out
  };
  void stop_workers();
  void worker_loop();
  void record_failure(int64_t b);
  int64_t batch_len(int64_t b) const;
  // Removes the skipped samples' rows from a complete batch (their rows are garbage).
  void compact(Slot& slot) const;
  // A CPU tensor for a batch: pinned when pin_memory asks and the build can, else plain.
  Tensor batch_tensor(const Shape& shape, DType dtype, bool* pinned) const;

  std::shared_ptr<const SampleSource> src_;
  LoaderConfig cfg_;

  std::mutex mu_;
  std::condition_variable cv_work_, cv_ready_;
  std::vector<std::thread> threads_;
  std::vector<size_t> order_;
  int epoch_ = -1;
  int64_t samples_ = 0;      // samples used this epoch (after drop_last)
  int64_t batches_ = 0;
  int64_t next_sample_ = 0;  // next position a worker claims
  int64_t returned_ = 0;     // batches handed to the caller
  bool stop_ = false;
  std::exception_ptr error_;  // the first failure, in the lowest failing batch
  int64_t error_batch_ = 0;
  std::map<int64_t, Slot> slots_;
  std::vector<SkippedSample> skipped_;  // the caller's side: batches handed out (or dropped)
};

}  // namespace fcnlab::data
