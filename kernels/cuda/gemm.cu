// cuda/gemm.cu — launcher of the tiled GEMM (gemm.cuh) for linear and matmul:
// c (M x N) = op(a) * op(b) + beta * c, op = transpose when asked, a and b contiguous 2-d.
#include "kernels/cuda/kernels.h"

#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::kernels::cuda {

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c) {
  const int64_t M = c.size(0), N = c.size(1);
  const int64_t K = trans_a ? a.size(0) : a.size(1);
  dispatch_floating(c.dtype(), "gemm", [&](auto tag) {
    using T = decltype(tag);
    // Row-major a (rows x cols) as op(a)(m, k): not transposed {cols, 1}, transposed {1, cols}.
    const int64_t ac = a.size(1), bc = b.size(1);
    const MatrixRows<T> A{a.data<T>(), trans_a ? 1 : ac, trans_a ? ac : 1,
                          !trans_a && K % 4 == 0 && rows_vec4(a.data<T>(), ac)};
    const MatrixCols<T> B{b.data<T>(), trans_b ? 1 : bc, trans_b ? bc : 1};
    const MatrixStore<T> C{c.data<T>(), N, static_cast<T>(beta)};
    run_tiled_gemm<T>(1, M, N, K, A, B, C);
  });
}

}  // namespace fcnlab::kernels::cuda
