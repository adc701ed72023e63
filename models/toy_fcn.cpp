// toy_fcn.cpp — see toy_fcn.h.
#include "models/toy_fcn.h"

#include "engine/ops.h"

namespace fcnlab {

ToyFcn::ToyFcn(int64_t in_channels, int64_t classes, int64_t width, uint64_t seed) {
  Generator gen(seed);
  auto pad1 = Conv2dOptions::make(1, 1);
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_channels, width, 3, pad1, true, gen));
  pool1 = register_module("pool1", std::make_shared<MaxPool2d>(MaxPool2dOptions::make(2, 2, 0, true)));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(width, 2 * width, 3, pad1, true, gen));
  conv3 = register_module("conv3", std::make_shared<Conv2d>(2 * width, 2 * width, 3, pad1, true, gen));
  score_coarse = register_module("score_coarse", std::make_shared<Conv2d>(2 * width, classes, 1, Conv2dOptions{}, true, gen));
  score_fine = register_module("score_fine", std::make_shared<Conv2d>(width, classes, 1, Conv2dOptions{}, true, gen));
  upscore2 = register_module("upscore2", ConvTranspose2d::bilinear_upsampler(classes, 2, /*fixed=*/true));
}

Tensor ToyFcn::forward(const Tensor& x) {
  Tensor f1 = relu((*conv1)(x));                           // (N, w, H, W)
  Tensor c = relu((*conv3)(relu((*conv2)((*pool1)(f1)))));  // (N, 2w, H/2, W/2)
  Tensor up = (*upscore2)((*score_coarse)(c));             // (N, K, H + 2, W + 2) for even H, W
  // Kernel 4 / stride 2 overhangs by one pixel on each side: crop offset 1 re-aligns it.
  Tensor fine = (*score_fine)(f1);
  return add(crop(up, 1, 1, fine.size(2), fine.size(3)), fine);
}

}  // namespace fcnlab
