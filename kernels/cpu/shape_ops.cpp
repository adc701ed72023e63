// cpu/shape_ops.cpp — row copies with memcpy; element size from the dtype.
#include "kernels/cpu/shape_ops.h"

#include <cstring>

namespace fcnlab::kernels::cpu {

namespace {

// Copies `rows` blocks of `row_bytes` from src to dst, strides in bytes.
void copy_rows(const char* src, int64_t src_stride, char* dst, int64_t dst_stride, int64_t rows,
               int64_t row_bytes) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, static_cast<size_t>(row_bytes));
}

}  // namespace

void concat_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst) {
  // Per image n the src block (Ci*H*W elements) lands contiguously at channel c_offset of dst.
  const int64_t es = static_cast<int64_t>(dtype_size(src.dtype()));
  const int64_t plane = src.size(2) * src.size(3);
  const int64_t block = src.size(1) * plane * es, dst_image = dst.size(1) * plane * es;
  copy_rows(static_cast<const char*>(src.raw_data()), block,
            static_cast<char*>(dst.raw_data()) + c_offset * plane * es, dst_image, src.size(0), block);
}

void split_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst) {
  const int64_t es = static_cast<int64_t>(dtype_size(src.dtype()));
  const int64_t plane = dst.size(2) * dst.size(3);
  const int64_t block = dst.size(1) * plane * es, src_image = src.size(1) * plane * es;
  copy_rows(static_cast<const char*>(src.raw_data()) + c_offset * plane * es, src_image,
            static_cast<char*>(dst.raw_data()), block, dst.size(0), block);
}

void crop2d_forward(const Tensor& x, int64_t off_h, int64_t off_w, Tensor& y) {
  const int64_t es = static_cast<int64_t>(dtype_size(x.dtype()));
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t H = x.size(2), W = x.size(3), P = y.size(2), Q = y.size(3);
  const char* px = static_cast<const char*>(x.raw_data());
  char* py = static_cast<char*>(y.raw_data());
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    copy_rows(px + ((plane * H + off_h) * W + off_w) * es, W * es, py + plane * P * Q * es, Q * es,
              P, Q * es);
}

void crop2d_backward(const Tensor& dy, int64_t off_h, int64_t off_w, Tensor& dx) {
  const int64_t es = static_cast<int64_t>(dtype_size(dy.dtype()));
  const int64_t planes = dx.size(0) * dx.size(1);
  const int64_t H = dx.size(2), W = dx.size(3), P = dy.size(2), Q = dy.size(3);
  const char* pg = static_cast<const char*>(dy.raw_data());
  char* pd = static_cast<char*>(dx.raw_data());
  std::memset(pd, 0, static_cast<size_t>(dx.numel() * es));  // all-bits-zero is 0.0 for IEEE
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    copy_rows(pg + plane * P * Q * es, Q * es, pd + ((plane * H + off_h) * W + off_w) * es, W * es,
              P, Q * es);
}

}  // namespace fcnlab::kernels::cpu
