// Autograd: the tape, accumulation, NoGrad, detach, and the errors users meet.
#include <doctest/doctest.h>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;

TEST_CASE("backward of a small expression gives the hand-computed gradient") {
  // L = sum((a*b + a) * 3) ; dL/da = 3(b+1), dL/db = 3a
  Tensor a = Tensor::from_vector<double>({1, 2, 3}, {3}).set_requires_grad();
  Tensor b = Tensor::from_vector<double>({4, 5, 6}, {3}).set_requires_grad();
  Tensor L = sum(scale(add(mul(a, b), a), 3.0));
  CHECK(L.item() == doctest::Approx(3 * (4 + 10 + 18 + 6)));
  L.backward();
  CHECK(a.grad().to_vector() == std::vector<double>{15, 18, 21});
  CHECK(b.grad().to_vector() == std::vector<double>{3, 6, 9});
}

TEST_CASE("gradients accumulate across backward calls and when a tensor is used twice") {
  Tensor a = Tensor::from_vector<double>({2}, {1}).set_requires_grad();
  Tensor L = mul(a, a);  // used twice: d/da = 2a
  L.backward();
  CHECK(a.grad().item() == 4.0);
  sum(a).backward();
  CHECK(a.grad().item() == 5.0);
  a.zero_grad();
  CHECK(!a.grad().defined());
}

TEST_CASE("frozen tensors get no gradient, NoGrad records nothing, detach cuts history") {
  Tensor w = Tensor::from_vector<double>({1, 2}, {2});  // requires_grad = false (frozen)
  Tensor x = Tensor::from_vector<double>({3, 4}, {2}).set_requires_grad();
  sum(mul(w, x)).backward();
  CHECK(!w.grad().defined());
  CHECK(x.grad().to_vector() == std::vector<double>{1, 2});
  {
    NoGrad ng;
    Tensor y = mul(x, x);
    CHECK(!y.requires_grad());
    CHECK(y.is_leaf());
  }
  Tensor y = mul(x, x).detach();
  CHECK(!y.requires_grad());
}

TEST_CASE("backward through a non-scalar needs a seed of the right shape") {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2}).set_requires_grad();
  Tensor y = scale(x, 2.0);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("pass a seed gradient"), Error);
  CHECK_THROWS_WITH_AS(y.backward(Tensor::ones({3}, DType::f64)), doctest::Contains("seed gradient has shape [3]"), Error);
  y.backward(Tensor::from_vector<double>({1, 10}, {2}));
  CHECK(x.grad().to_vector() == std::vector<double>{2, 20});
}

TEST_CASE("a second backward through a freed graph is an error unless retained") {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2}).set_requires_grad();
  Tensor L = sum(relu(x));
  L.backward();
  CHECK_THROWS_WITH_AS(L.backward(), doctest::Contains("already freed"), Error);
  Tensor L2 = sum(relu(x));
  x.zero_grad();
  L2.backward(Tensor(), true);
  L2.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("backward of something that needs no grad is an error") {
  Tensor x = Tensor::ones({2});
  CHECK_THROWS_WITH_AS(sum(x).backward(), doctest::Contains("does not require grad"), Error);
  CHECK_THROWS_AS(Tensor::ones({2}, DType::i32).set_requires_grad(), Error);
}

TEST_CASE("gradcheck: elementwise ops and reductions") {
  Generator g(1);
  Tensor a = test::rand_leaf({2, 3, 4}, g), b = test::rand_leaf({2, 3, 4}, g);
  CHECK_GRADCHECK([](auto& v) { return add(v[0], v[1]); }, {a, b});
  CHECK_GRADCHECK([](auto& v) { return sub(v[0], v[1]); }, {a, b});
  CHECK_GRADCHECK([](auto& v) { return mul(v[0], v[1]); }, {a, b});
  CHECK_GRADCHECK([](auto& v) { return scale(v[0], -2.5); }, {a});
  CHECK_GRADCHECK([](auto& v) { return add_scalar(v[0], 0.5); }, {a});
  CHECK_GRADCHECK([](auto& v) { return relu(v[0]); }, {a});
  CHECK_GRADCHECK([](auto& v) { return sum(v[0]); }, {a});
  CHECK_GRADCHECK([](auto& v) { return mean(mul(v[0], v[0])); }, {a});
  CHECK_GRADCHECK([](auto& v) { return v[0].reshape({4, -1}); }, {a});
}

TEST_CASE("gradcheck catches a wrong backward rule") {
  // A deliberately wrong function: its "gradient" (via detach) misses a term.
  Generator g(2);
  Tensor a = test::rand_leaf({3}, g);
  std::string r = test::gradcheck([](auto& v) { return mul(v[0], v[0].detach()); }, {a});
  CHECK(!r.empty());
}
