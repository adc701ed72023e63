// loader.h — the threaded data loader: worker threads decode, resize and augment samples
// into a bounded prefetch window of batches; batches come out in order as fcnlab Tensors.
//   image f32 (N, C, S, S) normalised, mask i32 (N, S, S) 0/1, label i32 (N)
// The sample order of an epoch depends only on (seed, epoch), and each sample's augmentation
// only on (seed, epoch, position in the epoch), so the same seed gives the same batches
// whatever the number of workers or the thread timing.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/siim.h"
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
};

struct Batch {
  Tensor image;                 // f32 (N, C, S, S)
  Tensor mask;                  // i32 (N, S, S)
  Tensor label;                 // i32 (N)
  std::vector<size_t> indices;  // source indices of the N samples
  int64_t number = 0;           // position of the batch in its epoch
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
  // the batches before it are delivered first.
  bool next(Batch& out);

  // One sample exactly as the workers prepare it: writes C*S*S floats and S*S ints.
  void prepare(size_t source_index, int epoch, int64_t position, float* image_out,
               int32_t* mask_out) const;

 private:
  struct Slot {
    Batch batch;
    int filled = 0;
    int size = 0;
  };
  void stop_workers();
  void worker_loop();
  int64_t batch_len(int64_t b) const;

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
};

}  // namespace fcnlab::data
