// cuda/runtime.h — host-side helpers of the CUDA backend: checked calls (file:line in every
// message), the backend's stream, device discovery, the hand|cudnn kernel switch and the conv2d
// forward's and data gradient's kernel switches and the Winograd pass size.
// Plain C++: included by engine code and by the .cu launchers alike.
#pragma once
#include <cstdint>
#include <string>

#include "engine/error.h"

// Every CUDA runtime call goes through this; a failure throws fcnlab::Error naming the call,
// the CUDA error and file:line.
#define FCNLAB_CUDA_CHECK(call) ::fcnlab::kernels::cuda::check_status(static_cast<int>(call), #call, __FILE__, __LINE__)
// After every launch: reports a bad launch configuration or a kernel fault.
#define FCNLAB_CUDA_CHECK_LAUNCH(kernel_name) ::fcnlab::kernels::cuda::check_launch(kernel_name, __FILE__, __LINE__)

namespace fcnlab::kernels::cuda {

void check_status(int status, const char* what, const char* file, int line);
void check_launch(const char* kernel_name, const char* file, int line);

// True when a device is usable; otherwise *why says why (no driver, no device, ...).
// Under the SIMT layer there is always one emulated device.
bool device_available(std::string* why = nullptr);
// The current device's SM count (read once; 1 under simt), for sizing grid-stride grids.
int sm_count();
// "NVIDIA H200 (132 SMs, cc 9.0)" or "SIMT emulation on the CPU".
std::string device_description();
// Registers the caching allocator and the copy routine for Device::cuda (engine/storage.h).
// Called lazily the first time a CUDA tensor is made; throws when no device is available.
void ensure_backend_registered();
// Waits for all work of the backend's stream; surfaces asynchronous kernel errors.
void synchronize();

// Which implementation the CUDA path uses for ops that have a library baseline.
enum class KernelSource { hand, cudnn };
KernelSource kernel_source();             // from FCNLAB_KERNELS=hand|cudnn, default hand
void set_kernel_source(KernelSource s);
KernelSource parse_kernel_source(const std::string& s);  // "hand" | "cudnn", else Error

// Which hand-written kernel conv2d's forward runs: automatic picks by shape (the direct kernel for
// small reductions, Winograd F(2x2, 3x3) for wide 3x3 stride-1 layers in f32, the implicit GEMM
// otherwise; kernels.h conv2d_forward_path_for), gemm, direct and winograd force one (benchmarks
// time each; tests check each). FCNLAB_CONV_FORWARD=auto|gemm|direct|winograd sets the start value.
enum class ConvForwardPath { automatic, gemm, direct, winograd };
ConvForwardPath conv_forward_path();
void set_conv_forward_path(ConvForwardPath p);
ConvForwardPath parse_conv_forward_path(const std::string& s);  // "auto" | "gemm" | "direct" | "winograd"
const char* conv_forward_path_name(ConvForwardPath p);
// Which hand-written kernel conv2d's data gradient (also conv_transpose2d's forward) runs:
// automatic takes Winograd for wide 3x3 stride-1 layers in f32 (kernels.h
// conv2d_backward_data_path_for) and the implicit GEMM otherwise; gemm and winograd force one.
// FCNLAB_CONV_BACKWARD_DATA=auto|gemm|winograd sets the start value.
enum class ConvBackwardDataPath { automatic, gemm, winograd };
ConvBackwardDataPath conv_backward_data_path();
void set_conv_backward_data_path(ConvBackwardDataPath p);
ConvBackwardDataPath parse_conv_backward_data_path(const std::string& s);  // "auto" | "gemm" | "winograd"
const char* conv_backward_data_path_name(ConvBackwardDataPath p);
// The same for conv2d's weight gradient: automatic takes Winograd F(3x3, 2x2) by the forward's
// rule (kernels.h conv2d_backward_weight_path_for); FCNLAB_CONV_BACKWARD_WEIGHT=auto|gemm|winograd.
enum class ConvBackwardWeightPath { automatic, gemm, winograd };
ConvBackwardWeightPath conv_backward_weight_path();
void set_conv_backward_weight_path(ConvBackwardWeightPath p);
ConvBackwardWeightPath parse_conv_backward_weight_path(const std::string& s);  // "auto" | "gemm" | "winograd"
const char* conv_backward_weight_path_name(ConvBackwardWeightPath p);
// Sets one of the switches above for a scope and restores the previous value after (tests and
// benchmarks): ScopedSwitch s(conv_forward_path, set_conv_forward_path, ConvForwardPath::winograd);
template <class E>
class ScopedSwitch {
 public:
  ScopedSwitch(E (*get)(), void (*set)(E), E value) : set_(set), saved_(get()) { set(value); }
  ~ScopedSwitch() { set_(saved_); }
  ScopedSwitch(const ScopedSwitch&) = delete;
  ScopedSwitch& operator=(const ScopedSwitch&) = delete;

 private:
  void (*set_)(E);
  E saved_;
};
// The most workspace one Winograd pass may take (its transformed inputs and outputs, 16 values
// per 2x2 output tile and channel): a batch runs in passes of as many whole images as fit, at
// least one. Default 1 GiB; automatic routing leaves a layer whose single image exceeds it to the
// implicit GEMM. Must be > 0.
int64_t winograd_pass_bytes();
void set_winograd_pass_bytes(int64_t bytes);

// Caching allocator statistics (for tests and the benchmark's reports).
struct AllocatorStats {
  size_t device_bytes_reserved = 0;  // obtained from cudaMalloc and not yet released
  size_t device_bytes_in_use = 0;
  size_t cuda_malloc_calls = 0;
};
AllocatorStats allocator_stats();
void empty_cache();  // returns cached, unused blocks to the driver

// True when [p, p + nbytes) lies inside one block of the pinned host allocator
// (engine/storage.h pinned_host_allocator): such memory is copied to and from the device
// directly, without the staging buffer.
bool is_pinned_host(const void* p, size_t nbytes);

}  // namespace fcnlab::kernels::cuda
