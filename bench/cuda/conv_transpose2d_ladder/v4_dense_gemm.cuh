// conv_transpose2d ladder v4 — register-tiled implicit GEMM over the dense tap range: what
// fcnlab ships for stride 1 and dilated convs (kernels/cuda/conv2d.cu's conv2d_backward_data;
// this file only launches the same loaders; strided, undilated ones take v5): y[g] (Cg x N*H*W) = w[g]^T (Cg x Kg*R*S) * gather(x)[g] (Kg*R*S x N*H*W) on the tiled
// engine of gemm.cuh (128 x 128 x 8 tiles, 8 x 8 per thread, double-buffered shared memory).
// Tiles and registers win everything v2/v3 lose to global loads — but the K dimension still runs
// over all R*S taps, gathering zeros for the (sh*sw - 1)/(sh*sw) of them that cannot contribute,
// so at stride 32 it multiplies by zero 1023 times for every useful FMA. Shapes as v1.
#pragma once
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm_launch.cuh"

namespace fcnlab::ladder {

using kernels::cuda::ConvGeom;

inline void convt_v4_dense_gemm(const float* x, const float* w, float* y, const ConvGeom& c, cudaStream_t) {
  using namespace kernels::cuda;
  run_tiled_gemm<float>(c.G, c.Cg, int64_t(c.N) * c.H * c.W, int64_t(c.Kg) * c.R * c.S,
                        BwdDataWeightRows<float>{w, c}, BwdDataGradCols<float>{x, c},
                        BwdDataStore<float>{y, c});
}

}  // namespace fcnlab::ladder
