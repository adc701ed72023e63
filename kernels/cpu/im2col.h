// cpu/im2col.h — lowering a convolution onto a matrix multiply.
//
// For one image and one group, the column matrix col has Cg*R*S rows (row k = (c, r, s)) and
// P*Q columns (column n = (p, q)): col[k][n] = x[c][p*sh - ph + r*dh][q*sw - pw + s*dw], zero
// outside the image. Then y (Kg x PQ) = w (Kg x CgRS) * col, the data gradient is
// col2im(w^T * dy), and the weight gradient is dy * col^T.
// Im2colPackB packs blocks of col straight from the image for the SGEMM, so the forward pass
// never stores col; im2col/col2im materialize a range of columns for the backward passes.
#pragma once
#include <cstdint>

#include "engine/ops/conv.h"
#include "kernels/cpu/gemm.h"

namespace fcnlab::kernels::cpu {

// Every size of one convolution, taken from x (N, C, H, W), w (K, C/groups, R, S) and y (N, K, P, Q).
struct ConvGeom {
  int64_t N, C, H, W;   // input
  int64_t K, R, S;      // output channels, kernel size
  int64_t P, Q;         // output size
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t groups, Cg, Kg;  // channels per group
  int64_t CRS() const { return Cg * R * S; }  // rows of col (per group)
  int64_t PQ() const { return P * Q; }        // columns of col
  int64_t HW() const { return H * W; }
  bool is_pointwise() const {  // 1x1, stride 1, no padding: col is x itself
    return R == 1 && S == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  }
};
ConvGeom make_conv_geom(const Shape& x, const Shape& w, const Shape& y, const Conv2dOptions& o);

// col[k][j] for columns n0 .. n0+ncol-1 (row stride ncol) from x_g: (Cg, H, W) of one image/group.
template <class T>
void im2col(const ConvGeom& g, const T* x_g, int64_t n0, int64_t ncol, T* col);

// dx_g[c][h][w] += col[k][j] over the same index map (the adjoint of im2col). Not zeroed here.
template <class T>
void col2im_add(const ConvGeom& g, const T* col, int64_t n0, int64_t ncol, T* dx_g);

// Packs blocks of col for sgemm directly from the image x_g (Cg, H, W).
class Im2colPackB final : public PackB {
 public:
  Im2colPackB(const ConvGeom& g, const float* x_g) : g_(g), x_(x_g) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const override;

 private:
  ConvGeom g_;
  const float* x_;
};

// Packs blocks of col^T (PQ x CgRS: GEMM row k = output position, column j = (c, r, s)) from
// the image x_g, for the weight gradient dw_g = dy_g * col^T.
class Im2colTransposedPackB final : public PackB {
 public:
  Im2colTransposedPackB(const ConvGeom& g, const float* x_g) : g_(g), x_(x_g) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* dst) const override;

 private:
  ConvGeom g_;
  const float* x_;
};

}  // namespace fcnlab::kernels::cpu
