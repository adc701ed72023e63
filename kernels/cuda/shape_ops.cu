// cuda/shape_ops.cu — launchers for channel concat/split and crop; the dtype only picks the
// word size the kernels move (all-bits-zero is 0 for every dtype, so crop's fill is exact).
#include "kernels/cuda/kernels.h"

#include "engine/error.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/shape_ops.cuh"

namespace fcnlab::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

// Calls f(E{}) with the unsigned word type of the dtype's element size.
template <class F>
void by_word_size(DType dt, const char* op, F&& f) {
  switch (dtype_size(dt)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: FCNLAB_FAIL(op, ": unsupported element size ", dtype_size(dt));
  }
}
}  // namespace

void concat_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst) {
  // Per image n the src block (Ci*H*W elements) lands contiguously at channel c_offset of dst.
  const int64_t plane = src.size(2) * src.size(3), block = src.size(1) * plane;
  const int64_t rows = src.size(0), dst_image = dst.size(1) * plane;
  by_word_size(src.dtype(), "concat", [&](auto tag) {
    using E = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(copy_blocks_kernel<E>, blocks_for(rows * block, kThreads), kThreads, 0,
                          static_cast<const E*>(src.raw_data()), block,
                          static_cast<E*>(dst.raw_data()) + c_offset * plane, dst_image, rows, block);
  });
}

void split_channels_copy(const Tensor& src, int64_t c_offset, Tensor& dst) {
  const int64_t plane = dst.size(2) * dst.size(3), block = dst.size(1) * plane;
  const int64_t rows = dst.size(0), src_image = src.size(1) * plane;
  by_word_size(src.dtype(), "split", [&](auto tag) {
    using E = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(copy_blocks_kernel<E>, blocks_for(rows * block, kThreads), kThreads, 0,
                          static_cast<const E*>(src.raw_data()) + c_offset * plane, src_image,
                          static_cast<E*>(dst.raw_data()), block, rows, block);
  });
}

void crop2d_forward(const Tensor& x, int64_t off_h, int64_t off_w, Tensor& y) {
  const int64_t planes = x.size(0) * x.size(1);
  by_word_size(x.dtype(), "crop", [&](auto tag) {
    using E = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(crop_forward_kernel<E>, blocks_for(y.numel(), kThreads), kThreads, 0,
                          static_cast<const E*>(x.raw_data()), x.size(2), x.size(3), off_h, off_w,
                          static_cast<E*>(y.raw_data()), planes, y.size(2), y.size(3));
  });
}

void crop2d_backward(const Tensor& dy, int64_t off_h, int64_t off_w, Tensor& dx) {
  const int64_t planes = dx.size(0) * dx.size(1);
  by_word_size(dy.dtype(), "crop_backward", [&](auto tag) {
    using E = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(crop_backward_kernel<E>, blocks_for(dx.numel(), kThreads), kThreads, 0,
                          static_cast<const E*>(dy.raw_data()), dy.size(2), dy.size(3), off_h, off_w,
                          static_cast<E*>(dx.raw_data()), planes, dx.size(2), dx.size(3));
  });
}

}  // namespace fcnlab::kernels::cuda
