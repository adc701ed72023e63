// End to end on the CPU: a tiny FCN-shaped conv net learns the toy disc segmentation task.
// Seeded, fixed step budget; the loss must fall at least 10x and the held-out Dice be high.
#include <doctest/doctest.h>

#include <cmath>

#include "data/toy_discs.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "models/toy_fcn.h"

using namespace fcnlab;

namespace {

// Mean foreground Dice of argmax predictions against the mask.
double dice_of(const Tensor& scores, const Tensor& mask) {
  Tensor pred = argmax_channels(scores);
  const int32_t* p = pred.data<int32_t>();
  const int32_t* t = mask.data<int32_t>();
  double inter = 0, sp = 0, st = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) {
    inter += (p[i] == 1 && t[i] == 1);
    sp += (p[i] == 1);
    st += (t[i] == 1);
  }
  return (2 * inter + 1) / (sp + st + 1);
}

}  // namespace

TEST_CASE("a tiny conv net learns the toy segmentation task: loss falls 10x within 150 steps") {
  ToyFcn net(1, 2, 8, /*seed=*/7);
  Adam opt(net.named_parameters(), AdamOptions{.lr = 0.01});
  double first = 0, last = 0;
  const int steps = 150;
  double tail = 0;
  for (int step = 0; step < steps; ++step) {
    data::ToyBatch b = data::make_toy_discs(8, 24, /*seed=*/1, static_cast<uint64_t>(step));
    Tensor loss = cross_entropy(net(b.image), b.mask);
    opt.zero_grad();
    loss.backward();
    opt.step();
    double v = loss.item();
    REQUIRE(std::isfinite(v));
    if (step == 0) first = v;
    if (step >= steps - 10) tail += v / 10;  // mean of the last 10 steps: robust to one easy batch
    last = v;
  }
  INFO("first loss " << first << ", mean of the last 10 " << tail << ", last " << last);
  CHECK(first > 0.3);          // starts near log 2, not already solved
  CHECK(tail < first / 10.0);  // learned

  NoGrad ng;
  net.eval();
  data::ToyBatch held = data::make_toy_discs(16, 24, /*seed=*/999, 0);
  double dice = dice_of(net(held.image), held.mask);
  INFO("held-out Dice " << dice);
  CHECK(dice > 0.9);
}

TEST_CASE("toy discs are deterministic by (seed, index) and the mask marks bright discs only") {
  data::ToyBatch a = data::make_toy_discs(2, 16, 5, 3), b = data::make_toy_discs(2, 16, 5, 3);
  CHECK(a.image.to_vector() == b.image.to_vector());
  CHECK(a.mask.to_vector() == b.mask.to_vector());
  data::ToyBatch c = data::make_toy_discs(2, 16, 5, 4);
  CHECK(a.image.to_vector() != c.image.to_vector());
  std::vector<double> im = a.image.to_vector(), mk = a.mask.to_vector();
  for (size_t i = 0; i < im.size(); ++i)
    if (mk[i] == 1) CHECK(im[i] > 0.6);  // bright disc (1) plus noise within +-0.3
  CHECK_THROWS_AS(data::make_toy_discs(0, 16, 1, 0), Error);
}
