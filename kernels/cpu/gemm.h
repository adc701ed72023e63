// cpu/gemm.h — matrix multiply for the CPU path: a cache-blocked, packed SGEMM with an
// AVX2+FMA register micro-kernel (kGemmMR x kGemmNR floats), parallel over the cores with
// OpenMP, and a plain generic loop for double (gradient checks on tiny shapes).
//
// C (M x N) = A (M x K) * B (K x N) + beta * C, with A and B any strided view (so transposes
// cost nothing). B may also come from a PackB object that writes its packed panels directly:
// that is how conv2d runs im2col implicitly, without ever materializing the column matrix.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace fcnlab::kernels::cpu {

// The register tile of the micro-kernel: MR rows of A times NR columns of B.
inline constexpr int kGemmMR = 6;
inline constexpr int kGemmNR = 16;

// A strided read-only view of a matrix: element (i, j) is p[i * rs + j * cs].
// Row-major (rows x cols): {p, cols, 1}; its transpose: {p, 1, cols}.
template <class T>
struct MatView {
  const T* p;
  int64_t rs, cs;
  T operator()(int64_t i, int64_t j) const { return p[i * rs + j * cs]; }
  MatView transposed() const { return {p, cs, rs}; }
};

// Writes a block of B — rows k0..k0+kc-1, columns n0..n0+nc-1 — in the packed layout the
// micro-kernel reads: ceil(nc / kGemmNR) strips, strip t holding kc rows of kGemmNR floats
// (columns n0 + t*NR ...), columns past nc zero. Must be callable from several threads at once.
class PackB {
 public:
  virtual ~PackB() = default;
  virtual void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const = 0;
};

// PackB over an ordinary strided matrix.
class MatrixPackB final : public PackB {
 public:
  explicit MatrixPackB(MatView<float> b) : b_(b) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const override;

 private:
  MatView<float> b_;
};

// C = A * B + beta * C (+ row_bias[i] added to every element of row i, if given).
// C is row-major with row stride ldc. beta == 0 never reads C (it may hold garbage).
void sgemm(int64_t M, int64_t N, int64_t K, MatView<float> A, const PackB& B, float beta,
           float* C, int64_t ldc, const float* row_bias = nullptr);
void sgemm(int64_t M, int64_t N, int64_t K, MatView<float> A, MatView<float> B, float beta,
           float* C, int64_t ldc, const float* row_bias = nullptr);

// sgemm packs A at most this many bytes at a time (default 64 MiB; larger A, like fc6's
// weights, goes in windows of kc-blocks). Returns the previous value; for tests.
int64_t sgemm_set_packed_a_budget_bytes(int64_t bytes);

// The plain triple loop (i, k, j order), any element type: the reference, and the double path.
template <class T>
void gemm_naive(int64_t M, int64_t N, int64_t K, MatView<T> A, MatView<T> B, T beta, T* C,
                int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    for (int64_t k = 0; k < K; ++k) {
      const T a = A(i, k);
      if (a == T(0)) continue;
      for (int64_t j = 0; j < N; ++j) c[j] += a * B(k, j);
    }
  }
}

// float -> sgemm, double -> gemm_naive. What the conv kernels call.
inline void gemm_any(int64_t M, int64_t N, int64_t K, MatView<float> A, MatView<float> B,
                     float beta, float* C, int64_t ldc) {
  sgemm(M, N, K, A, B, beta, C, ldc);
}
inline void gemm_any(int64_t M, int64_t N, int64_t K, MatView<double> A, MatView<double> B,
                     double beta, double* C, int64_t ldc) {
  gemm_naive(M, N, K, A, B, beta, C, ldc);
}

// Tensor level, 2-d tensors: c = op(a) * op(b) + beta * c, op = transpose when asked.
// op(a): (M, K), op(b): (K, N), c: (M, N) preallocated.
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c);

}  // namespace fcnlab::kernels::cpu
