// runtime.cpp — the CUDA runtime subset on the host (see runtime.h): tracked, poisoned
// allocations; synchronous copies with direction checks; stream/event tags; per-thread errors.
#include "kernels/simt/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace fcnlab::simt {
namespace {

std::mutex g_mutex;  // guards the tables below (any host thread may allocate)
std::map<uintptr_t, size_t>& allocations() {
  static std::map<uintptr_t, size_t> m;
  return m;
}
std::set<const void*>& streams() {
  static std::set<const void*> s;
  return s;
}
std::unordered_map<const void*, size_t>& shared_limits() {
  static std::unordered_map<const void*, size_t> m;
  return m;
}

thread_local cudaError_t tls_last = cudaSuccess;   // for cudaGetLastError
thread_local cudaError_t tls_async = cudaSuccess;  // for the next synchronize
thread_local cudaError_t tls_detail_code = cudaSuccess;
thread_local std::string tls_detail;
thread_local std::string tls_message;

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) tls_last = e;
  return e;
}

// A failed runtime call: the error is returned and kept for cudaGetLastError (not for the
// next synchronize: only kernels fail asynchronously), with its explanation.
cudaError_t fail_call(cudaError_t e, const char* detail) {
  tls_last = e;
  tls_detail_code = e;
  tls_detail = detail;
  return e;
}

size_t g_bytes_in_use = 0;
constexpr size_t kTotalBytes = size_t(141) * 1024 * 1024 * 1024;  // an H200's 141 GB

}  // namespace

struct EventState {
  std::chrono::steady_clock::time_point t{};
  bool recorded = false;
};

size_t max_dynamic_shared(const void* func) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = shared_limits().find(func);
  return it == shared_limits().end() ? kDefaultSharedBytes : it->second;
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& m = allocations();
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m.upper_bound(a);
  if (it == m.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

namespace detail {
void record_error(cudaError_t e, const char* detail) {
  tls_last = e;
  if (tls_async == cudaSuccess) tls_async = e;
  tls_detail_code = e;
  tls_detail = detail ? detail : "";
}
bool is_valid_stream(cudaStream_t s) {
  if (!s) return true;
  std::lock_guard<std::mutex> lock(g_mutex);
  return streams().count(s) != 0;
}
}  // namespace detail
}  // namespace fcnlab::simt

using fcnlab::simt::detail::is_valid_stream;
using fcnlab::simt::is_device_range;
namespace sd = fcnlab::simt;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (!ptr) return sd::set_error(cudaErrorInvalidValue);
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  size_t rounded = (bytes + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, rounded);
  if (!p) return sd::set_error(cudaErrorMemoryAllocation);
  std::memset(p, 0xFF, rounded);  // NaN poison: a read before a write shows
#if defined(__SANITIZE_ADDRESS__)
  // The rounding slack is not the caller's: an ASan build reports accesses to it.
  ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + bytes, rounded - bytes);
#endif
  std::lock_guard<std::mutex> lock(sd::g_mutex);
  sd::allocations()[reinterpret_cast<uintptr_t>(p)] = bytes;
  sd::g_bytes_in_use += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(sd::g_mutex);
    auto it = sd::allocations().find(reinterpret_cast<uintptr_t>(ptr));
    if (it == sd::allocations().end()) {
      return sd::fail_call(cudaErrorInvalidValue,
                           "cudaFree of a pointer that cudaMalloc did not return (or freed twice)");
    }
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(ptr, (it->second + 255) / 256 * 256);
#endif
    sd::g_bytes_in_use -= it->second;
    sd::allocations().erase(it);
  }
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (!ptr) return sd::set_error(cudaErrorInvalidValue);
  *ptr = std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
  return *ptr ? cudaSuccess : sd::set_error(cudaErrorMemoryAllocation);
}
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned int) { return cudaMallocHost(ptr, bytes); }
cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return sd::set_error(cudaErrorInvalidValue);
  const char* problem = nullptr;
  switch (kind) {
    case cudaMemcpyHostToHost: break;
    case cudaMemcpyHostToDevice:
      if (!is_device_range(dst, bytes)) problem = "cudaMemcpy HostToDevice: the destination is not inside one cudaMalloc allocation";
      break;
    case cudaMemcpyDeviceToHost:
      if (!is_device_range(src, bytes)) problem = "cudaMemcpy DeviceToHost: the source is not inside one cudaMalloc allocation";
      break;
    case cudaMemcpyDeviceToDevice:
      if (!is_device_range(src, bytes) || !is_device_range(dst, bytes))
        problem = "cudaMemcpy DeviceToDevice: source or destination is not inside one cudaMalloc allocation";
      break;
    case cudaMemcpyDefault: break;
    default: return sd::set_error(cudaErrorInvalidMemcpyDirection);
  }
  if (problem) return sd::fail_call(cudaErrorInvalidValue, problem);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (!is_valid_stream(stream)) return sd::set_error(cudaErrorInvalidResourceHandle);
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!is_device_range(dst, bytes))
    return sd::fail_call(cudaErrorInvalidValue,
                         "cudaMemset: the range is not inside one cudaMalloc allocation");
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (!is_valid_stream(stream)) return sd::set_error(cudaErrorInvalidResourceHandle);
  return cudaMemset(dst, value, bytes);
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(sd::g_mutex);
  if (free_bytes) *free_bytes = sd::kTotalBytes - std::min(sd::kTotalBytes, sd::g_bytes_in_use);
  if (total_bytes) *total_bytes = sd::kTotalBytes;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  if (!stream) return sd::set_error(cudaErrorInvalidValue);
  // A stream is a unique address; nothing is queued on it (every call completes at once).
  *stream = reinterpret_cast<cudaStream_t>(new char);
  std::lock_guard<std::mutex> lock(sd::g_mutex);
  sd::streams().insert(*stream);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  {
    std::lock_guard<std::mutex> lock(sd::g_mutex);
    if (!stream || !sd::streams().erase(stream)) return sd::set_error(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!is_valid_stream(stream)) return sd::set_error(cudaErrorInvalidResourceHandle);
  return cudaDeviceSynchronize();
}
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  if (!is_valid_stream(stream) || !event) return sd::set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, 0); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  if (!event) return sd::set_error(cudaErrorInvalidValue);
  *event = reinterpret_cast<cudaEvent_t>(new sd::EventState);
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<sd::EventState*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event || !is_valid_stream(stream)) return sd::set_error(cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<sd::EventState*>(event);
  e->t = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return event ? cudaSuccess : sd::set_error(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  return event ? cudaSuccess : sd::set_error(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto* a = reinterpret_cast<sd::EventState*>(start);
  auto* b = reinterpret_cast<sd::EventState*>(end);
  if (!ms || !a || !b) return sd::set_error(cudaErrorInvalidValue);
  if (!a->recorded || !b->recorded) return sd::set_error(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  cudaError_t e = sd::tls_async;
  sd::tls_async = cudaSuccess;
  return e;
}
cudaError_t cudaDeviceReset() {
  sd::tls_last = sd::tls_async = cudaSuccess;
  return cudaSuccess;
}
cudaError_t cudaGetLastError() {
  cudaError_t e = sd::tls_last;
  sd::tls_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return sd::tls_last; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define FCNLAB_SIMT_NAME(e) \
  case e: return #e;
    FCNLAB_SIMT_NAME(cudaSuccess)
    FCNLAB_SIMT_NAME(cudaErrorInvalidValue)
    FCNLAB_SIMT_NAME(cudaErrorMemoryAllocation)
    FCNLAB_SIMT_NAME(cudaErrorInitializationError)
    FCNLAB_SIMT_NAME(cudaErrorInvalidConfiguration)
    FCNLAB_SIMT_NAME(cudaErrorInvalidDevicePointer)
    FCNLAB_SIMT_NAME(cudaErrorInvalidMemcpyDirection)
    FCNLAB_SIMT_NAME(cudaErrorInvalidDeviceFunction)
    FCNLAB_SIMT_NAME(cudaErrorNoDevice)
    FCNLAB_SIMT_NAME(cudaErrorInvalidDevice)
    FCNLAB_SIMT_NAME(cudaErrorInvalidResourceHandle)
    FCNLAB_SIMT_NAME(cudaErrorNotReady)
    FCNLAB_SIMT_NAME(cudaErrorIllegalAddress)
    FCNLAB_SIMT_NAME(cudaErrorLaunchOutOfResources)
    FCNLAB_SIMT_NAME(cudaErrorAssert)
    FCNLAB_SIMT_NAME(cudaErrorIllegalInstruction)
    FCNLAB_SIMT_NAME(cudaErrorMisalignedAddress)
    FCNLAB_SIMT_NAME(cudaErrorLaunchFailure)
    FCNLAB_SIMT_NAME(cudaErrorNotSupported)
    FCNLAB_SIMT_NAME(cudaErrorUnknown)
#undef FCNLAB_SIMT_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  const char* base = "unknown error";
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: base = "invalid argument"; break;
    case cudaErrorMemoryAllocation: base = "out of memory"; break;
    case cudaErrorInvalidConfiguration: base = "invalid configuration argument"; break;
    case cudaErrorInvalidDeviceFunction: base = "invalid device function"; break;
    case cudaErrorInvalidResourceHandle: base = "invalid resource handle"; break;
    case cudaErrorIllegalInstruction: base = "an illegal instruction was encountered"; break;
    case cudaErrorMisalignedAddress: base = "misaligned address"; break;
    case cudaErrorLaunchFailure: base = "unspecified launch failure"; break;
    case cudaErrorNotSupported: base = "operation not supported"; break;
    case cudaErrorInvalidMemcpyDirection: base = "invalid copy direction for memcpy"; break;
    default: base = cudaGetErrorName(error); break;
  }
  if (error != sd::tls_detail_code || sd::tls_detail.empty()) return base;
  sd::tls_message = std::string(base) + " [" + sd::tls_detail + "]";
  return sd::tls_message.c_str();
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return sd::set_error(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return sd::set_error(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : sd::set_error(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return sd::set_error(cudaErrorInvalidValue);
  if (device != 0) return sd::set_error(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "fcnlab simt (CUDA execution model on the CPU)");
  prop->totalGlobalMem = sd::kTotalBytes;
  prop->sharedMemPerBlock = sd::kDefaultSharedBytes;
  prop->sharedMemPerBlockOptin = sd::kMaxSharedBytesOptin;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7FFFFFFF;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->multiProcessorCount = 1;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttributeImpl(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return sd::set_error(cudaErrorInvalidDeviceFunction);
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return sd::set_error(cudaErrorInvalidValue);
  if (value < 0 || static_cast<size_t>(value) > sd::kMaxSharedBytesOptin)
    return sd::set_error(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(sd::g_mutex);
  sd::shared_limits()[func] = static_cast<size_t>(value);
  return cudaSuccess;
}
