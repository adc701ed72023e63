// concat_channels and crop: exact layouts, FCN's crop offsets, split/zero-pad backward,
// gradcheck, and the errors users meet.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {
Tensor t(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector<double>(v, s); }
}  // namespace

TEST_CASE("concat_channels stacks channels image by image") {
  Tensor a = t({1, 2, 3, 4}, {2, 1, 1, 2});
  Tensor b = t({5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 1, 2});
  Tensor y = concat_channels({a, b});
  CHECK_EXACT(y, t({1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, {2, 3, 1, 2}));
  // Copies, any dtype.
  Tensor yi = concat_channels({a.to(DType::i32), b.to(DType::i32), a.to(DType::i32)});
  CHECK(yi.shape() == Shape{2, 4, 1, 2});
  CHECK(yi.to_vector() == std::vector<double>{1, 2, 5, 6, 7, 8, 1, 2, 3, 4, 9, 10, 11, 12, 3, 4});
}

TEST_CASE("concat_channels backward splits the gradient and inputs without grad get none") {
  Tensor a = t({1, 2, 3, 4}, {2, 1, 1, 2}).set_requires_grad();
  Tensor b = t({5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 1, 2});
  Tensor c = t({0, 0}, {2, 1, 1, 1}).reshape({2, 1, 1, 1});
  Tensor y = concat_channels({a, b, a});
  y.backward(t({1, 2, 0, 0, 0, 0, 10, 20, 3, 4, 0, 0, 0, 0, 30, 40}, {2, 4, 1, 2}));
  CHECK_EXACT(a.grad(), t({11, 22, 33, 44}, {2, 1, 1, 2}));  // a used twice: both slices add
  CHECK(!b.grad().defined());
  CHECK_THROWS_AS(concat_channels({a, c}), Error);  // W differs
}

TEST_CASE("gradcheck: concat_channels") {
  Generator g(11);
  Tensor a = test::rand_leaf({2, 1, 3, 2}, g), b = test::rand_leaf({2, 3, 3, 2}, g),
         c = test::rand_leaf({2, 2, 3, 2}, g);
  CHECK_GRADCHECK([](auto& v) { return concat_channels({v[0], v[1], v[2]}); }, {a, b, c});
  CHECK_GRADCHECK([](auto& v) { return concat_channels({v[0]}); }, {a});
}

TEST_CASE("concat_channels rejects an empty list and mismatched N / H / W / dtype") {
  Tensor a = Tensor::zeros({2, 1, 3, 3});
  CHECK_THROWS_WITH_AS(concat_channels({}), doctest::Contains("list of tensors is empty"), Error);
  CHECK_THROWS_WITH_AS(concat_channels({a, Tensor::zeros({1, 1, 3, 3})}),
                       doctest::Contains("tensor 1 has shape [1, 1, 3, 3]; expected N, H, W of tensor 0 [2, 1, 3, 3]"), Error);
  CHECK_THROWS_AS(concat_channels({a, Tensor::zeros({2, 1, 4, 3})}), Error);
  CHECK_THROWS_AS(concat_channels({a, Tensor::zeros({2, 1, 3, 4})}), Error);
  CHECK_THROWS_WITH_AS(concat_channels({a, Tensor::zeros({2, 1, 3, 3}, DType::f64)}),
                       doctest::Contains("dtype f64, expected f32"), Error);
  CHECK_THROWS_WITH_AS(concat_channels({a, Tensor::zeros({2, 3, 3})}), doctest::Contains("must be 4-d"), Error);
}

TEST_CASE("crop takes the window at the offsets in every plane") {
  Tensor x = Tensor::arange(2 * 1 * 4 * 5, DType::f64).reshape({2, 1, 4, 5});
  Tensor y = crop(x, 1, 2, 2, 3);
  CHECK_EXACT(y, t({7, 8, 9, 12, 13, 14, 27, 28, 29, 32, 33, 34}, {2, 1, 2, 3}));
  CHECK_EXACT(crop(x, 0, 0, 4, 5), x);
  CHECK_EXACT(crop_like(x, Tensor::zeros({7, 9, 2, 2}), 1), t({6, 7, 11, 12, 26, 27, 31, 32}, {2, 1, 2, 2}));
}

TEST_CASE("crop backward pads the gradient with zeros") {
  Tensor x = Tensor::zeros({1, 1, 3, 4}, DType::f64).set_requires_grad();
  crop(x, 1, 1, 2, 2).backward(t({1, 2, 3, 4}, {1, 1, 2, 2}));
  CHECK_EXACT(x.grad(), t({0, 0, 0, 0,
                           0, 1, 2, 0,
                           0, 3, 4, 0}, {1, 1, 3, 4}));
}

TEST_CASE("FCN's crops: upscore 544 -> 500 at offset 19 and fcn8s upscore8 568 at offset 31") {
  Tensor data = Tensor::zeros({1, 3, 500, 500});
  Tensor upscore = Tensor::arange(544 * 544).reshape({1, 1, 544, 544});
  Tensor score = crop_like(upscore, data, 19);
  CHECK(score.shape() == Shape{1, 1, 500, 500});
  CHECK(score.at({0, 0, 0, 0}) == 19.0 * 544 + 19);
  CHECK(score.at({0, 0, 499, 499}) == 518.0 * 544 + 518);
  CHECK(crop_like(Tensor::zeros({1, 2, 568, 568}), data, 31).shape() == Shape{1, 2, 500, 500});
  CHECK_THROWS_AS(crop_like(Tensor::zeros({1, 2, 568, 568}), data, 69), Error);  // 69 + 500 > 568
}

TEST_CASE("gradcheck: crop") {
  Generator g(12);
  Tensor x = test::rand_leaf({2, 2, 5, 6}, g);
  CHECK_GRADCHECK([](auto& v) { return crop(v[0], 1, 2, 3, 3); }, {x});
  CHECK_GRADCHECK([](auto& v) { return crop(v[0], 0, 0, 5, 6); }, {x});
}

TEST_CASE("crop rejects windows outside the input and says the offsets and sizes") {
  Tensor x = Tensor::zeros({1, 1, 4, 5});
  CHECK_THROWS_WITH_AS(crop(x, 2, 0, 3, 5),
                       doctest::Contains("window at offset (2, 0) of size (3, 5) falls outside the input of size (4, 5)"), Error);
  CHECK_THROWS_AS(crop(x, 0, 1, 4, 5), Error);
  CHECK_THROWS_WITH_AS(crop(x, -1, 0, 2, 2), doctest::Contains("offsets (-1, 0) must be >= 0"), Error);
  CHECK_THROWS_WITH_AS(crop(x, 0, 0, 0, 2), doctest::Contains("output size (0, 2)"), Error);
  CHECK_THROWS_AS(crop(Tensor::zeros({4, 5}), 0, 0, 1, 1), Error);
}
