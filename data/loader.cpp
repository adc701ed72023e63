// loader.cpp — epoch orders, per-sample preparation and the worker/prefetch machinery.
// Workers claim sample positions in order under one mutex, never more than `prefetch` batches
// ahead of the caller, prepare the sample outside the lock straight into its batch's tensors,
// and the caller takes batch b once all its samples are in.
#include "data/loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/error.h"
#include "engine/rng.h"

namespace fcnlab::data {

SiimSource::SiimSource(SiimPngDataset ds, siim::Split split)
    : ds_(std::move(ds)), records_(ds_.records(split)) {}

SiimSource::SiimSource(SiimPngDataset ds, siim::Split split, const std::vector<size_t>& indices)
    : ds_(std::move(ds)) {
  const auto& all = ds_.records(split);
  for (size_t i : indices) {
    FCNLAB_CHECK(i < all.size(), "SiimSource: index ", i, " out of range for ", all.size(),
                 " records");
    records_.push_back(all[i]);
  }
}

SiimDicomSource::SiimDicomSource(SiimDicomDataset ds) : ds_(std::move(ds)) {
  for (size_t i = 0; i < ds_.records().size(); ++i) cases_.push_back(i);
}

SiimDicomSource::SiimDicomSource(SiimDicomDataset ds, const std::vector<size_t>& indices)
    : ds_(std::move(ds)), cases_(indices) {
  for (size_t i : cases_)
    FCNLAB_CHECK(i < ds_.records().size(), "SiimDicomSource: index ", i, " out of range for ",
                 ds_.records().size(), " cases");
}

namespace {
void check_dicom_split(const std::string& root, siim::Split split) {
  FCNLAB_CHECK(split == siim::Split::train, root, ": the original release has masks (",
               siim::kRleCsv, ") for ", siim::kDicomTrainDir, " only; its test split (",
               siim::kDicomTestDir, ") cannot be loaded with labels");
}
}  // namespace

std::vector<SiimRecord> siim_records(const std::string& root, siim::Split split) {
  if (siim::detect_release(root) == siim::Release::png)
    return SiimPngDataset::open(root).records(split);
  check_dicom_split(root, split);
  return SiimDicomDataset::open(root).records();
}

std::shared_ptr<SampleSource> open_siim_source(const std::string& root, siim::Split split,
                                               const std::vector<size_t>* indices) {
  if (siim::detect_release(root) == siim::Release::png) {
    SiimPngDataset ds = SiimPngDataset::open(root);
    if (indices) return std::make_shared<SiimSource>(std::move(ds), split, *indices);
    return std::make_shared<SiimSource>(std::move(ds), split);
  }
  check_dicom_split(root, split);
  SiimDicomDataset ds = SiimDicomDataset::open(root);
  if (indices) return std::make_shared<SiimDicomSource>(std::move(ds), *indices);
  return std::make_shared<SiimDicomSource>(std::move(ds));
}

Loader::Loader(std::shared_ptr<const SampleSource> source, LoaderConfig config)
    : src_(std::move(source)), cfg_(std::move(config)) {
  FCNLAB_CHECK(src_ != nullptr, "Loader: no sample source");
  FCNLAB_CHECK(cfg_.batch_size >= 1, "Loader: batch_size must be >= 1, got ", cfg_.batch_size);
  FCNLAB_CHECK(cfg_.workers >= 1, "Loader: workers must be >= 1, got ", cfg_.workers);
  FCNLAB_CHECK(cfg_.prefetch >= 1, "Loader: prefetch must be >= 1, got ", cfg_.prefetch);
  FCNLAB_CHECK(cfg_.size >= 1, "Loader: size must be >= 1, got ", cfg_.size);
  FCNLAB_CHECK(cfg_.positive_fraction >= 0 && cfg_.positive_fraction < 1,
               "Loader: positive_fraction must be in [0, 1), got ", cfg_.positive_fraction);
  FCNLAB_CHECK(cfg_.normalization.channels >= 1 && cfg_.normalization.channels <= 3,
               "Loader: normalization channels must be 1..3, got ", cfg_.normalization.channels);
}

Loader::~Loader() { stop_workers(); }

std::vector<size_t> Loader::epoch_order(int epoch) const {
  Philox4 k = philox4x32_10(cfg_.seed, uint64_t(uint32_t(epoch)), 0x4F52444552ULL);  // "ORDER"
  Generator g((uint64_t(k.v[1]) << 32) | k.v[0]);
  auto shuffle = [&g](std::vector<size_t>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[g.next_below(i)]);
  };
  std::vector<size_t> order;
  const size_t n = src_->size();
  if (cfg_.positive_fraction <= 0) {
    for (size_t i = 0; i < n; ++i) order.push_back(i);
  } else {
    std::vector<size_t> pos, neg;
    for (size_t i = 0; i < n; ++i) (src_->label(i) ? pos : neg).push_back(i);
    const double p = cfg_.positive_fraction;
    size_t want = static_cast<size_t>(std::llround(double(pos.size()) * (1 - p) / p));
    if (pos.empty()) want = neg.size();  // nothing to oversample
    order = pos;
    shuffle(neg);
    for (size_t k2 = 0; k2 < want && !neg.empty(); ++k2) {
      // without replacement while negatives last, then with replacement
      order.push_back(k2 < neg.size() ? neg[k2] : neg[g.next_below(neg.size())]);
    }
    std::sort(order.begin(), order.end());
  }
  if (cfg_.shuffle) shuffle(order);
  return order;
}

int64_t Loader::batches_in_epoch(int epoch) const {
  int64_t n = int64_t(epoch_order(epoch).size()), bs = cfg_.batch_size;
  return cfg_.drop_last ? n / bs : (n + bs - 1) / bs;
}

int64_t Loader::batch_len(int64_t b) const {
  return std::min<int64_t>(cfg_.batch_size, samples_ - b * cfg_.batch_size);
}

void Loader::prepare(size_t source_index, int epoch, int64_t position, float* image_out,
                     int32_t* mask_out) const {
  SiimSample s = src_->load(source_index);
  if (cfg_.clahe) s.image = clahe(s.image, cfg_.clahe_clip, cfg_.clahe_tiles, cfg_.clahe_tiles);
  FloatImage img = resize_image(to_float(s.image), cfg_.size, cfg_.size);
  GrayImage mask = resize_mask(s.mask, cfg_.size, cfg_.size);
  // the sample's randomness: (seed, epoch, position), never the thread
  const uint64_t stream = (uint64_t(uint32_t(epoch)) << 40) ^ uint64_t(position);
  apply_augment(sample_augment(cfg_.augment, cfg_.seed, stream), img, mask);
  write_normalized(img, cfg_.normalization, image_out);
  for (size_t i = 0; i < mask.pixels.size(); ++i) mask_out[i] = mask.pixels[i] ? 1 : 0;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Loader::start_epoch(int epoch) {
  stop_workers();
  std::vector<size_t> order = epoch_order(epoch);
  {
    std::lock_guard<std::mutex> lock(mu_);
    order_ = std::move(order);
    epoch_ = epoch;
    const int64_t n = int64_t(order_.size()), bs = cfg_.batch_size;
    samples_ = cfg_.drop_last ? n / bs * bs : n;
    batches_ = (samples_ + bs - 1) / bs;
    next_sample_ = 0;
    returned_ = 0;
    stop_ = false;
    error_ = nullptr;
    error_batch_ = 0;
    slots_.clear();
    skipped_.clear();
  }
  for (int w = 0; w < cfg_.workers; ++w) threads_.emplace_back([this] { worker_loop(); });
}

// Called from a worker's catch block: keeps the exception of the lowest failing batch.
void Loader::record_failure(int64_t b) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_ || b < error_batch_) {
    error_ = std::current_exception();
    error_batch_ = b;
  }
  cv_ready_.notify_all();
  cv_work_.notify_all();
}

void Loader::worker_loop() {
  const int C = cfg_.normalization.channels;
  const int64_t S = cfg_.size, bs = cfg_.batch_size;
  while (true) {
    int64_t pos, b;
    float* img_ptr;
    int32_t* mask_ptr;
    size_t src_index;
    int epoch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // after an error, positions in or past the failing batch are not claimed any more;
      // earlier batches still complete, so the caller gets them before the error
      auto finished = [&] {
        return stop_ || next_sample_ >= samples_ || (error_ && next_sample_ / bs >= error_batch_);
      };
      cv_work_.wait(lock, [&] {
        return finished() || next_sample_ / bs < returned_ + cfg_.prefetch;
      });
      if (finished()) return;
      pos = next_sample_++;
      b = pos / bs;
      Slot& slot = slots_[b];
      if (!slot.batch.image.defined()) {
        const int64_t n = batch_len(b);
        slot.size = int(n);
        slot.batch.number = b;
        slot.batch.image = batch_tensor({n, C, S, S}, DType::f32, &slot.batch.pinned);
        slot.batch.mask = batch_tensor({n, S, S}, DType::i32, &slot.batch.pinned);
        slot.batch.label = batch_tensor({n}, DType::i32, &slot.batch.pinned);
        slot.batch.indices.assign(size_t(n), 0);
      }
      const int64_t k = pos - b * bs;
      src_index = order_[size_t(pos)];
      slot.batch.indices[size_t(k)] = src_index;
      slot.batch.label.data<int32_t>()[k] = src_->label(src_index);
      img_ptr = slot.batch.image.data<float>() + k * C * S * S;
      mask_ptr = slot.batch.mask.data<int32_t>() + k * S * S;
      epoch = epoch_;
    }
    // the tensors stay alive in slots_ until the batch is complete and taken
    try {
      prepare(src_index, epoch, pos, img_ptr, mask_ptr);
    } catch (const Error& e) {
      if (!cfg_.skip_bad) {
        record_failure(b);
        return;
      }
      // the row stays unwritten; next() cuts it out when the batch is complete
      std::lock_guard<std::mutex> lock(mu_);
      Slot& slot = slots_[b];
      slot.skipped.push_back({src_index, pos, e.what()});
      if (++slot.filled == slot.size) cv_ready_.notify_all();
      continue;
    } catch (...) {
      record_failure(b);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Slot& slot = slots_[b];
      if (++slot.filled == slot.size) cv_ready_.notify_all();
    }
  }
}

Tensor Loader::batch_tensor(const Shape& shape, DType dtype, bool* pinned) const {
  Allocator* a = cfg_.pin_memory ? pinned_host_allocator() : nullptr;
  *pinned = a != nullptr;
  if (!a) return Tensor::empty(shape, dtype);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape.numel()) * dtype_size(dtype),
                                            Device::cpu(), a);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void Loader::compact(Slot& slot) const {
  std::sort(slot.skipped.begin(), slot.skipped.end(),
            [](const SkippedSample& a, const SkippedSample& b) { return a.position < b.position; });
  Batch& in = slot.batch;
  const int64_t n = slot.size, good = n - int64_t(slot.skipped.size());
  const int64_t first = in.number * cfg_.batch_size;
  std::vector<bool> bad(size_t(n), false);
  for (const SkippedSample& s : slot.skipped) bad[size_t(s.position - first)] = true;
  Batch out;
  out.number = in.number;
  if (good > 0) {
    const Shape& is = in.image.shape();
    const int64_t img_row = is[1] * is[2] * is[3], mask_row = is[2] * is[3];
    out.image = batch_tensor({good, is[1], is[2], is[3]}, DType::f32, &out.pinned);
    out.mask = batch_tensor({good, is[2], is[3]}, DType::i32, &out.pinned);
    out.label = batch_tensor({good}, DType::i32, &out.pinned);
    int64_t j = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (bad[size_t(k)]) continue;
      std::memcpy(out.image.data<float>() + j * img_row, in.image.data<float>() + k * img_row,
                  size_t(img_row) * sizeof(float));
      std::memcpy(out.mask.data<int32_t>() + j * mask_row, in.mask.data<int32_t>() + k * mask_row,
                  size_t(mask_row) * sizeof(int32_t));
      out.label.data<int32_t>()[j] = in.label.data<int32_t>()[k];
      out.indices.push_back(in.indices[size_t(k)]);
      ++j;
    }
  }
  out.skipped = std::move(slot.skipped);
  in = std::move(out);
}

bool Loader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mu_);
  FCNLAB_CHECK(epoch_ >= 0, "Loader::next: call start_epoch first");
  std::vector<SkippedSample> carried;  // from batches in which every sample was skipped
  while (true) {
    if (returned_ >= batches_) return false;
    auto failed = [&] { return error_ && returned_ >= error_batch_; };
    cv_ready_.wait(lock, [&] {
      if (failed()) return true;
      auto it = slots_.find(returned_);
      return it != slots_.end() && it->second.size > 0 && it->second.filled == it->second.size;
    });
    if (failed()) std::rethrow_exception(error_);
    auto it = slots_.find(returned_);
    Slot slot = std::move(it->second);
    slots_.erase(it);
    ++returned_;
    lock.unlock();
    cv_work_.notify_all();
    if (!slot.skipped.empty()) compact(slot);  // outside the lock: it copies the batch
    skipped_.insert(skipped_.end(), slot.batch.skipped.begin(), slot.batch.skipped.end());
    carried.insert(carried.end(), slot.batch.skipped.begin(), slot.batch.skipped.end());
    if (!slot.batch.indices.empty()) {
      out = std::move(slot.batch);
      out.skipped = std::move(carried);
      return true;
    }
    lock.lock();  // nothing good in this batch: go on to the next one
  }
}

}  // namespace fcnlab::data
