// cuda/device.cu — the CUDA device for the engine: a caching allocator (no cudaMalloc per op),
// copies through a pinned staging buffer, the stream, checked calls and device discovery.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "engine/storage.h"
#include "kernels/cuda/common.cuh"

namespace fcnlab::kernels::cuda {

void check_status(int status, const char* what, const char* file, int line) {
  if (status == 0) return;
  auto e = static_cast<cudaError_t>(status);
  FCNLAB_FAIL("CUDA error ", status, " (", cudaGetErrorString(e), ") in ", what, " at ", file, ":", line);
}

void check_launch(const char* kernel_name, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return;
  FCNLAB_FAIL("CUDA launch of ", kernel_name, " failed: ", cudaGetErrorString(e), " at ", file, ":", line);
}

bool device_available(std::string* why) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    if (why) *why = e != cudaSuccess ? std::string(cudaGetErrorString(e)) : "no CUDA device found";
    cudaGetLastError();  // clear the sticky error of the failed query
    return false;
  }
  return true;
}

std::string device_description() {
#if defined(FCNLAB_SIMT)
  return "SIMT emulation on the CPU (kernels/simt)";
#else
  std::string why;
  if (!device_available(&why)) return "no CUDA device (" + why + ")";
  int dev = 0;
  cudaDeviceProp p{};
  FCNLAB_CUDA_CHECK(cudaGetDevice(&dev));
  FCNLAB_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return std::string(p.name) + " (" + std::to_string(p.multiProcessorCount) + " SMs, cc " +
         std::to_string(p.major) + "." + std::to_string(p.minor) + ")";
#endif
}

int sm_count() {
  static const int n = [] {
    int dev = 0;
    cudaDeviceProp p{};
    FCNLAB_CUDA_CHECK(cudaGetDevice(&dev));
    FCNLAB_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    return p.multiProcessorCount > 0 ? p.multiProcessorCount : 1;
  }();
  return n;
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    FCNLAB_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

void synchronize() { FCNLAB_CUDA_CHECK(cudaStreamSynchronize(stream())); }

namespace {

// Blocks are reused when a cached one is at least the request and at most twice it, so a
// training step's allocations after the first step cost no cudaMalloc.
class CachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    size_t size = round_up(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      in_use_bytes_ += it->first;
      free_.erase(it);
      return p;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size);
    if (e != cudaSuccess) {  // out of memory: give the cache back and try once more
      cudaGetLastError();
      release_cached_locked();
      FCNLAB_CUDA_CHECK(cudaMalloc(&p, size));
    }
    ++malloc_calls_;
    sizes_[p] = size;
    reserved_bytes_ += size;
    in_use_bytes_ += size;
    return p;
  }

  void deallocate(void* p, size_t) override {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sizes_.find(p);
    if (it == sizes_.end()) return;
    in_use_bytes_ -= it->second;
    free_.emplace(it->second, p);
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {reserved_bytes_, in_use_bytes_, malloc_calls_};
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached_locked();
  }

 private:
  static size_t round_up(size_t n) {
    const size_t q = n < (1u << 20) ? 512 : (1u << 20);  // small: 512 B, large: 1 MiB granules
    return (n + q - 1) / q * q;
  }
  void release_cached_locked() {
    cudaStreamSynchronize(stream());
    for (auto& [size, p] : free_) {
      cudaFree(p);
      sizes_.erase(p);
      reserved_bytes_ -= size;
    }
    free_.clear();
  }

  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> sizes_;
  size_t reserved_bytes_ = 0, in_use_bytes_ = 0, malloc_calls_ = 0;
};

CachingAllocator& caching_allocator() {
  static CachingAllocator a;
  return a;
}

// Page-locked host blocks for the loader's batches. cudaHostAlloc is slow (it maps and locks
// pages), and a loader allocates same-sized batches all the time, so freed blocks are kept
// for reuse like the device cache's. Every block stays registered by address, so a copy can
// tell pinned memory from pageable memory.
class PinnedHostAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    const size_t size = (nbytes + 4095) / 4096 * 4096;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      free_.erase(it);
      return p;
    }
    void* p = nullptr;
    FCNLAB_CUDA_CHECK(cudaHostAlloc(&p, size, cudaHostAllocDefault));
    blocks_[static_cast<char*>(p)] = size;
    return p;
  }
  void deallocate(void* p, size_t) override {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.find(static_cast<char*>(p));
    if (it != blocks_.end()) free_.emplace(it->second, p);
  }
  bool contains(const void* p, size_t nbytes) {
    const char* c = static_cast<const char*>(p);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.upper_bound(const_cast<char*>(c));
    if (it == blocks_.begin()) return false;
    --it;
    return c >= it->first && c + nbytes <= it->first + it->second;
  }

 private:
  std::mutex mu_;
  std::map<char*, size_t> blocks_;  // every block obtained, by start address
  std::multimap<size_t, void*> free_;
};

PinnedHostAllocator& pinned_host() {
  static PinnedHostAllocator a;
  return a;
}

// Host <-> device copies go through one pinned buffer in chunks, so pageable host memory
// never costs a hidden driver-side staging copy of the whole tensor.
constexpr size_t kStagingBytes = 8u << 20;

void* staging_buffer() {
  static void* buf = [] {
    void* p = nullptr;
    FCNLAB_CUDA_CHECK(cudaMallocHost(&p, kStagingBytes));
    return p;
  }();
  return buf;
}

std::mutex g_copy_mu;

void cuda_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  if (nbytes == 0) return;
  std::lock_guard<std::mutex> lock(g_copy_mu);
  cudaStream_t s = stream();
  if (dst_dev.is_cuda() && src_dev.is_cuda()) {
    FCNLAB_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s));
    return;  // stream-ordered: later kernels see it
  }
  const void* host = dst_dev.is_cuda() ? src : dst;
  if (pinned_host().contains(host, nbytes)) {  // pinned: one direct DMA copy, no staging
    FCNLAB_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes,
                                      dst_dev.is_cuda() ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, s));
    FCNLAB_CUDA_CHECK(cudaStreamSynchronize(s));
    return;
  }
  char* stage = static_cast<char*>(staging_buffer());
  for (size_t off = 0; off < nbytes; off += kStagingBytes) {
    size_t n = nbytes - off < kStagingBytes ? nbytes - off : kStagingBytes;
    if (dst_dev.is_cuda()) {  // host -> device
      FCNLAB_CUDA_CHECK(cudaStreamSynchronize(s));  // the staging buffer is free again
      std::memcpy(stage, static_cast<const char*>(src) + off, n);
      FCNLAB_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + off, stage, n, cudaMemcpyHostToDevice, s));
    } else {  // device -> host
      FCNLAB_CUDA_CHECK(cudaMemcpyAsync(stage, static_cast<const char*>(src) + off, n, cudaMemcpyDeviceToHost, s));
      FCNLAB_CUDA_CHECK(cudaStreamSynchronize(s));
      std::memcpy(static_cast<char*>(dst) + off, stage, n);
    }
  }
  FCNLAB_CUDA_CHECK(cudaStreamSynchronize(s));
}

}  // namespace

void ensure_backend_registered() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    std::string why;
    if (!device_available(&why)) {
      failure = why;
      return;
    }
    register_device_backend(DeviceType::cuda, &caching_allocator(), &cuda_copy);
    register_pinned_host_allocator(&pinned_host());
  });
  FCNLAB_CHECK(failure.empty(), "device cuda is not available: ", failure,
               " (this fcnlab build has CUDA kernels, but no usable GPU; use --device cpu)");
}

AllocatorStats allocator_stats() { return caching_allocator().stats(); }
bool is_pinned_host(const void* p, size_t nbytes) { return pinned_host().contains(p, nbytes); }
void empty_cache() { caching_allocator().empty_cache(); }

namespace {
// One run-time switch: its value starts from the environment variable `var` (parsed, so a bad
// value is an Error naming it) or `fallback`, and set_* changes it.
template <class E>
E& env_switch(const char* var, E (*parse)(const std::string&), E fallback) {
  static E value = [&] {
    const char* env = std::getenv(var);
    return env && *env ? parse(env) : fallback;
  }();
  return value;
}
KernelSource& kernel_source_ref() {
  return env_switch("FCNLAB_KERNELS", parse_kernel_source, KernelSource::hand);
}
ConvForwardPath& conv_forward_path_ref() {
  return env_switch("FCNLAB_CONV_FORWARD", parse_conv_forward_path, ConvForwardPath::automatic);
}
ConvBackwardDataPath& conv_backward_data_path_ref() {
  return env_switch("FCNLAB_CONV_BACKWARD_DATA", parse_conv_backward_data_path, ConvBackwardDataPath::automatic);
}
ConvBackwardWeightPath& conv_backward_weight_path_ref() {
  return env_switch("FCNLAB_CONV_BACKWARD_WEIGHT", parse_conv_backward_weight_path,
                    ConvBackwardWeightPath::automatic);
}
}  // namespace

KernelSource parse_kernel_source(const std::string& s) {
  if (s == "hand") return KernelSource::hand;
  if (s == "cudnn") return KernelSource::cudnn;
  FCNLAB_FAIL("kernels '", s, "': expected hand or cudnn (flag --kernels or FCNLAB_KERNELS)");
}
KernelSource kernel_source() { return kernel_source_ref(); }
void set_kernel_source(KernelSource s) {
#if !defined(FCNLAB_WITH_CUDNN)
  FCNLAB_CHECK(s == KernelSource::hand,
               "kernels cudnn: this build has no cuDNN baseline (FCNLAB_GPU=cuda with cuDNN found)");
#endif
  kernel_source_ref() = s;
}

ConvForwardPath parse_conv_forward_path(const std::string& s) {
  if (s == "auto") return ConvForwardPath::automatic;
  if (s == "gemm") return ConvForwardPath::gemm;
  if (s == "direct") return ConvForwardPath::direct;
  if (s == "winograd") return ConvForwardPath::winograd;
  FCNLAB_FAIL("FCNLAB_CONV_FORWARD '", s, "': expected auto, gemm, direct or winograd");
}
const char* conv_forward_path_name(ConvForwardPath p) {
  switch (p) {
    case ConvForwardPath::gemm: return "gemm";
    case ConvForwardPath::direct: return "direct";
    case ConvForwardPath::winograd: return "winograd";
    case ConvForwardPath::automatic: break;
  }
  return "auto";
}
ConvForwardPath conv_forward_path() { return conv_forward_path_ref(); }
void set_conv_forward_path(ConvForwardPath p) { conv_forward_path_ref() = p; }

ConvBackwardDataPath parse_conv_backward_data_path(const std::string& s) {
  if (s == "auto") return ConvBackwardDataPath::automatic;
  if (s == "gemm") return ConvBackwardDataPath::gemm;
  if (s == "winograd") return ConvBackwardDataPath::winograd;
  FCNLAB_FAIL("FCNLAB_CONV_BACKWARD_DATA '", s, "': expected auto, gemm or winograd");
}
const char* conv_backward_data_path_name(ConvBackwardDataPath p) {
  return p == ConvBackwardDataPath::gemm ? "gemm" : p == ConvBackwardDataPath::winograd ? "winograd" : "auto";
}
ConvBackwardDataPath conv_backward_data_path() { return conv_backward_data_path_ref(); }
void set_conv_backward_data_path(ConvBackwardDataPath p) { conv_backward_data_path_ref() = p; }

ConvBackwardWeightPath parse_conv_backward_weight_path(const std::string& s) {
  if (s == "auto") return ConvBackwardWeightPath::automatic;
  if (s == "gemm") return ConvBackwardWeightPath::gemm;
  if (s == "winograd") return ConvBackwardWeightPath::winograd;
  FCNLAB_FAIL("FCNLAB_CONV_BACKWARD_WEIGHT '", s, "': expected auto, gemm or winograd");
}
const char* conv_backward_weight_path_name(ConvBackwardWeightPath p) {
  return p == ConvBackwardWeightPath::gemm ? "gemm" : p == ConvBackwardWeightPath::winograd ? "winograd" : "auto";
}
ConvBackwardWeightPath conv_backward_weight_path() { return conv_backward_weight_path_ref(); }
void set_conv_backward_weight_path(ConvBackwardWeightPath p) { conv_backward_weight_path_ref() = p; }

}  // namespace fcnlab::kernels::cuda
