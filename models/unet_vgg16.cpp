// unet_vgg16.cpp — U-Net with a VGG16 encoder (the seed work compares FCNs with U-Net):
// VGG16's conv1_1 ... conv5_3 (pad 1, pooling rounding up, no pool5) as the encoder; a decoder
// that at each level upsamples 2x with a learned 2x2 stride-2 transposed convolution (up4 .. up1),
// crops it to the encoder's skip (offset 0 from the coordinate maps; the crop only trims the
// extra row/column that rounding up adds for odd sizes), concatenates [skip, up] (cat4 .. cat1)
// and applies two 3x3 conv + ReLU (dec4_1, dec4_2, ...); a 1x1 "score" gives the classes at the
// input size. Max stride 16.
#include "models/builders.h"

namespace fcnlab::models {

std::shared_ptr<GraphModel> build_unet_vgg16(const ModelOptions& o) {
  Generator gen(o.seed);
  auto g = std::make_shared<GraphModel>("U-Net-VGG16", o.in_channels);
  auto c = [&](int64_t v) { return scaled_channels(v, o.width); };
  std::string x = add_vgg16_features(*g, "data", o.width, 1, gen, /*with_pool5=*/false);
  g->mark_backbone();
  // Level l's skip is the encoder's last ReLU at that resolution.
  const char* skips[4] = {"relu1_2", "relu2_2", "relu3_3", "relu4_3"};
  const int64_t dec[4] = {32, 64, 128, 256};  // decoder channels per level
  for (int l = 4; l >= 1; --l) {
    const std::string id = std::to_string(l);
    auto up = std::make_shared<ConvTranspose2d>(g->channels(x), c(dec[l - 1]), 2,
                                                ConvTranspose2dOptions::make(2, 0), true, gen);
    g->deconv("up" + id, x, up);
    g->crop("up" + id + "c", "up" + id, skips[l - 1]);
    g->concat("cat" + id, {skips[l - 1], "up" + id + "c"});
    x = conv_relu(*g, "dec" + id + "_1", "relu_dec" + id + "_1", "cat" + id, c(dec[l - 1]), 3,
                  Conv2dOptions::make(1, 1), gen);
    x = conv_relu(*g, "dec" + id + "_2", "relu_dec" + id + "_2", x, c(dec[l - 1]), 3,
                  Conv2dOptions::make(1, 1), gen);
  }
  g->conv("score", x, o.classes, 1, Conv2dOptions{}, true, gen);
  return g;
}

}  // namespace fcnlab::models
