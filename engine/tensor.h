// tensor.h — the n-dimensional array of fcnlab: shape, dtype, device, shared storage,
// and the autograd fields (requires_grad, grad, the node that produced it).
// Tensors are always contiguous row-major (NCHW); a view (reshape, detach) shares storage.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/rng.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace fcnlab {

struct Node;  // autograd.h

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset_bytes = 0;  // where this tensor starts inside storage
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor, if recorded
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  // 0, 1, ..., n-1 as a 1-D tensor.
  static Tensor arange(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());
  // Uniform in [lo, hi) and normal(mean, std), drawn from gen's counter-based stream.
  static Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen,
                        DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor normal(const Shape& shape, double mean, double std, Generator& gen,
                       DType dtype = DType::f32, Device device = Device::cpu());

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int dim() const { return shape().ndim(); }
  int64_t size(int i) const { return shape()[i]; }
  int64_t numel() const { return shape().numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage ? impl().storage->device() : Device::cpu(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  void* raw_data();
  const void* raw_data() const;
  // Typed pointer; checks that T matches the dtype.
  template <class T> T* data();
  template <class T> const T* data() const;

  // Element access on CPU tensors (slow; for tests and printing).
  double item() const;  // a one-element tensor's value
  double at(std::initializer_list<int64_t> index) const;
  double flat(int64_t i) const;
  void set_flat(int64_t i, double v);
  std::vector<double> to_vector() const;  // all elements as double

  // ---- conversions ----
  Tensor clone() const;                 // a new storage with the same values (not recorded)
  Tensor to(Device device) const;       // copy to another device (same device: returns *this)
  Tensor to(DType dtype) const;         // cast (same dtype: returns *this)
  Tensor contiguous_copy_to(Device device, DType dtype) const;
  Tensor detach() const;                // same storage, no autograd history
  // Same data, new shape (one -1 allowed). Recorded by autograd (gradient reshapes back).
  Tensor reshape(std::vector<int64_t> dims) const;

  // ---- in-place, never recorded ----
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& copy_(const Tensor& src);  // same shape, any device

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  void zero_grad() { impl().grad.reset(); }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Backpropagates from this tensor. A non-scalar needs a seed gradient of the same shape.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;

  std::string str(int max_per_dim = 6) const;  // readable print (shape, dtype, values)
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// "tensor x: expected shape [2, 3], got [3, 2]" style checks used by ops.
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_dims(const Tensor& t, int ndim, const char* op, const char* what);

// ---- template definitions ----
template <class T>
T* Tensor::data() {
  FCNLAB_CHECK(dtype_of<T>() == dtype(), "tensor of dtype ", dtype_name(dtype()),
               " accessed as ", dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}
template <class T>
const T* Tensor::data() const {
  FCNLAB_CHECK(dtype_of<T>() == dtype(), "tensor of dtype ", dtype_name(dtype()),
               " accessed as ", dtype_name(dtype_of<T>()));
  return static_cast<const T*>(raw_data());
}
template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  FCNLAB_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ",
               values.size(), " values for shape ", shape.str(), " (", shape.numel(), " elements)");
  Tensor t = empty(shape, dtype_of<T>(), Device::cpu());
  for (size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = values[i];
  return t.to(device);
}

}  // namespace fcnlab
