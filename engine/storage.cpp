// storage.cpp — the CPU allocator (64-byte aligned, for AVX loads) and the device table.
#include "engine/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/error.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/runtime.h"
#endif

namespace fcnlab {

namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
};

void cpu_copy(void* dst, Device, const void* src, Device, size_t nbytes) {
  if (nbytes) std::memcpy(dst, src, nbytes);
}

struct DeviceEntry {
  Allocator* allocator = nullptr;
  CopyFn copy = nullptr;
};

DeviceEntry& table(DeviceType t) {
  static CpuAllocator cpu_allocator;
  static DeviceEntry entries[2] = {{&cpu_allocator, &cpu_copy}, {nullptr, nullptr}};
  return entries[static_cast<int>(t)];
}

// The CUDA backend registers itself the first time a CUDA device is asked for (and throws a
// clear error there when the build has CUDA kernels but no GPU is usable).
DeviceEntry& entry(DeviceType t) {
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  if (t == DeviceType::cuda && !table(t).allocator) kernels::cuda::ensure_backend_registered();
#endif
  return table(t);
}

}  // namespace

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    std::string idx = s.substr(5);
    FCNLAB_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
                 "device '", s, "': expected cpu, cuda or cuda:N");
    return Device::cuda(std::stoi(idx));
  }
  FCNLAB_FAIL("device '", s, "': expected cpu, cuda or cuda:N");
}

namespace {
std::atomic<Allocator*> g_pinned_host{nullptr};
}  // namespace

void register_pinned_host_allocator(Allocator* allocator) { g_pinned_host = allocator; }

Allocator* pinned_host_allocator() {
#if defined(FCNLAB_WITH_CUDA_KERNELS)
  // the backend registers it on first use; without a usable GPU there is none
  if (!g_pinned_host && kernels::cuda::device_available()) kernels::cuda::ensure_backend_registered();
#endif
  return g_pinned_host;
}

void register_device_backend(DeviceType type, Allocator* allocator, CopyFn copy) {
  table(type) = {allocator, copy};
}

Allocator* allocator_for(Device d) {
  Allocator* a = entry(d.type).allocator;
  FCNLAB_CHECK(a, "device ", d.str(),
               " is not available: this build of fcnlab has no CUDA backend or no GPU was found");
  return a;
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  // A copy that touches a CUDA device goes through the CUDA backend's routine.
  DeviceType t = (dst_dev.is_cuda() || src_dev.is_cuda()) ? DeviceType::cuda : DeviceType::cpu;
  CopyFn f = entry(t).copy;
  FCNLAB_CHECK(f, "copy ", src_dev.str(), " -> ", dst_dev.str(),
               ": this build of fcnlab has no CUDA backend or no GPU was found");
  f(dst, dst_dev, src, src_dev, nbytes);
}

Storage::Storage(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(allocator_for(device)) {
  data_ = allocator_->allocate(nbytes);
}

Storage::Storage(size_t nbytes, Device device, Allocator* allocator)
    : nbytes_(nbytes), device_(device), allocator_(allocator) {
  FCNLAB_CHECK(allocator_ != nullptr, "Storage: no allocator for ", device.str());
  data_ = allocator_->allocate(nbytes);
}

Storage::~Storage() {
  if (data_) allocator_->deallocate(data_, nbytes_);
}

}  // namespace fcnlab
