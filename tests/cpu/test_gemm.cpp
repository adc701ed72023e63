// GEMM: the packed AVX2 SGEMM against the plain triple loop (exact on small-integer data, for
// sizes that are not multiples of the micro-kernel or of the cache blocks, with transposes,
// beta and row bias, on one and on several threads), then matmul and linear as ops.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "engine/ops.h"
#include "kernels/cpu/gemm.h"
#include "tests/common/check.h"
#include "tests/common/gradcheck.h"

using namespace fcnlab;
using kernels::cpu::MatView;

namespace {

// Integers in [lo, hi]: every product and partial sum below is exact in float.
std::vector<float> small_ints(size_t n, std::mt19937& rng, int lo = -3, int hi = 3) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = static_cast<float>(d(rng));
  return v;
}

// Runs sgemm on C = op(A) op(B) + beta C (+ bias) and the naive loop in double; returns the
// number of differing elements (0 expected: the data are small integers).
int64_t sgemm_mismatches(int64_t M, int64_t N, int64_t K, bool ta, bool tb, float beta, bool bias,
                         std::mt19937& rng) {
  std::vector<float> a = small_ints(static_cast<size_t>(M * K), rng);
  std::vector<float> b = small_ints(static_cast<size_t>(K * N), rng);
  std::vector<float> c = small_ints(static_cast<size_t>(M * N), rng);
  std::vector<float> bv = small_ints(static_cast<size_t>(M), rng);
  // op(A) is M x K: stored K x M when transposed.
  MatView<float> A = ta ? MatView<float>{a.data(), 1, M} : MatView<float>{a.data(), K, 1};
  MatView<float> B = tb ? MatView<float>{b.data(), 1, K} : MatView<float>{b.data(), N, 1};
  std::vector<double> ad(a.begin(), a.end()), bd(b.begin(), b.end());
  std::vector<double> cd(c.begin(), c.end());
  MatView<double> Ad{ad.data(), A.rs, A.cs}, Bd{bd.data(), B.rs, B.cs};
  if (beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  kernels::cpu::sgemm(M, N, K, A, B, beta, c.data(), N, bias ? bv.data() : nullptr);
  kernels::cpu::gemm_naive<double>(M, N, K, Ad, Bd, beta, cd.data(), N);
  int64_t bad = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double want = cd[static_cast<size_t>(i * N + j)] + (bias ? bv[static_cast<size_t>(i)] : 0.0);
      if (static_cast<double>(c[static_cast<size_t>(i * N + j)]) != want) ++bad;
    }
  return bad;
}

}  // namespace

TEST_CASE("sgemm equals the triple loop exactly on odd sizes, transposes, beta and bias") {
  std::mt19937 rng(7);
  struct Case { int64_t M, N, K; };
  // Below, at and above the 6x16 tile, the 144-row / 256-deep / 3072-column blocks; the larger
  // ones run on several threads (split by columns, or by rows when N is narrow).
  const Case cases[] = {{1, 1, 1},     {5, 17, 3},    {6, 16, 8},    {7, 15, 1},
                        {13, 50, 31},  {6, 16, 257},  {150, 33, 40}, {145, 200, 70},
                        {300, 20, 100}, {8, 3100, 9}, {37, 61, 513}, {64, 784, 90},
                        {20, 2000, 64}, {130, 3000, 20}};
  for (const Case& cs : cases)
    for (int variant = 0; variant < 4; ++variant) {
      const bool ta = variant & 1, tb = variant & 2;
      CAPTURE(cs.M);
      CAPTURE(cs.N);
      CAPTURE(cs.K);
      CAPTURE(variant);
      CHECK(sgemm_mismatches(cs.M, cs.N, cs.K, ta, tb, 0.0f, false, rng) == 0);
    }
  CHECK(sgemm_mismatches(13, 50, 31, false, false, 1.0f, false, rng) == 0);
  CHECK(sgemm_mismatches(145, 200, 300, false, false, 1.0f, true, rng) == 0);
  CHECK(sgemm_mismatches(13, 50, 31, true, false, 2.0f, true, rng) == 0);
  CHECK(sgemm_mismatches(7, 9, 0, false, false, 2.0f, true, rng) == 0);  // K = 0: C = beta C + bias
}

TEST_CASE("sgemm packs a large A in windows of K blocks and gets the same result") {
  std::mt19937 rng(5);
  const int64_t old = kernels::cpu::sgemm_set_packed_a_budget_bytes(1);  // one kc-block per window
  CHECK(sgemm_mismatches(150, 400, 700, false, false, 0.0f, true, rng) == 0);
  CHECK(sgemm_mismatches(13, 50, 600, true, true, 1.0f, false, rng) == 0);
  CHECK(sgemm_mismatches(30, 2000, 520, false, false, 0.0f, false, rng) == 0);
  kernels::cpu::sgemm_set_packed_a_budget_bytes(old);
}

TEST_CASE("sgemm writes only inside its M x N window of a wider C (ldc > N)") {
  const int64_t M = 7, N = 19, K = 5, ldc = 24;
  std::vector<float> a(M * K, 1.0f), b(K * N, 2.0f), c(M * ldc, -1.0f);
  kernels::cpu::sgemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, 0.0f, c.data(), ldc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) CHECK(c[static_cast<size_t>(i * ldc + j)] == (j < N ? 10.0f : -1.0f));
}

TEST_CASE("matmul: hand-computed product, f32 and f64, and the tensor-level gemm transposes") {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).to(dt);
    Tensor b = Tensor::from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2}).to(dt);
    Tensor c = matmul(a, b);
    CHECK(c.dtype() == dt);
    CHECK(c.to_vector() == std::vector<double>{58, 64, 139, 154});
    Tensor ct = Tensor::empty({3, 3}, dt);  // a^T b^T: (3x2)(2x3)
    kernels::cpu::gemm(a, true, b, true, 0.0, ct);
    CHECK(ct.to_vector() == std::vector<double>{39, 49, 59, 54, 68, 82, 69, 87, 105});
  }
}

TEST_CASE("linear: hand-computed x w^T + b") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::from_vector<float>({1, 0, -1, 2, 1, 0}, {2, 3});
  Tensor b = Tensor::from_vector<float>({10, 20}, {2});
  CHECK(linear(x, w, b).to_vector() == std::vector<double>{8, 24, 8, 33});
  CHECK(linear(x, w, Tensor()).to_vector() == std::vector<double>{-2, 4, -2, 13});
}

TEST_CASE("gradcheck: matmul and linear") {
  Generator g(3);
  Tensor a = test::rand_leaf({3, 4}, g), b = test::rand_leaf({4, 5}, g);
  CHECK_GRADCHECK([](auto& v) { return matmul(v[0], v[1]); }, {a, b});
  Tensor x = test::rand_leaf({3, 4}, g), w = test::rand_leaf({2, 4}, g), bias = test::rand_leaf({2}, g);
  CHECK_GRADCHECK([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
  CHECK_GRADCHECK([](auto& v) { return linear(v[0], v[1], Tensor()); }, {x, w});
}

TEST_CASE("f32 matmul gradients equal the f64 ones on integer data") {
  std::mt19937 rng(11);
  std::vector<float> av = small_ints(40 * 30, rng), bv = small_ints(30 * 50, rng), gv = small_ints(40 * 50, rng);
  Tensor seed32 = Tensor::from_vector(gv, {40, 50});
  auto grads = [&](DType dt) {
    Tensor a = Tensor::from_vector(av, {40, 30}).to(dt).set_requires_grad();
    Tensor b = Tensor::from_vector(bv, {30, 50}).to(dt).set_requires_grad();
    matmul(a, b).backward(seed32.to(dt));
    return std::pair{a.grad().to(DType::f64), b.grad().to(DType::f64)};
  };
  auto [a32, b32] = grads(DType::f32);
  auto [a64, b64] = grads(DType::f64);
  CHECK_EXACT(a32, a64);
  CHECK_EXACT(b32, b64);
}

TEST_CASE("matmul and linear reject wrong ranks and sizes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 2});
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("inner sizes differ"), Error);
  CHECK_THROWS_WITH_AS(matmul(Tensor::zeros({2, 3, 1}), b), doctest::Contains("must be 2-d"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, Tensor::zeros({3, 2}, DType::f64)), doctest::Contains("dtypes differ"), Error);
  CHECK_THROWS_WITH_AS(linear(a, Tensor::zeros({5, 4}), Tensor()), doctest::Contains("weight expects 4"), Error);
  CHECK_THROWS_WITH_AS(linear(a, Tensor::zeros({5, 3}), Tensor::zeros({4})),
                       doctest::Contains("bias must be 1-d of size 5"), Error);
}
