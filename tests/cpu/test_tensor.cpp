// Tensor basics: factories, shapes, reshape, casts, printing, the counter-based RNG.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/common/check.h"

using namespace fcnlab;

TEST_CASE("tensor factories fill the expected values") {
  Tensor z = Tensor::zeros({2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.shape() == Shape{2, 3});
  for (double v : z.to_vector()) CHECK(v == 0.0);
  Tensor f = Tensor::full({4}, 2.5, DType::f64);
  CHECK(f.dtype() == DType::f64);
  for (double v : f.to_vector()) CHECK(v == 2.5);
  Tensor a = Tensor::arange(5, DType::i32);
  CHECK(a.to_vector() == std::vector<double>{0, 1, 2, 3, 4});
  Tensor v = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(v.at({1, 2}) == 6.0);
  CHECK(v.at({0, 1}) == 2.0);
}

TEST_CASE("from_vector and at reject wrong sizes and indices") {
  CHECK_THROWS_WITH_AS(Tensor::from_vector<float>({1, 2, 3}, {2, 2}),
                       doctest::Contains("3 values for shape [2, 2]"), Error);
  Tensor t = Tensor::zeros({2, 2});
  CHECK_THROWS_AS(t.at({2, 0}), Error);
  CHECK_THROWS_AS(t.at({0}), Error);
  CHECK_THROWS_AS(t.data<double>(), Error);
}

TEST_CASE("shape has at most 5 dimensions and no negative sizes") {
  CHECK_NOTHROW(Shape({1, 2, 3, 4, 5}));
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6}), Error);
  CHECK_THROWS_AS(Shape({2, -1}), Error);
  CHECK(Shape({1, 3, 224, 224}).str() == "[1, 3, 224, 224]");
}

TEST_CASE("reshape shares storage and infers -1") {
  Tensor t = Tensor::arange(12);
  Tensor r = t.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 4});
  CHECK(r.raw_data() == t.raw_data());
  CHECK(r.at({2, 3}) == 11.0);
  CHECK_THROWS_WITH_AS(t.reshape({5, -1}), doctest::Contains("cannot reshape"), Error);
  CHECK_THROWS_AS(t.reshape({-1, -1}), Error);
}

TEST_CASE("clone copies, detach shares, casts convert") {
  Tensor t = Tensor::from_vector<float>({1.5f, -2.0f}, {2});
  Tensor c = t.clone();
  c.set_flat(0, 9);
  CHECK(t.flat(0) == 1.5);
  Tensor d = t.detach();
  d.set_flat(0, 7);
  CHECK(t.flat(0) == 7.0);
  Tensor i = t.to(DType::i32);
  CHECK(i.dtype() == DType::i32);
  CHECK(i.to_vector() == std::vector<double>{7, -2});
  Tensor u = Tensor::from_vector<uint8_t>({0, 255}, {2}).to(DType::f64);
  CHECK(u.to_vector() == std::vector<double>{0, 255});
}

TEST_CASE("a CUDA device without a CUDA backend is a clear error") {
  if (allocator_for(Device::cpu()) == nullptr) return;
  bool has_cuda = true;
  try { allocator_for(Device::cuda()); } catch (const Error&) { has_cuda = false; }
  if (!has_cuda)
    CHECK_THROWS_WITH_AS(Tensor::zeros({2}).to(Device::cuda()), doctest::Contains("not available"), Error);
  CHECK(parse_device("cuda:1").index == 1);
  CHECK_THROWS_WITH_AS(parse_device("gpu"), doctest::Contains("expected cpu, cuda or cuda:N"), Error);
}

TEST_CASE("print shows shape, dtype and values") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  std::string s = t.str();
  CHECK(s.find("shape=[2, 2]") != std::string::npos);
  CHECK(s.find("dtype=f32") != std::string::npos);
  CHECK(s.find("4") != std::string::npos);
  Tensor big = Tensor::zeros({2, 3, 40, 40});
  CHECK(big.str().size() < 8000);  // elided, not 9600 numbers
}

TEST_CASE("Philox matches the published known-answer vectors") {
  // Random123 kat_vectors: philox4x32_10, counter 0 / key 0 and counter all-ones / key all-ones.
  Philox4 a = philox4x32_10(0, 0, 0);
  CHECK(a.v[0] == 0x6627e8d5u);
  CHECK(a.v[1] == 0xe169c58du);
  CHECK(a.v[2] == 0xbc57ac4cu);
  CHECK(a.v[3] == 0x9b00dbd8u);
  Philox4 b = philox4x32_10(~0ull, ~0ull, ~0ull);
  CHECK(b.v[0] == 0x408f276du);
  CHECK(b.v[1] == 0x41c83b0eu);
  CHECK(b.v[2] == 0xa20bc7c6u);
  CHECK(b.v[3] == 0x6d5451fdu);
}

TEST_CASE("the RNG gives the same numbers for the same seed, and position-addressable streams") {
  Generator g1(42), g2(42), g3(43);
  Tensor a = Tensor::uniform({100}, 0, 1, g1);
  Tensor b = Tensor::uniform({100}, 0, 1, g2);
  Tensor c = Tensor::uniform({100}, 0, 1, g3);
  CHECK_EXACT(a, b);
  CHECK(!test::compare(a, c, 0, 0).empty());
  for (double v : a.to_vector()) CHECK((v >= 0.0 && v < 1.0));
  // Drawing in two halves gives the same stream as one draw (offsets are block-aligned at 4).
  Generator g4(42);
  Tensor h1 = Tensor::uniform({52}, 0, 1, g4);
  Tensor h2 = Tensor::uniform({48}, 0, 1, g4);
  for (int i = 0; i < 52; ++i) CHECK(h1.flat(i) == a.flat(i));
  for (int i = 0; i < 48; ++i) CHECK(h2.flat(i) == a.flat(52 + i));
}

TEST_CASE("normal has the requested mean and standard deviation") {
  Generator g(7);
  Tensor n = Tensor::normal({20000}, 3.0, 2.0, g, DType::f64);
  std::vector<double> v = n.to_vector();
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s += (x - m) * (x - m);
  s = std::sqrt(s / v.size());
  CHECK(m == doctest::Approx(3.0).epsilon(0.02));   // standard error 0.014
  CHECK(s == doctest::Approx(2.0).epsilon(0.02));
}
