// builders.h — the model definitions behind make_model (models.h), one function per family.
// Internal to models/: users call make_model(name, options).
#pragma once
#include <memory>
#include <string>

#include "models/models.h"

namespace fcnlab::models {

// VGG16's conv1_1 ... conv5_3 and pool1 ... pool5 into g, reading `input`; returns the last
// layer's name. FCN: conv1_pad 100 (the rest pad 1); every net here pools rounding up (Caffe),
// so no row of an odd-sized map is lost. with_pool5 = false stops at relu5_3 (U-Net).
std::string add_vgg16_features(GraphModel& g, const std::string& input, double width,
                               int conv1_pad, Generator& gen, bool with_pool5 = true);
// "fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce".
std::shared_ptr<GraphModel> build_fcn_vgg16(const std::string& variant, const ModelOptions& o);
std::shared_ptr<GraphModel> build_fcn_alexnet(const ModelOptions& o);
std::shared_ptr<GraphModel> build_fcn_googlenet(const ModelOptions& o);
std::shared_ptr<GraphModel> build_unet_vgg16(const ModelOptions& o);

// Shared pieces: conv + ReLU named `name` / `relu_name`; returns the ReLU's name.
std::string conv_relu(GraphModel& g, const std::string& name, const std::string& relu_name,
                      const std::string& input, int64_t out, int kernel, const Conv2dOptions& o,
                      Generator& gen);
// A 1x1 class-score layer with zero weight and bias (Caffe's default filler; paper §4.3).
std::string score_layer(GraphModel& g, const std::string& name, const std::string& input,
                        int64_t classes, Generator& gen);
// A fixed bilinear upsampling layer (Caffe Deconvolution, no bias, lr_mult 0).
std::string upsample(GraphModel& g, const std::string& name, const std::string& input,
                     int64_t classes, int kernel, int stride);

}  // namespace fcnlab::models
