// The conv_transpose2d ladder (bench/cuda/conv_transpose2d_ladder: scatter -> gather ->
// stride-aware gather -> dense implicit GEMM -> phase-decomposed implicit GEMM) against the CPU
// conv_transpose2d, every rung bit-exact on small-integer data (sums of small integers are
// exact in f32 in any order, so even v1's atomics must match exactly). Shapes cover FCN's
// upsamplings scaled down (kernel 2x the stride), a kernel that is not a multiple of the stride,
// unequal strides, padding, output padding, groups and a batch of 2. Runs under simt only: the
// ladder's .cuh files hold device code (in the cuda build fcnlab-convt-ladder checks each rung
// against the same CPU reference before timing it).
#include <doctest/doctest.h>

#if defined(FCNLAB_GPU_SIMT)
#include <string>
#include <vector>

#include "engine/ops.h"
#include "tests/common/check.h"
// Last: simt.h's CUDA qualifier macros must not reach the standard headers.
#include "bench/cuda/conv_transpose2d_ladder/ladder.h"

using namespace fcnlab;

namespace {

Tensor small_ints(const Shape& shape, Generator& g) {
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (double& e : v) e = static_cast<double>(static_cast<int>(g.next_u32() % 7) - 3);
  return Tensor::from_vector(v, shape).to(DType::f32);
}

}  // namespace

TEST_CASE("conv_transpose2d ladder: every rung matches the CPU reference bit-exactly") {
  struct Case { int n, cin, cout, h, w, r, s; ConvTranspose2dOptions o; };
  const Case cases[] = {
      {1, 3, 3, 3, 3, 8, 8, ConvTranspose2dOptions::make(4, 0)},        // FCN-style: kernel 2x stride
      {2, 2, 3, 4, 3, 4, 4, ConvTranspose2dOptions::make(2, 0)},        // upscore2's 4x4 stride 2
      {1, 3, 2, 3, 4, 5, 3, {2, 3, 1, 0, 0, 0, 1, 1, 1}},               // R not a multiple of sh, sh != sw
      {1, 4, 6, 3, 3, 3, 3, {2, 2, 1, 1, 1, 1, 1, 1, 2}},               // padding, output padding, groups 2
      {1, 2, 2, 5, 4, 3, 3, ConvTranspose2dOptions::make(1, 1)},        // stride 1 (a plain conv's adjoint)
  };
  Generator g(31);
  for (const Case& cs : cases) {
    const ConvTranspose2dOptions& o = cs.o;
    CAPTURE(cs.r);
    CAPTURE(o.stride_h);
    Tensor x = small_ints({cs.n, cs.cin, cs.h, cs.w}, g);
    Tensor w = small_ints({cs.cin, cs.cout / o.groups, cs.r, cs.s}, g);
    Tensor y_ref = conv_transpose2d(x, w, Tensor(), o);
    const int H = static_cast<int>(y_ref.size(2)), W = static_cast<int>(y_ref.size(3));
    // conv2d naming: the transposed conv's input is the conv's output (K = cin, P x Q).
    const kernels::cuda::ConvGeom c{cs.n, cs.cout, H, W, cs.cin, cs.r, cs.s, cs.h, cs.w,
                                    o.groups, cs.cout / o.groups, cs.cin / o.groups,
                                    o.stride_h, o.stride_w, o.pad_h, o.pad_w, 1, 1};
    Tensor xd = x.to(Device::cuda()), wd = w.to(Device::cuda());
    for (const ladder::ConvTRung& rung : ladder::kConvTransposeLadder) {
      const std::string rung_name = rung.name;
      CAPTURE(rung_name);
      Tensor y = Tensor::full(y_ref.shape(), 1234.0, DType::f32, Device::cuda());  // stale data must not survive
      rung.run(xd.data<float>(), wd.data<float>(), y.data<float>(), c, kernels::cuda::stream());
      CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
    }
  }
}
#endif
