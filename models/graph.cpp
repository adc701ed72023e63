// graph.cpp — see graph.h.
#include "models/graph.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/error.h"
#include "engine/ops.h"

namespace fcnlab {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::input: return "Input";
    case LayerKind::conv: return "Conv2d";
    case LayerKind::deconv: return "ConvTranspose2d";
    case LayerKind::relu: return "ReLU";
    case LayerKind::max_pool: return "MaxPool2d";
    case LayerKind::dropout: return "Dropout";
    case LayerKind::lrn: return "LRN";
    case LayerKind::crop: return "Crop";
    case LayerKind::sum: return "Sum";
    case LayerKind::concat: return "Concat";
    case LayerKind::scale: return "Scale";
  }
  return "?";
}

namespace {

// One axis of a sliding window: kernel (dilated), stride, padding.
struct Window {
  int k = 1, s = 1, p = 0;
};
struct Windows {
  Window h, w;
};

Windows conv_windows(const Conv2d& c) {
  const auto& o = c.options;
  return {{o.dilation_h * (c.kernel - 1) + 1, o.stride_h, o.pad_h},
          {o.dilation_w * (c.kernel - 1) + 1, o.stride_w, o.pad_w}};
}
Windows deconv_windows(const ConvTranspose2d& c) {
  const auto& o = c.options;
  return {{o.dilation_h * (c.kernel - 1) + 1, o.stride_h, o.pad_h},
          {o.dilation_w * (c.kernel - 1) + 1, o.stride_w, o.pad_w}};
}
Windows pool_windows(const MaxPool2d& m) {
  const auto& o = m.options;
  return {{o.kernel_h, o.stride_h, o.pad_h}, {o.kernel_w, o.stride_w, o.pad_w}};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

GraphModel::GraphModel(std::string type, int64_t in_channels)
    : type_(std::move(type)), in_channels_(in_channels) {
  FCNLAB_CHECK(in_channels >= 1, type_, ": input channels must be >= 1, got ", in_channels);
  Layer in;
  in.name = "data";
  in.kind = LayerKind::input;
  layers_.push_back(in);
}

bool GraphModel::has_layer(const std::string& name) const {
  return std::any_of(layers_.begin(), layers_.end(), [&](const Layer& l) { return l.name == name; });
}

int GraphModel::index(const std::string& name) const {
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].name == name) return static_cast<int>(i);
  std::vector<std::string> names;
  for (const auto& l : layers_) names.push_back(l.name);
  FCNLAB_FAIL(type_, " has no layer '", name, "'; its layers are: ", join(names));
}

int64_t GraphModel::channels(const std::string& name) const {
  // Follow the graph back to a layer that sets the channel count.
  std::function<int64_t(int)> of = [&](int i) -> int64_t {
    const Layer& l = layers_[i];
    switch (l.kind) {
      case LayerKind::input: return in_channels_;
      case LayerKind::conv: return static_cast<const Conv2d&>(*l.module).out_channels;
      case LayerKind::deconv: return static_cast<const ConvTranspose2d&>(*l.module).out_channels;
      case LayerKind::concat: {
        int64_t c = 0;
        for (int j : l.inputs) c += of(j);
        return c;
      }
      default: return of(l.inputs[0]);
    }
  };
  return of(index(name));
}

const std::string& GraphModel::output_name() const { return layers_[output_].name; }

const std::string& GraphModel::score_layer() const {
  return layers_[score_layer_ >= 0 ? score_layer_ : output_].name;
}

void GraphModel::set_output(const std::string& name) { output_ = index(name); }

void GraphModel::mark_backbone() {
  for (auto& l : layers_) l.backbone = true;
}

void GraphModel::freeze_backbone(bool frozen) {
  for (auto& l : layers_)
    if (l.backbone && l.module) l.module->set_requires_grad(!frozen);
}

// Appends a layer: resolves its inputs, registers its module, and composes its coordinate map.
int GraphModel::add_layer(Layer l, const std::vector<std::string>& inputs) {
  FCNLAB_CHECK(!l.name.empty() && l.name.find('.') == std::string::npos, type_,
               ": a layer name must be non-empty and hold no '.', got '", l.name, "'");
  FCNLAB_CHECK(!has_layer(l.name), type_, ": a layer named '", l.name, "' exists already");
  FCNLAB_CHECK(!inputs.empty(), type_, ": layer '", l.name, "' reads no input");
  for (const auto& in : inputs) l.inputs.push_back(index(in));
  if (l.module) register_module(l.name, l.module);

  const Layer& x = layers_[l.inputs[0]];
  // x_here = A * x_bottom + B per axis, from the window geometry (Caffe's coord_map).
  auto through = [&](const Windows& win, bool transposed) {
    auto axis = [&](const Window& w, double a, double b, double& ao, double& bo) {
      const double c = (w.k - 1) / 2.0 - w.p;  // bottom coordinate of top pixel 0's centre
      double A, B;
      if (transposed) { A = w.s; B = c; }
      else { A = 1.0 / w.s; B = -c / w.s; }
      ao = A * a;
      bo = A * b + B;
    };
    axis(win.h, x.a_h, x.b_h, l.a_h, l.b_h);
    axis(win.w, x.a_w, x.b_w, l.a_w, l.b_w);
  };
  l.a_h = x.a_h; l.b_h = x.b_h; l.a_w = x.a_w; l.b_w = x.b_w;
  switch (l.kind) {
    case LayerKind::conv: through(conv_windows(static_cast<const Conv2d&>(*l.module)), false); break;
    case LayerKind::max_pool: through(pool_windows(static_cast<const MaxPool2d&>(*l.module)), false); break;
    case LayerKind::deconv: through(deconv_windows(static_cast<const ConvTranspose2d&>(*l.module)), true); break;
    case LayerKind::crop:
      l.b_h -= static_cast<double>(l.offset_h);
      l.b_w -= static_cast<double>(l.offset_w);
      break;
    case LayerKind::sum:
    case LayerKind::concat:
      for (int i : l.inputs) {
        const Layer& y = layers_[i];
        const double eps = 1e-9;
        FCNLAB_CHECK(std::abs(y.a_h - x.a_h) < eps && std::abs(y.b_h - x.b_h) < eps &&
                         std::abs(y.a_w - x.a_w) < eps && std::abs(y.b_w - x.b_w) < eps,
                     type_, ": layer '", l.name, "' joins '", x.name, "' and '", y.name,
                     "', which are not aligned (x = ", x.a_h, " * input + ", x.b_h, " vs ",
                     y.a_h, " * input + ", y.b_h, "); crop one of them first");
      }
      break;
    default: break;
  }
  layers_.push_back(std::move(l));
  output_ = static_cast<int>(layers_.size()) - 1;
  return output_;
}

std::string GraphModel::conv(const std::string& name, const std::string& input,
                             int64_t out_channels, int kernel, const Conv2dOptions& o, bool bias,
                             Generator& gen) {
  const int64_t in_c = channels(input);
  Layer l;
  l.name = name;
  l.kind = LayerKind::conv;
  l.module = std::make_shared<Conv2d>(in_c, out_channels, kernel, o, bias, gen);
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::deconv(const std::string& name, const std::string& input,
                               std::shared_ptr<ConvTranspose2d> layer) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::deconv;
  l.module = std::move(layer);
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::relu(const std::string& name, const std::string& input) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::relu;
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::max_pool(const std::string& name, const std::string& input,
                                 const MaxPool2dOptions& o) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::max_pool;
  l.module = std::make_shared<MaxPool2d>(o);
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::dropout(const std::string& name, const std::string& input, double p,
                                uint64_t seed) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::dropout;
  l.module = std::make_shared<Dropout>(p, seed);
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::lrn(const std::string& name, const std::string& input, const LrnOptions& o) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::lrn;
  l.module = std::make_shared<LRN>(o);
  add_layer(std::move(l), {input});
  return name;
}

std::string GraphModel::crop(const std::string& name, const std::string& input,
                             const std::string& reference, std::optional<int64_t> offset) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::crop;
  if (offset) {
    FCNLAB_CHECK(*offset >= 0, type_, ": crop '", name, "' offset must be >= 0, got ", *offset);
    l.offset_h = l.offset_w = *offset;
  } else {
    // Caffe's coord_map.crop: the input pixel that lies where the reference's pixel 0 lies.
    const Layer& x = layers_[index(input)];
    const Layer& r = layers_[index(reference)];
    auto axis = [&](double ax, double bx, double ar, double br, const char* which) -> int64_t {
      FCNLAB_CHECK(std::abs(ax - ar) < 1e-9, type_, ": crop '", name, "': '", input, "' and '",
                   reference, "' have different scales along ", which, " (", ax, " vs ", ar, ")");
      const double off = bx - br;
      FCNLAB_CHECK(off >= -1e-9 && std::abs(off - std::round(off)) < 1e-9, type_, ": crop '", name,
                   "': '", input, "' is offset by ", off, " pixels from '", reference, "' along ",
                   which, "; a crop needs a whole non-negative offset");
      return std::llround(off);
    };
    l.offset_h = axis(x.a_h, x.b_h, r.a_h, r.b_h, "H");
    l.offset_w = axis(x.a_w, x.b_w, r.a_w, r.b_w, "W");
  }
  add_layer(std::move(l), {input, reference});
  return name;
}

std::string GraphModel::sum(const std::string& name, const std::vector<std::string>& inputs) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::sum;
  add_layer(std::move(l), inputs);
  return name;
}

std::string GraphModel::concat(const std::string& name, const std::vector<std::string>& inputs) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::concat;
  add_layer(std::move(l), inputs);
  return name;
}

std::string GraphModel::scale(const std::string& name, const std::string& input, double factor) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::scale;
  l.factor = factor;
  add_layer(std::move(l), {input});
  return name;
}

// ---- running

Tensor GraphModel::run(const Tensor& x, const std::vector<int>& keep,
                       const std::function<void(const Layer&, const Tensor&)>* observe,
                       std::vector<Tensor>* kept) {
  FCNLAB_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in_channels_, type_,
               ": input must be (N, ", in_channels_, ", H, W), got ",
               x.defined() ? x.shape().str() : std::string("an undefined tensor"));
  const int n = static_cast<int>(layers_.size());
  // The last layer that reads each output; outputs nobody needs later are dropped early.
  std::vector<int> last_use(n, -1);
  for (int i = 0; i < n; ++i)
    for (int j : layers_[i].inputs) last_use[j] = std::max(last_use[j], i);
  last_use[output_] = n;
  for (int k : keep) last_use[k] = n;

  int last = output_;
  for (int k : keep) last = std::max(last, k);
  std::vector<Tensor> out(n);
  for (int i = 0; i <= last; ++i) {
    const Layer& l = layers_[i];
    auto in = [&](int j) -> const Tensor& { return out[l.inputs[j]]; };
    Tensor y;
    switch (l.kind) {
      case LayerKind::input: y = x; break;
      case LayerKind::conv:
      case LayerKind::deconv:
      case LayerKind::max_pool:
      case LayerKind::dropout:
      case LayerKind::lrn: y = l.module->forward(in(0)); break;
      case LayerKind::relu: y = fcnlab::relu(in(0)); break;
      case LayerKind::crop: {
        const Tensor& r = in(1);
        y = fcnlab::crop(in(0), l.offset_h, l.offset_w, r.size(2), r.size(3));
        break;
      }
      case LayerKind::sum:
        y = in(0);
        for (size_t j = 1; j < l.inputs.size(); ++j) y = add(y, in(static_cast<int>(j)));
        break;
      case LayerKind::concat: {
        std::vector<Tensor> xs;
        for (size_t j = 0; j < l.inputs.size(); ++j) xs.push_back(in(static_cast<int>(j)));
        y = concat_channels(xs);
        break;
      }
      case LayerKind::scale: y = fcnlab::scale(in(0), l.factor); break;
    }
    out[i] = y;
    if (observe) (*observe)(l, out[i]);
    for (int j : l.inputs)
      if (last_use[j] == i) out[j] = Tensor();
  }
  if (kept)
    for (int k : keep) kept->push_back(out[k]);
  return out[output_];
}

Tensor GraphModel::forward(const Tensor& x) { return run(x, {}, nullptr, nullptr); }

Tensor GraphModel::forward(const Tensor& x, const std::vector<std::string>& capture,
                           TensorMap& captured) {
  std::vector<int> keep;
  for (const auto& name : capture) keep.push_back(index(name));
  std::vector<Tensor> kept;
  Tensor y = run(x, keep, nullptr, &kept);
  for (size_t i = 0; i < capture.size(); ++i) captured[capture[i]] = kept[i];
  return y;
}

Tensor GraphModel::forward(const Tensor& x,
                           const std::function<void(const Layer&, const Tensor&)>& observe) {
  return run(x, {}, &observe, nullptr);
}

// ---- geometry

std::vector<LayerStats> GraphModel::stats(int64_t n, int64_t h, int64_t w) const {
  FCNLAB_CHECK(n >= 1 && h >= 1 && w >= 1, type_, ": input size must be positive, got ", n, "x", h,
               "x", w);
  std::vector<LayerStats> st(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    LayerStats& s = st[i];
    s.name = l.name;
    s.type = layer_kind_name(l.kind);
    for (int j : l.inputs) s.inputs.push_back(layers_[j].name);
    if (l.kind == LayerKind::input) {
      s.out = Shape({n, in_channels_, h, w});
      continue;
    }
    const LayerStats& x = st[l.inputs[0]];
    const int64_t c = x.out[1], ih = x.out[2], iw = x.out[3];
    s.rf = x.rf;
    s.stride = x.stride;
    s.depth = x.depth;
    s.out = x.out;
    if (l.module) s.params = l.module->num_parameters();
    std::ostringstream type;
    type << layer_kind_name(l.kind);
    auto grow = [&](const Window& win, bool transposed) {
      if (transposed) {
        s.rf = x.rf + static_cast<int64_t>((win.k + win.s - 1) / win.s - 1) *
                          static_cast<int64_t>(std::llround(std::max(1.0, x.stride)));
        s.stride = x.stride / win.s;
      } else {
        s.rf = x.rf + static_cast<int64_t>(std::llround((win.k - 1) * x.stride));
        s.stride = x.stride * win.s;
      }
    };
    auto too_small = [&](int64_t oh, int64_t ow) {
      FCNLAB_CHECK(oh >= 1 && ow >= 1, type_, ": layer '", l.name, "' gets a ", ih, "x", iw,
                   " input, too small for it (output ", oh, "x", ow, "); use a larger input size");
    };
    switch (l.kind) {
      case LayerKind::conv: {
        const auto& m = static_cast<const Conv2d&>(*l.module);
        const auto& o = m.options;
        const int64_t oh = (ih + 2 * o.pad_h - (o.dilation_h * (m.kernel - 1) + 1)) / o.stride_h + 1;
        const int64_t ow = (iw + 2 * o.pad_w - (o.dilation_w * (m.kernel - 1) + 1)) / o.stride_w + 1;
        too_small(ih + 2 * o.pad_h >= o.dilation_h * (m.kernel - 1) + 1 ? oh : 0,
                  iw + 2 * o.pad_w >= o.dilation_w * (m.kernel - 1) + 1 ? ow : 0);
        s.out = Shape({n, m.out_channels, oh, ow});
        s.macs = n * m.out_channels * (m.in_channels / o.groups) * m.kernel * m.kernel * oh * ow;
        grow(conv_windows(m).h, false);
        s.depth = x.depth + 1;
        type << " " << m.kernel << "x" << m.kernel << " s" << o.stride_h << " p" << o.pad_h;
        if (o.dilation_h != 1) type << " d" << o.dilation_h;
        if (o.groups != 1) type << " g" << o.groups;
        break;
      }
      case LayerKind::deconv: {
        const auto& m = static_cast<const ConvTranspose2d&>(*l.module);
        const auto& o = m.options;
        const int64_t oh = conv_transpose_output_size(ih, m.kernel, o.stride_h, o.pad_h, o.dilation_h, o.output_pad_h);
        const int64_t ow = conv_transpose_output_size(iw, m.kernel, o.stride_w, o.pad_w, o.dilation_w, o.output_pad_w);
        too_small(oh, ow);
        s.out = Shape({n, m.out_channels, oh, ow});
        s.macs = n * m.in_channels * (m.out_channels / o.groups) * m.kernel * m.kernel * ih * iw;
        s.fixed = m.fixed();
        grow(deconv_windows(m).h, true);
        type << " " << m.kernel << "x" << m.kernel << " s" << o.stride_h;
        if (o.pad_h) type << " p" << o.pad_h;
        if (s.fixed) type << " fixed";
        break;
      }
      case LayerKind::max_pool: {
        const auto& m = static_cast<const MaxPool2d&>(*l.module);
        const auto& o = m.options;
        FCNLAB_CHECK(ih + 2 * o.pad_h >= o.kernel_h && iw + 2 * o.pad_w >= o.kernel_w, type_,
                     ": layer '", l.name, "' gets a ", ih, "x", iw, " input, smaller than its ",
                     o.kernel_h, "x", o.kernel_w, " window; use a larger input size");
        s.out = Shape({n, c, pool_output_size(ih, o.kernel_h, o.stride_h, o.pad_h, o.ceil_mode),
                       pool_output_size(iw, o.kernel_w, o.stride_w, o.pad_w, o.ceil_mode)});
        grow(pool_windows(m).h, false);
        type << " " << o.kernel_h << "x" << o.kernel_w << " s" << o.stride_h;
        if (o.pad_h) type << " p" << o.pad_h;
        if (o.ceil_mode) type << " ceil";
        break;
      }
      case LayerKind::dropout:
        type << " " << static_cast<const Dropout&>(*l.module).p;
        break;
      case LayerKind::lrn:
        type << " " << static_cast<const LRN&>(*l.module).options.local_size;
        break;
      case LayerKind::crop: {
        const LayerStats& r = st[l.inputs[1]];
        FCNLAB_CHECK(l.offset_h + r.out[2] <= ih && l.offset_w + r.out[3] <= iw, type_, ": crop '",
                     l.name, "' takes ", r.out[2], "x", r.out[3], " at offset ", l.offset_h, ",",
                     l.offset_w, " from a ", ih, "x", iw, " input: it does not fit");
        s.out = Shape({n, c, r.out[2], r.out[3]});
        type << " +" << l.offset_h << "+" << l.offset_w;
        break;
      }
      case LayerKind::sum:
      case LayerKind::concat: {
        int64_t channels = 0;
        for (int j : l.inputs) {
          const LayerStats& y = st[j];
          FCNLAB_CHECK(y.out[2] == ih && y.out[3] == iw && (l.kind == LayerKind::concat || y.out[1] == c),
                       type_, ": layer '", l.name, "' joins ", x.out.str(), " ('", x.name, "') and ",
                       y.out.str(), " ('", y.name, "'), which do not match");
          channels += y.out[1];
          s.rf = std::max(s.rf, y.rf);
          s.depth = std::max(s.depth, y.depth);
        }
        if (l.kind == LayerKind::concat) s.out = Shape({n, channels, ih, iw});
        break;
      }
      case LayerKind::scale:
        type << " x" << l.factor;
        break;
      default: break;
    }
    s.type = type.str();
  }
  return st;
}

}  // namespace fcnlab
