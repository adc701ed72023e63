// storage.h — a refcounted block of device memory; tensors share it through shared_ptr.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "engine/device.h"

namespace fcnlab {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  // Memory from a given allocator, e.g. pinned_host_allocator() for a CPU storage that a CUDA
  // copy can read without staging.
  Storage(size_t nbytes, Device device, Allocator* allocator);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;
};

// Byte copy between any two devices (src and dst may be on different devices).
using CopyFn = void (*)(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);

// Backends register themselves here; a device with no backend is a clear error.
void register_device_backend(DeviceType type, Allocator* allocator, CopyFn copy);
Allocator* allocator_for(Device d);
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);

// Page-locked host memory (Device::cpu() storage) for buffers that are copied to a GPU, such
// as the loader's batches: the CUDA backend registers it along with its device allocator.
// nullptr when this build has no CUDA backend or no usable GPU: callers use plain memory.
void register_pinned_host_allocator(Allocator* allocator);
Allocator* pinned_host_allocator();

}  // namespace fcnlab
