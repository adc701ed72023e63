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

using namespace fcnlab;
using namespace fcnlab::data;

namespace {

// In-memory phantoms (48x48), label = index % 3 == 0; index `bad` throws when loaded.
class PhantomSource : public SampleSource {
 public:
  explicit PhantomSource(size_t n, long bad = -1) : bad_(bad) {
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
    FCNLAB_CHECK(long(i) != bad_, "sample ", i, ": cannot decode (test)");
    return samples_[i];
  }

 private:
  std::vector<SiimSample> samples_;
  long bad_;
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
  auto src = std::make_shared<PhantomSource>(6, 4);
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
