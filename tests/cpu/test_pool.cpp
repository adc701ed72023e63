// Max pooling: hand-computed windows, Caffe's ceil rounding and the FCN-VGG16 sizes,
// padding that never wins, backward to the argmax, gradcheck, and the parameter errors.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

namespace {

Tensor t4(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector<double>(v, s); }

// A leaf whose values are all distinct and at least 1/numel apart (far more than gradcheck's
// eps), so every window has a unique maximum and the max is differentiable.
Tensor distinct_leaf(const Shape& s) {
  const int64_t n = s.numel();
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = double((i * 7919) % n) / double(n) - 0.5;
  return t4(v, s).set_requires_grad();
}

}  // namespace

TEST_CASE("max_pool2d 2x2/2: each output is its window's max and backward goes to the argmax") {
  Tensor x = t4({1, 3, 2, 0,
                 4, 2, 9, 1,
                 0, 5, 6, 7,
                 8, 1, 3, 2}, {1, 1, 4, 4}).set_requires_grad();
  Tensor y = max_pool2d(x, MaxPool2dOptions::make(2, 2));
  CHECK_EXACT(y, t4({4, 9, 8, 7}, {1, 1, 2, 2}));
  y.backward(t4({1, 2, 3, 4}, {1, 1, 2, 2}));
  CHECK_EXACT(x.grad(), t4({0, 0, 0, 0,
                            1, 0, 2, 0,
                            0, 0, 0, 4,
                            3, 0, 0, 0}, {1, 1, 4, 4}));
}

TEST_CASE("max_pool2d works plane by plane over N and C and in f32") {
  // Plane (n, c) holds 100*n + 10*c + arange(4) in a 2x2 image: the max is its last element.
  std::vector<float> v;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 4; ++i) v.push_back(float(100 * n + 10 * c + i));
  Tensor y = max_pool2d(Tensor::from_vector<float>(v, {2, 3, 2, 2}), MaxPool2dOptions::make(2, 2));
  CHECK(y.dtype() == DType::f32);
  CHECK_EXACT(y, Tensor::from_vector<float>({3, 13, 23, 103, 113, 123}, {2, 3, 1, 1}));
}

TEST_CASE("ceil_mode keeps the partial last window (Caffe) and floor drops it") {
  Tensor x = Tensor::arange(25, DType::f64).reshape({1, 1, 5, 5});
  Tensor yc = max_pool2d(x, MaxPool2dOptions::make(2, 2, 0, true));
  CHECK_EXACT(yc, t4({6, 8, 9, 16, 18, 19, 21, 23, 24}, {1, 1, 3, 3}));
  Tensor yf = max_pool2d(x, MaxPool2dOptions::make(2, 2, 0, false));
  CHECK_EXACT(yf, t4({6, 8, 16, 18}, {1, 1, 2, 2}));
}

TEST_CASE("padding is -inf: an all-negative input never pools to 0") {
  // 3x3/2 pad 1 on a 3x3 image: the windows are rows/cols {-1,0,1} and {1,2,3}, clipped.
  Tensor x = t4({-1, -2, -3, -4, -5, -6, -7, -8, -9}, {1, 1, 3, 3});
  Tensor y = max_pool2d(x, MaxPool2dOptions::make(3, 2, 1, true));
  CHECK_EXACT(y, t4({-1, -2, -4, -5}, {1, 1, 2, 2}));
}

TEST_CASE("ties go to the first element of the window in row-major order (Caffe)") {
  Tensor x = Tensor::ones({1, 1, 2, 4}, DType::f64).set_requires_grad();
  max_pool2d(x, MaxPool2dOptions::make(2, 2)).backward(t4({1, 1}, {1, 1, 1, 2}));
  CHECK_EXACT(x.grad(), t4({1, 0, 1, 0, 0, 0, 0, 0}, {1, 1, 2, 4}));
}

TEST_CASE("overlapping windows add their gradients at a shared argmax") {
  // 3x3/1 on a 3x4 image: the 9 sits in both windows.
  Tensor x = t4({0, 1, 0, 0,
                 0, 9, 0, 0,
                 0, 0, 0, 2}, {1, 1, 3, 4}).set_requires_grad();
  Tensor y = max_pool2d(x, {3, 3, 1, 1, 0, 0, false});
  CHECK_EXACT(y, t4({9, 9}, {1, 1, 1, 2}));
  y.backward(t4({1, 10}, {1, 1, 1, 2}));
  CHECK(x.grad().at({0, 0, 1, 1}) == 11.0);
  CHECK(sum(x.grad()).item() == 11.0);
}

TEST_CASE("pool_output_size: floor vs ceil and the dropped window that starts in the padding") {
  CHECK(pool_output_size(5, 2, 2, 0, false) == 2);
  CHECK(pool_output_size(5, 2, 2, 0, true) == 3);
  CHECK(pool_output_size(4, 2, 2, 0, true) == 2);
  CHECK(pool_output_size(3, 3, 2, 1, true) == 2);
  // in 4, k 2, s 3, pad 1: ceil((4+2-2)/3)+1 = 3, but window 3 starts at 2*3-1 = 5 >= in, so
  // it is dropped (Caffe and PyTorch): 2 windows starting at -1 and 2.
  CHECK(pool_output_size(4, 2, 3, 1, true) == 2);
  // pad 0, stride > kernel: PyTorch drops the empty window too (Caffe would keep it, empty).
  CHECK(pool_output_size(5, 1, 3, 0, true) == 2);
  Tensor y = max_pool2d(Tensor::arange(16, DType::f64).reshape({1, 1, 4, 4}),
                        MaxPool2dOptions::make(2, 3, 1, true));
  CHECK_EXACT(y, t4({0, 3, 12, 15}, {1, 1, 2, 2}));
}

TEST_CASE("FCN-VGG16 at 500x500: conv1_1 (pad 100) 698 -> pool1..pool5 349 175 88 44 22") {
  const int64_t conv1 = 500 + 2 * 100 - 3 + 1;  // conv1_1, 3x3 pad 100 (fcn.md §5)
  CHECK(conv1 == 698);
  std::vector<int64_t> want{349, 175, 88, 44, 22}, want_floor{349, 174, 87, 43, 21};
  int64_t s = conv1, f = conv1;
  for (size_t i = 0; i < want.size(); ++i) {
    s = pool_output_size(s, 2, 2, 0, true);
    f = pool_output_size(f, 2, 2, 0, false);
    CHECK(s == want[i]);
    CHECK(f == want_floor[i]);  // torchvision's floor mode would lose a row at pool2..pool5
  }
  // The same through the op on real tensors.
  Tensor x = Tensor::zeros({1, 1, conv1, conv1});
  for (int64_t w : want) {
    x = max_pool2d(x, MaxPool2dOptions::make(2, 2, 0, true));
    CHECK(x.shape() == Shape{1, 1, w, w});
  }
  // FCN-AlexNet: conv1 11x11/4 pad 100 -> 173, pool1 3/2 -> 86, pool2 43, pool5 21 (fcn.md §5).
  CHECK(pool_output_size(173, 3, 2, 0, true) == 86);
  CHECK(pool_output_size(43, 3, 2, 0, true) == 21);
}

TEST_CASE("gradcheck: max_pool2d for floor / ceil / padded / overlapping windows") {
  Tensor x = distinct_leaf({2, 2, 5, 5});
  CHECK_GRADCHECK([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions::make(2, 2)); }, {x});
  CHECK_GRADCHECK([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions::make(2, 2, 0, true)); }, {x});
  CHECK_GRADCHECK([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions::make(3, 2, 1, true)); }, {x});
  CHECK_GRADCHECK([](auto& v) { return max_pool2d(v[0], MaxPool2dOptions{3, 2, 1, 2, 1, 0, false}); }, {x});
}

TEST_CASE("max_pool2d rejects bad parameters and inputs and names the field") {
  Tensor x = Tensor::zeros({1, 1, 4, 4});
  CHECK_THROWS_WITH_AS(max_pool2d(x, MaxPool2dOptions::make(0, 1)), doctest::Contains("kernel_h must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, {2, -1, 2, 2, 0, 0, false}), doctest::Contains("kernel_w must be >= 1"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, MaxPool2dOptions::make(2, 0)), doctest::Contains("stride_h must be >= 1"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, MaxPool2dOptions::make(2, 2, 2)), doctest::Contains("pad_h must be in [0, kernel_h/2] = [0, 1], got 2"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, MaxPool2dOptions::make(3, 1, -1)), doctest::Contains("pad_h"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, MaxPool2dOptions::make(5, 1)), doctest::Contains("output size would be <= 0"), Error);
  CHECK_THROWS_AS(pool_output_size(3, 5, 1, 0, true), Error);
  CHECK_THROWS_AS(pool_output_size(3, 2, 1, 2, true), Error);
  CHECK_THROWS_AS(max_pool2d(Tensor::zeros({4, 4}), MaxPool2dOptions::make(2, 2)), Error);
  CHECK_THROWS_WITH_AS(max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::i32), MaxPool2dOptions::make(2, 2)),
                       doctest::Contains("f32 or f64, got i32"), Error);
}
