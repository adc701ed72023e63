// The threaded loader: identical batches for worker counts 1 and 2, epoch orders,
// positive oversampling, partial batches, errors from workers, and a SIIM folder source.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>

#include "data/loader.h"
#include "data/phantom.h"
#include "engine/error.h"
#include "tests/cpu/data_fixtures.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/runtime.h"
#endif

using namespace fcnlab;
using namespace fcnlab::data;

namespace {

// In-memory phantoms (48x48), label = index % 3 == 0; the indices in `bad` throw when loaded.
class PhantomSource : public SampleSource {
 public:
  explicit PhantomSource(size_t n, std::set<size_t> bad = {}) : bad_(std::move(bad)) {
    for (size_t i = 0; i < n; ++i) {
      Phantom p = render_phantom(48, i % 3 == 0, 4, i);
      SiimSample s;
      s.image = p.image;
      s.mask = p.mask;
      for (uint8_t& v : s.mask.pixels) v = v ? 1 : 0;
      s.label = p.positive;
      samples_.push_back(std::move(s));
    }
  }
  size_t size() const override { return samples_.size(); }
  int label(size_t i) const override { return samples_[i].label; }
  SiimSample load(size_t i) const override {
    FCNLAB_CHECK(!bad_.count(i), "sample ", i, ": cannot decode (test)");
    return samples_[i];
  }

 private:
  std::vector<SiimSample> samples_;
  std::set<size_t> bad_;
};

std::vector<Batch> run_epoch(Loader& l, int epoch) {
  std::vector<Batch> out;
  l.start_epoch(epoch);
  Batch b;
  while (l.next(b)) out.push_back(b);
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

LoaderConfig small_config() {
  LoaderConfig c;
  c.batch_size = 3;
  c.size = 32;  // 48 -> 32: area resize
  c.seed = 21;
  c.augment.enabled = true;
  c.augment.ssr_p = 0.8;
  c.augment.color_p = 0.5;
  c.positive_fraction = 0.5;
  return c;
}

}  // namespace

TEST_CASE("data: the loader gives the same batches for 1 and 2 workers") {
  auto src = std::make_shared<PhantomSource>(10);
  LoaderConfig c = small_config();
  c.workers = 1;
  c.prefetch = 1;
  Loader one(src, c);
  c.workers = 2;
  c.prefetch = 3;
  Loader two(src, c);
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<Batch> a = run_epoch(one, epoch), b = run_epoch(two, epoch);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].number == int64_t(k));
      CHECK(a[k].indices == b[k].indices);
      CHECK(same_bytes(a[k].image, b[k].image));
      CHECK(same_bytes(a[k].mask, b[k].mask));
      CHECK(same_bytes(a[k].label, b[k].label));
    }
  }
  std::vector<Batch> e0 = run_epoch(two, 0), e1 = run_epoch(two, 1);
  CHECK(e0[0].indices != e1[0].indices);  // reshuffled per epoch
  // shapes and dtypes
  CHECK(e0[0].image.shape() == Shape{3, 3, 32, 32});
  CHECK(e0[0].image.dtype() == DType::f32);
  CHECK(e0[0].mask.shape() == Shape{3, 32, 32});
  CHECK(e0[0].mask.dtype() == DType::i32);
  CHECK(e0[0].label.shape() == Shape{3});
  // each sample equals prepare() on its own, and labels follow the source
  std::vector<float> img(3 * 32 * 32);
  std::vector<int32_t> mask(32 * 32);
  two.prepare(e1[1].indices[2], 1, 1 * 3 + 2, img.data(), mask.data());
  CHECK(std::memcmp(img.data(), e1[1].image.data<float>() + 2 * 3 * 32 * 32,
                    img.size() * 4) == 0);
  CHECK(std::memcmp(mask.data(), e1[1].mask.data<int32_t>() + 2 * 32 * 32, mask.size() * 4) == 0);
  for (const Batch& b : e0)
    for (size_t k = 0; k < b.indices.size(); ++k)
      CHECK(b.label.data<int32_t>()[k] == src->label(b.indices[k]));
}

TEST_CASE("data: epochs visit every sample once, or oversample positives") {
  auto src = std::make_shared<PhantomSource>(12);  // 4 positives (0, 3, 6, 9)
  LoaderConfig c;
  c.batch_size = 5;
  c.size = 16;
  c.seed = 3;
  Loader plain(src, c);
  std::vector<size_t> o = plain.epoch_order(0);
  std::vector<size_t> sorted = o;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 12; ++i) CHECK(sorted[i] == i);
  CHECK(o != plain.epoch_order(1));
  CHECK(o == plain.epoch_order(0));
  CHECK(plain.batches_in_epoch(0) == 3);  // 5 + 5 + 2
  std::vector<Batch> bs = run_epoch(plain, 0);
  REQUIRE(bs.size() == 3);
  CHECK(bs[2].image.size(0) == 2);
  c.drop_last = true;
  Loader dropping(src, c);
  CHECK(run_epoch(dropping, 0).size() == 2);

  c.drop_last = false;
  c.positive_fraction = 0.5;  // 4 positives + 4 negatives
  Loader over(src, c);
  std::vector<size_t> ov = over.epoch_order(0);
  CHECK(ov.size() == 8);
  int pos = 0;
  for (size_t i : ov) pos += src->label(i);
  CHECK(pos == 4);
  c.positive_fraction = 0.2;  // 4 positives + 16 negatives: 8 without replacement, 8 with
  Loader under(src, c);
  std::vector<size_t> un = under.epoch_order(0);
  CHECK(un.size() == 20);
  pos = 0;
  for (size_t i : un) pos += src->label(i);
  CHECK(pos == 4);
}

TEST_CASE("data: a worker's error reaches the caller with its message") {
  auto src = std::make_shared<PhantomSource>(6, std::set<size_t>{4});
  LoaderConfig c;
  c.batch_size = 2;
  c.size = 16;
  c.shuffle = false;
  Loader l(src, c);
  l.start_epoch(0);
  Batch b;
  CHECK(l.next(b));  // samples 0, 1
  CHECK(l.next(b));  // samples 2, 3
  CHECK_THROWS_WITH_AS(l.next(b), doctest::Contains("sample 4: cannot decode"), Error);
  // a restart works (and fails again at the same place)
  l.start_epoch(0);
  CHECK(l.next(b));
  LoaderConfig bad;
  bad.workers = 0;
  CHECK_THROWS_WITH_AS(Loader(src, bad), doctest::Contains("workers must be >= 1"), Error);
}

TEST_CASE("data: a SIIM folder feeds the loader through SiimSource and a split") {
  test::TempDir dir("ldr");
  PhantomSetOptions o;
  o.count = 8;
  o.size = 64;
  o.seed = 2;
  o.positive_fraction = 0.5;
  o.test_fraction = 0.0;
  write_phantom_set(dir.str(), o);
  SiimPngDataset ds = SiimPngDataset::open(dir.str());
  TrainValSplit sp = stratified_split(ds.train(), 0.25, 1);
  CHECK(sp.val.size() == 2);
  auto src = std::make_shared<SiimSource>(ds, siim::Split::train, sp.train);
  CHECK(src->size() == 6);
  LoaderConfig c;
  c.batch_size = 4;
  c.size = 32;
  c.normalization = Normalization::none(1);
  Loader l(src, c);
  std::vector<Batch> bs = run_epoch(l, 0);
  REQUIRE(bs.size() == 2);
  CHECK(bs[0].image.shape() == Shape{4, 1, 32, 32});
  // no augmentation: a positive's mask is non-empty and image values stay in [0, 1]
  for (const Batch& b : bs)
    for (int64_t k = 0; k < b.image.size(0); ++k) {
      int fg = 0;
      for (int64_t i = 0; i < 32 * 32; ++i) fg += b.mask.data<int32_t>()[k * 32 * 32 + i];
      CHECK((fg > 0) == (b.label.data<int32_t>()[k] == 1));
      const float* im = b.image.data<float>() + k * 32 * 32;
      CHECK(*std::min_element(im, im + 32 * 32) >= 0.0f);
      CHECK(*std::max_element(im, im + 32 * 32) <= 1.0f);
    }
}

TEST_CASE("data: skip_bad leaves undecodable samples out of their batch and counts them") {
  // batch_size 3, no shuffle: batches {0,1,2} {3,4,5} {6,7,8} {9}; 1 and 6..8 fail
  auto src = std::make_shared<PhantomSource>(10, std::set<size_t>{1, 6, 7, 8});
  LoaderConfig c;
  c.batch_size = 3;
  c.size = 16;
  c.shuffle = false;
  c.seed = 5;
  c.augment.enabled = true;
  c.skip_bad = true;
  Loader l(src, c);
  std::vector<Batch> bs = run_epoch(l, 0);
  REQUIRE(bs.size() == 3);  // the batch {6,7,8} has nothing good and is not handed out
  CHECK(bs[0].number == 0);
  CHECK(bs[0].indices == std::vector<size_t>{0, 2});
  CHECK(bs[0].image.shape() == Shape{2, 3, 16, 16});
  CHECK(bs[0].mask.shape() == Shape{2, 16, 16});
  CHECK(bs[0].label.shape() == Shape{2});
  REQUIRE(bs[0].skipped.size() == 1);
  CHECK(bs[0].skipped[0].index == 1);
  CHECK(bs[0].skipped[0].position == 1);
  CHECK(bs[0].skipped[0].reason.find("sample 1: cannot decode") != std::string::npos);
  CHECK(bs[1].number == 1);
  CHECK(bs[1].indices == std::vector<size_t>{3, 4, 5});
  CHECK(bs[1].skipped.empty());
  CHECK(bs[2].number == 3);  // batch 2 was dropped whole; its samples ride on batch 3
  CHECK(bs[2].indices == std::vector<size_t>{9});
  REQUIRE(bs[2].skipped.size() == 3);
  CHECK(bs[2].skipped[0].index == 6);
  CHECK(bs[2].skipped[2].index == 8);
  CHECK(l.skipped_count() == 4);
  // the rows that remain are exactly what prepare() gives for their epoch position
  std::vector<float> img(3 * 16 * 16);
  std::vector<int32_t> mask(16 * 16);
  l.prepare(2, 0, 2, img.data(), mask.data());
  CHECK(std::memcmp(img.data(), bs[0].image.data<float>() + 3 * 16 * 16, img.size() * 4) == 0);
  CHECK(std::memcmp(mask.data(), bs[0].mask.data<int32_t>() + 16 * 16, mask.size() * 4) == 0);
  CHECK(bs[0].label.data<int32_t>()[1] == src->label(2));
  l.prepare(9, 0, 9, img.data(), mask.data());
  CHECK(std::memcmp(img.data(), bs[2].image.data<float>(), img.size() * 4) == 0);
  // a new epoch starts counting again
  l.start_epoch(1);
  CHECK(l.skipped_count() == 0);
  Batch b;
  while (l.next(b)) {
  }
  CHECK(l.skipped_count() == 4);
}

TEST_CASE("data: skip_bad gives the same batches for 1 and 3 workers, even at the epoch's end") {
  // the last batch has no good sample: its skips are only in Loader::skipped()
  auto src = std::make_shared<PhantomSource>(11, std::set<size_t>{2, 5, 9, 10});
  LoaderConfig c = small_config();
  c.positive_fraction = 0;
  c.shuffle = false;
  c.skip_bad = true;
  c.workers = 1;
  Loader one(src, c);
  c.workers = 3;
  c.prefetch = 2;
  Loader three(src, c);
  std::vector<Batch> a = run_epoch(one, 0), b = run_epoch(three, 0);
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (size_t k = 0; k < a.size(); ++k) {
    CHECK(a[k].indices == b[k].indices);
    CHECK(same_bytes(a[k].image, b[k].image));
    CHECK(same_bytes(a[k].mask, b[k].mask));
    CHECK(same_bytes(a[k].label, b[k].label));
    CHECK(a[k].skipped.size() == b[k].skipped.size());
  }
  CHECK(a[2].indices == std::vector<size_t>{6, 7, 8});
  CHECK(one.skipped_count() == 4);
  CHECK(three.skipped_count() == 4);
  CHECK(three.skipped().back().index == 10);
  // and shuffled with more bad samples: still identical
  c.shuffle = true;
  Loader s1(src, c);
  c.workers = 1;
  Loader s2(src, c);
  std::vector<Batch> x = run_epoch(s1, 2), y = run_epoch(s2, 2);
  REQUIRE(x.size() == y.size());
  for (size_t k = 0; k < x.size(); ++k) {
    CHECK(x[k].indices == y[k].indices);
    CHECK(same_bytes(x[k].image, y[k].image));
  }
  CHECK(s1.skipped_count() == 4);
}

TEST_CASE("data: a corrupt PNG mid-epoch is fatal by default and skipped with skip_bad") {
  test::TempDir dir("ldrbad");
  PhantomSetOptions o;
  o.count = 6;
  o.size = 32;
  o.seed = 4;
  o.test_fraction = 0.0;
  write_phantom_set(dir.str(), o);
  SiimPngDataset ds = SiimPngDataset::open(dir.str());
  REQUIRE(ds.train().size() == 6);
  // truncate the 4th image to half its bytes
  const std::string victim = ds.image_path(ds.train()[3]);
  const auto full = std::filesystem::file_size(victim);
  std::filesystem::resize_file(victim, full / 2);
  auto src = std::make_shared<SiimSource>(ds, siim::Split::train);
  LoaderConfig c;
  c.batch_size = 2;
  c.size = 16;
  c.shuffle = false;
  c.normalization = Normalization::none(1);
  Loader strict(src, c);
  strict.start_epoch(0);
  Batch b;
  CHECK(strict.next(b));
  CHECK_THROWS_WITH_AS(strict.next(b), doctest::Contains(ds.train()[3].file.c_str()), Error);
  c.skip_bad = true;
  Loader lenient(src, c);
  std::vector<Batch> bs = run_epoch(lenient, 0);
  REQUIRE(bs.size() == 3);
  CHECK(bs[1].indices == std::vector<size_t>{2});
  REQUIRE(bs[1].skipped.size() == 1);
  CHECK(bs[1].skipped[0].index == 3);
  CHECK(bs[1].skipped[0].reason.find(ds.train()[3].file) != std::string::npos);
  CHECK(lenient.skipped_count() == 1);
}

TEST_CASE("data: pin_memory gives the same batches, in page-locked memory where a GPU backend is") {
  auto src = std::make_shared<PhantomSource>(9, std::set<size_t>{4});
  LoaderConfig c = small_config();
  c.positive_fraction = 0;
  c.shuffle = false;
  c.skip_bad = true;  // batch 1 is compacted into fresh tensors: pinned as well
  Loader plain(src, c);
  c.pin_memory = true;
  Loader pinned(src, c);
  std::vector<Batch> a = run_epoch(plain, 0), b = run_epoch(pinned, 0);
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (size_t k = 0; k < a.size(); ++k) {
    CHECK(!a[k].pinned);
    CHECK(same_bytes(a[k].image, b[k].image));
    CHECK(same_bytes(a[k].mask, b[k].mask));
    CHECK(same_bytes(a[k].label, b[k].label));
    CHECK(b[k].image.device() == Device::cpu());
  }
  CHECK(b[1].image.size(0) == 2);
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  const bool gpu = kernels::cuda::device_available();
  for (const Batch& x : b) {
    CHECK(x.pinned == gpu);
    CHECK(kernels::cuda::is_pinned_host(x.image.raw_data(), x.image.nbytes()) == gpu);
    CHECK(kernels::cuda::is_pinned_host(x.mask.raw_data(), x.mask.nbytes()) == gpu);
  }
  CHECK(!kernels::cuda::is_pinned_host(a[0].image.raw_data(), a[0].image.nbytes()));
  if (gpu) {
    // host -> device from pinned memory and device -> pinned host: the direct copies
    Tensor d = b[0].image.to(Device::cuda());
    CHECK(same_bytes(d.to(Device::cpu()), a[0].image));
    b[2].image.copy_(d);
    CHECK(same_bytes(b[2].image, a[0].image));
    Tensor dm = b[1].mask.to(Device::cuda());
    CHECK(same_bytes(dm.to(Device::cpu()), a[1].mask));
  }
#else
  for (const Batch& x : b) CHECK(!x.pinned);  // CPU-only build: plain memory
#endif
}
