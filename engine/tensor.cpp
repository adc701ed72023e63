// tensor.cpp — factories, conversions, element access and printing.
#include "engine/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <utility>

#include "engine/autograd.h"

namespace fcnlab {

TensorImpl& Tensor::impl() const {
  FCNLAB_CHECK(impl_, "use of an undefined tensor");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}
Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  t.fill_(value);
  return t.to(device);
}

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  Tensor t = empty({n}, dtype, Device::cpu());
  for (int64_t i = 0; i < n; ++i) t.set_flat(i, static_cast<double>(i));
  return t.to(device);
}

Tensor Tensor::uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype,
                       Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  const int64_t n = t.numel();
  const uint64_t base = gen.reserve(static_cast<uint64_t>(n));
  dispatch_floating(dtype, "uniform", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    // Each position is independent of the others (counter-based), so threads may split them;
    // one Philox block serves its four consecutive positions.
    const uint64_t seed = gen.seed();
    if (base % 4 != 0) {  // an offset set by hand off a block boundary: word by word
      for (int64_t i = 0; i < n; ++i)
        p[i] = static_cast<T>(lo + (hi - lo) * philox_uniform(seed, base + static_cast<uint64_t>(i)));
      return;
    }
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t b = 0; b < (n + 3) / 4; ++b) {
      const Philox4 w = philox4x32_10(seed, (base >> 2) + static_cast<uint64_t>(b));
      for (int64_t j = 0; j < 4 && 4 * b + j < n; ++j) {
        const float u = static_cast<float>(w.v[j] >> 8) * (1.0f / 16777216.0f);
        p[4 * b + j] = static_cast<T>(lo + (hi - lo) * u);
      }
    }
  });
  return t.to(device);
}

Tensor Tensor::normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype,
                      Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  const int64_t n = t.numel();
  const uint64_t base = gen.reserve(2 * static_cast<uint64_t>(n));
  dispatch_floating(dtype, "normal", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    // Box-Muller on the pair of words (2i, 2i+1); u1 in (0, 1] so log(u1) is finite. One
    // Philox block holds the words of two consecutive elements (base is block-aligned), and
    // elements are independent, so threads may split them.
    const uint64_t seed = gen.seed();
    auto word = [&](int64_t b, const Philox4& w, int lane) {
      // base % 4 != 0 only when an offset was set by hand off a block boundary.
      return base % 4 == 0 ? w.v[lane] : philox_word(seed, base + 4 * static_cast<uint64_t>(b) + lane);
    };
#pragma omp parallel for schedule(static) if (n > (1 << 15))
    for (int64_t b = 0; b < (n + 1) / 2; ++b) {
      const Philox4 w = philox4x32_10(seed, (base >> 2) + static_cast<uint64_t>(b));
      for (int64_t j = 0; j < 2 && 2 * b + j < n; ++j) {
        double u1 = ((word(b, w, 2 * j) >> 8) + 1.0) / 16777216.0;
        double u2 = (word(b, w, 2 * j + 1) >> 8) / 16777216.0;
        double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        p[2 * b + j] = static_cast<T>(mean + std * z);
      }
    }
  });
  return t.to(device);
}

void* Tensor::raw_data() {
  auto& s = impl().storage;
  return s ? static_cast<char*>(s->data()) + impl().offset_bytes : nullptr;
}
const void* Tensor::raw_data() const {
  const auto& s = impl().storage;
  return s ? static_cast<const char*>(s->data()) + impl().offset_bytes : nullptr;
}

double Tensor::flat(int64_t i) const {
  FCNLAB_CHECK(device().is_cpu(), "element access needs a CPU tensor; call .to(Device::cpu()) first");
  FCNLAB_CHECK(i >= 0 && i < numel(), "element ", i, " out of range for shape ", shape().str());
  return dispatch_all(dtype(), [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(data<T>()[i]);
  });
}

void Tensor::set_flat(int64_t i, double v) {
  FCNLAB_CHECK(device().is_cpu(), "element access needs a CPU tensor; call .to(Device::cpu()) first");
  FCNLAB_CHECK(i >= 0 && i < numel(), "element ", i, " out of range for shape ", shape().str());
  dispatch_all(dtype(), [&](auto tag) {
    using T = decltype(tag);
    data<T>()[i] = static_cast<T>(v);
  });
}

double Tensor::item() const {
  FCNLAB_CHECK(numel() == 1, "item(): tensor has shape ", shape().str(), ", expected one element");
  return to(Device::cpu()).flat(0);
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  FCNLAB_CHECK(static_cast<int>(index.size()) == dim(), "at(): ", index.size(),
               " indices for a ", dim(), "-d tensor of shape ", shape().str());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    FCNLAB_CHECK(i >= 0 && i < size(d), "at(): index ", i, " out of range for dimension ", d,
                 " of shape ", shape().str());
    off = off * size(d) + i;
    ++d;
  }
  return flat(off);
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = to(Device::cpu());
  std::vector<double> v(static_cast<size_t>(c.numel()));
  dispatch_all(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor Tensor::contiguous_copy_to(Device device, DType dtype) const {
  if (dtype == this->dtype()) {
    Tensor out = empty(shape(), dtype, device);
    copy_bytes(out.raw_data(), device, raw_data(), this->device(), nbytes());
    return out;
  }
  // Casts happen on the CPU: they are rare (gradient checks, label conversion).
  Tensor src = device.is_cpu() && this->device().is_cpu() ? *this : to(Device::cpu());
  Tensor out = empty(shape(), dtype, Device::cpu());
  dispatch_all(src.dtype(), [&](auto stag) {
    using S = decltype(stag);
    dispatch_all(dtype, [&](auto dtag) {
      using D = decltype(dtag);
      const S* s = src.data<S>();
      D* d = out.data<D>();
      for (int64_t i = 0, n = numel(); i < n; ++i) d[i] = static_cast<D>(s[i]);
    });
  });
  return out.to(device);
}

Tensor Tensor::clone() const { return contiguous_copy_to(device(), dtype()); }

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  return contiguous_copy_to(device, dtype());
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  return contiguous_copy_to(device(), dtype);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->offset_bytes = this->impl().offset_bytes;
  impl->shape = shape();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

namespace {
struct ReshapeNode final : Node {
  Shape in_shape;
  const char* name() const override { return "reshape"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.reshape(in_shape.vec())}; }
};
}  // namespace

Tensor Tensor::reshape(std::vector<int64_t> dims) const {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      FCNLAB_CHECK(infer < 0, "reshape: only one -1 allowed");
      infer = static_cast<int>(i);
    } else {
      known *= dims[i];
    }
  }
  if (infer >= 0) {
    FCNLAB_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape().str(),
                 " (", numel(), " elements) into a multiple of ", known);
    dims[static_cast<size_t>(infer)] = numel() / known;
  }
  Shape s(dims);
  FCNLAB_CHECK(s.numel() == numel(), "reshape: cannot reshape ", shape().str(), " (", numel(),
               " elements) into ", s.str());
  Tensor out = detach();
  out.impl().shape = s;
  auto node = std::make_shared<ReshapeNode>();
  node->in_shape = shape();
  return record(out, node, {*this});
}

Tensor& Tensor::fill_(double value) {
  if (device().is_cpu()) {
    dispatch_all(dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* p = data<T>();
      for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = static_cast<T>(value);
    });
  } else {
    copy_(full(shape(), value, dtype(), Device::cpu()));
  }
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  FCNLAB_CHECK(src.shape() == shape(), "copy_: source shape ", src.shape().str(),
               " differs from destination ", shape().str());
  Tensor s = src.to(dtype());
  copy_bytes(raw_data(), device(), s.raw_data(), s.device(), nbytes());
  return *this;
}

Tensor& Tensor::set_requires_grad(bool on) {
  FCNLAB_CHECK(!on || is_floating(dtype()), "requires_grad needs a floating tensor, got ",
               dtype_name(dtype()));
  FCNLAB_CHECK(is_leaf(), "requires_grad can only be changed on a leaf tensor; use detach()");
  impl().requires_grad = on;
  return *this;
}

std::string Tensor::str(int max_per_dim) const {
  std::ostringstream os;
  os << "Tensor(shape=" << shape().str() << ", dtype=" << dtype_name(dtype())
     << ", device=" << device().str();
  if (requires_grad()) os << ", requires_grad";
  os << ")\n";
  std::vector<double> v = to_vector();
  // Print row by row over the last dimension, eliding the middle of long dimensions.
  const int nd = dim();
  if (nd == 0) { os << v.at(0) << "\n"; return os.str(); }
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  const int64_t last = size(nd - 1);
  const int64_t rows = last ? numel() / last : 0;
  int64_t printed_rows = 0;
  for (int64_t r = 0; r < rows; ++r) {
    // Row r's multi-index over the leading dimensions.
    int64_t rem = r;
    bool skip = false;
    for (int d = nd - 2; d >= 0; --d) {
      idx[static_cast<size_t>(d)] = rem % size(d);
      rem /= size(d);
      if (size(d) > max_per_dim && idx[static_cast<size_t>(d)] >= max_per_dim / 2 &&
          idx[static_cast<size_t>(d)] < size(d) - max_per_dim / 2)
        skip = true;
    }
    if (skip) continue;
    if (++printed_rows > 64) { os << "  ...\n"; break; }
    os << "  [";
    for (int d = 0; d + 1 < nd; ++d) os << idx[static_cast<size_t>(d)] << ",";
    os << ":] ";
    for (int64_t c = 0; c < last; ++c) {
      if (last > max_per_dim && c == max_per_dim / 2) { os << " ..."; c = last - max_per_dim / 2; }
      os << " " << std::setw(9) << std::setprecision(4) << v[static_cast<size_t>(r * last + c)];
    }
    os << "\n";
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  FCNLAB_CHECK(a.shape() == b.shape(), op, ": shapes differ, ", a.shape().str(), " vs ",
               b.shape().str());
}
void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  FCNLAB_CHECK(a.device() == b.device(), op, ": tensors on different devices, ", a.device().str(),
               " and ", b.device().str());
  FCNLAB_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ, ", dtype_name(a.dtype()), " and ",
               dtype_name(b.dtype()));
}
void check_dims(const Tensor& t, int ndim, const char* op, const char* what) {
  FCNLAB_CHECK(t.dim() == ndim, op, ": ", what, " must be ", ndim, "-d, got shape ",
               t.shape().str());
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().set_state(seed, 0); }

}  // namespace fcnlab
