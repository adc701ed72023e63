// The conv2d forward ladder (bench/cuda/conv2d_ladder: naive -> shared-memory tiled ->
// register-tiled -> split register tiles -> tap table -> Winograd, on 3x3 stride-1 shapes only ->
// 16-byte weight loads)
// against the CPU's direct convolution, every rung bit-exact on small-integer
// data. Runs under simt only: the ladder's .cuh files hold device code, which a host-compiled
// test in the cuda build cannot include (there bench/cuda/conv_ladder.cu checks each rung).
#include <doctest/doctest.h>

#if defined(FCNLAB_GPU_SIMT)
#include <string>
#include <vector>

#include "engine/ops.h"
#include "kernels/cpu/conv2d.h"
#include "tests/common/check.h"
// Last: simt.h's CUDA qualifier macros must not reach the standard headers.
#include "bench/cuda/conv2d_ladder/ladder.h"

using namespace fcnlab;

namespace {

Tensor small_ints(const Shape& shape, Generator& g) {
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (double& e : v) e = static_cast<double>(static_cast<int>(g.next_u32() % 7) - 3);
  return Tensor::from_vector(v, shape).to(DType::f32);
}

}  // namespace

TEST_CASE("conv2d ladder: every rung matches the CPU reference bit-exactly") {
  struct Case { int n, c, h, w, k, r, s; Conv2dOptions o; };
  const Case cases[] = {
      {2, 3, 7, 6, 5, 3, 3, Conv2dOptions::make(1, 1)},
      {1, 4, 9, 8, 6, 3, 2, {2, 1, 1, 0, 1, 1, 2}},
      {1, 6, 8, 7, 9, 3, 3, {1, 2, 2, 1, 2, 1, 3}},
      {1, 2, 5, 5, 20, 1, 1, Conv2dOptions::make(1, 0)},
      // 70 filters x 132 pixels: both halves of v4's split register tiles hold outputs
      {1, 3, 12, 11, 70, 3, 3, Conv2dOptions::make(1, 1)},
      // 8 x 3 x 3 = 72 weights per filter: v7 reads them as 16-byte vectors (the others cannot)
      {1, 8, 9, 9, 12, 3, 3, Conv2dOptions::make(1, 1)},
  };
  int vector_cases = 0;
  Generator g(21);
  for (const Case& cs : cases) {
    const Conv2dOptions& o = cs.o;
    Tensor x = small_ints({cs.n, cs.c, cs.h, cs.w}, g);
    Tensor w = small_ints({cs.k, cs.c / o.groups, cs.r, cs.s}, g);
    Tensor b = small_ints({cs.k}, g);
    const int P = static_cast<int>(conv_output_size(cs.h, cs.r, o.stride_h, o.pad_h, o.dilation_h));
    const int Q = static_cast<int>(conv_output_size(cs.w, cs.s, o.stride_w, o.pad_w, o.dilation_w));
    Tensor y_ref = Tensor::empty({cs.n, cs.k, P, Q});
    kernels::cpu::conv2d_forward_direct(x, w, b, y_ref, o);
    const kernels::cuda::ConvGeom c{cs.n, cs.c, cs.h, cs.w, cs.k, cs.r, cs.s, P, Q,
                                    o.groups, cs.c / o.groups, cs.k / o.groups,
                                    o.stride_h, o.stride_w, o.pad_h, o.pad_w, o.dilation_h, o.dilation_w};
    Tensor xd = x.to(Device::cuda()), wd = w.to(Device::cuda()), bd = b.to(Device::cuda());
    vector_cases += kernels::cuda::rows_vec4(wd.data<float>(), int64_t(c.Cg) * c.R * c.S);
    for (const ladder::Rung& rung : ladder::kConvLadder) {
      const std::string rung_name = rung.name;
      CAPTURE(rung_name);
      if (rung.applies && !rung.applies(c)) continue;  // Winograd: 3x3 at stride 1 only
      Tensor y = Tensor::empty(y_ref.shape(), DType::f32, Device::cuda());
      rung.run(xd.data<float>(), wd.data<float>(), bd.data<float>(), y.data<float>(), c,
               kernels::cuda::stream());
      CHECK_CLOSE(y.to(Device::cpu()), y_ref, 0.0, 0.0);
    }
  }
  CHECK(vector_cases >= 2);  // v7's 16-byte path ran, not only its 4-byte fallback
}
#endif
