// cudnn/baseline.cu — cuDNN convolutions/softmax and cuBLAS GEMM behind kernels/cudnn/baseline.h.
// Host code only (nvcc compiles it with the rest of the CUDA backend). Algorithms are chosen once
// per shape with cudnnFind*AlgorithmEx (timed by cuDNN on the real buffers, in our workspace) and
// cached, so the baseline is cuDNN at its best for that shape, not a heuristic guess.
#include "kernels/cudnn/baseline.h"

#include <cublas_v2.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace fcnlab::kernels::cudnn {

namespace {

#define FCNLAB_CUDNN_CHECK(call)                                                           \
  do {                                                                                     \
    cudnnStatus_t st_ = (call);                                                            \
    FCNLAB_CHECK(st_ == CUDNN_STATUS_SUCCESS, "cuDNN error ", cudnnGetErrorString(st_), " in ", \
                 #call, " at ", __FILE__, ":", __LINE__);                                  \
  } while (0)
#define FCNLAB_CUBLAS_CHECK(call)                                                          \
  do {                                                                                     \
    cublasStatus_t st_ = (call);                                                           \
    FCNLAB_CHECK(st_ == CUBLAS_STATUS_SUCCESS, "cuBLAS error ", cublasGetStatusString(st_), \
                 " in ", #call, " at ", __FILE__, ":", __LINE__);                          \
  } while (0)

bool& tf32_ref() {
  static bool on = [] {
    const char* e = std::getenv("FCNLAB_TF32");
    return e && std::string(e) == "1";
  }();
  return on;
}

cudnnHandle_t dnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t x = nullptr;
    FCNLAB_CUDNN_CHECK(cudnnCreate(&x));
    FCNLAB_CUDNN_CHECK(cudnnSetStream(x, ::fcnlab::kernels::cuda::stream()));
    return x;
  }();
  return h;
}

cublasHandle_t blas() {
  static cublasHandle_t h = [] {
    cublasHandle_t x = nullptr;
    FCNLAB_CUBLAS_CHECK(cublasCreate(&x));
    FCNLAB_CUBLAS_CHECK(cublasSetStream(x, ::fcnlab::kernels::cuda::stream()));
    FCNLAB_CUBLAS_CHECK(cublasSetMathMode(x, CUBLAS_DEFAULT_MATH));  // no TF32 unless asked per call
    return x;
  }();
  return h;
}

// One workspace for every cuDNN call, grown (never shrunk) with cudaMalloc. Calls are
// serialized on one stream, so sharing it is safe; growth synchronizes before freeing.
// The workspace lives outside the caching allocator: when cudaMalloc fails, the allocator's
// unused blocks are returned to the driver and the call is tried once more.
constexpr size_t kMaxWorkspace = size_t(1) << 30;  // what algorithm search may use at most
void* workspace(size_t bytes) {
  static void* p = nullptr;
  static size_t have = 0;
  if (bytes <= have) return p;
  if (p) {
    FCNLAB_CUDA_CHECK(cudaStreamSynchronize(::fcnlab::kernels::cuda::stream()));
    FCNLAB_CUDA_CHECK(cudaFree(p));
    p = nullptr;
    have = 0;
  }
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the failed allocation's error
    ::fcnlab::kernels::cuda::empty_cache();
    FCNLAB_CUDA_CHECK(cudaMalloc(&p, bytes));
  }
  have = bytes;
  return p;
}

// What one algorithm search may use: kMaxWorkspace, or half the device's free memory (after the
// caching allocator's unused blocks are released) when that is less, so that the search itself
// never fails for memory a training run holds.
size_t search_workspace_bytes() {
  ::fcnlab::kernels::cuda::empty_cache();
  size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
    (void)cudaGetLastError();
    return kMaxWorkspace;
  }
  return std::min(kMaxWorkspace, std::max<size_t>(free_b / 2, size_t(16) << 20));
}

cudnnDataType_t data_type(const Tensor& t, const char* op) {
  if (t.dtype() == DType::f32) return CUDNN_DATA_FLOAT;
  if (t.dtype() == DType::f64) return CUDNN_DATA_DOUBLE;
  FCNLAB_FAIL(op, ": cuDNN baseline takes f32 or f64, got ", dtype_name(t.dtype()));
}

// RAII descriptors, one set per call (creating them costs microseconds, not kernel time).
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(cudnnDataType_t dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    FCNLAB_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    FCNLAB_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, dt, int(n), int(c), int(h), int(w)));
  }
  explicit TensorDesc(const Tensor& t, cudnnDataType_t dt)
      : TensorDesc(dt, t.size(0), t.size(1), t.size(2), t.size(3)) {}
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
};
struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(const Tensor& w, cudnnDataType_t dt) {
    FCNLAB_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
    FCNLAB_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, dt, CUDNN_TENSOR_NCHW, int(w.size(0)), int(w.size(1)),
                                                  int(w.size(2)), int(w.size(3))));
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc(const Conv2dOptions& o, cudnnDataType_t dt) {
    FCNLAB_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    FCNLAB_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, o.pad_h, o.pad_w, o.stride_h, o.stride_w,
                                                       o.dilation_h, o.dilation_w,
                                                       CUDNN_CROSS_CORRELATION, dt));
    FCNLAB_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d, o.groups));
    // FMA_MATH: no tensor cores, so fp32 stays fp32 (no TF32); DEFAULT lets cuDNN use TF32.
    const bool tf32 = dt == CUDNN_DATA_FLOAT && tf32_ref();
    FCNLAB_CUDNN_CHECK(cudnnSetConvolutionMathType(d, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
};

// Cache of chosen algorithms: (which pass, shapes, options, dtype, tf32) -> (algo, workspace).
using ConvKey = std::tuple<int, std::vector<int64_t>, int, bool>;
ConvKey conv_key(int pass, const Tensor& a, const Tensor& w, const Tensor& out, const Conv2dOptions& o) {
  std::vector<int64_t> v;
  for (const Tensor* t : {&a, &w, &out})
    for (int i = 0; i < 4; ++i) v.push_back(t->size(i));
  for (int x : {o.stride_h, o.stride_w, o.pad_h, o.pad_w, o.dilation_h, o.dilation_w, o.groups}) v.push_back(x);
  return {pass, v, int(a.dtype()), tf32_ref()};
}
struct Choice {
  int algo = 0;
  size_t bytes = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;  // the math type the search timed the algorithm with
};
std::mutex cache_mu;
std::map<ConvKey, Choice>& conv_cache() {
  static std::map<ConvKey, Choice> m;
  return m;
}

// Picks the fastest successful result whose math type is allowed (no tensor-op math when TF32 is off).
template <class Perf>
Choice pick(const Perf* perf, int n, const char* op) {
  for (int i = 0; i < n; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (!tf32_ref() && (perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
                        perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION))
      continue;
    return {int(perf[i].algo), perf[i].memory, perf[i].mathType};
  }
  FCNLAB_FAIL(op, ": cuDNN found no usable algorithm for this shape");
}

// With TF32 allowed, run the algorithm with the math type the search timed (as NVIDIA advises);
// with it off the descriptor keeps FMA_MATH, so fp32 stays fp32 whatever the search reported.
void use_math(const ConvDesc& cd, const Choice& c) {
  if (tf32_ref()) FCNLAB_CUDNN_CHECK(cudnnSetConvolutionMathType(cd.d, c.math));
}

template <class T>
const void* one() {
  static const T v = 1;
  return &v;
}
template <class T>
const void* zero() {
  static const T v = 0;
  return &v;
}
const void* one_of(cudnnDataType_t dt) { return dt == CUDNN_DATA_DOUBLE ? one<double>() : one<float>(); }
const void* zero_of(cudnnDataType_t dt) { return dt == CUDNN_DATA_DOUBLE ? zero<double>() : zero<float>(); }

}  // namespace

std::string version_string() {
  int blas_version = 0;
  cublasGetVersion(blas(), &blas_version);
  const size_t v = cudnnGetVersion();
  return "cuDNN " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100) + ", cuBLAS " + std::to_string(blas_version) +
         (tf32_ref() ? ", TF32 on" : ", TF32 off");
}
bool tf32_enabled() { return tf32_ref(); }
void set_tf32(bool on) { tf32_ref() = on; }

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const Conv2dOptions& o) {
  const cudnnDataType_t dt = data_type(x, "conv2d_forward");
  TensorDesc xd(x, dt), yd(y, dt);
  FilterDesc wd(w, dt);
  ConvDesc cd(o, dt);
  Choice c;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto key = conv_key(0, x, w, y, o);
    auto it = conv_cache().find(key);
    if (it == conv_cache().end()) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      int n = 0;
      const size_t search = search_workspace_bytes();
      FCNLAB_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
          dnn(), xd.d, x.raw_data(), wd.d, w.raw_data(), cd.d, yd.d, y.raw_data(),
          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, workspace(search), search));
      it = conv_cache().emplace(key, pick(perf, n, "conv2d_forward")).first;
    }
    c = it->second;
  }
  use_math(cd, c);
  FCNLAB_CUDNN_CHECK(cudnnConvolutionForward(dnn(), one_of(dt), xd.d, x.raw_data(), wd.d, w.raw_data(), cd.d,
                                             cudnnConvolutionFwdAlgo_t(c.algo), workspace(c.bytes), c.bytes,
                                             zero_of(dt), yd.d, y.raw_data()));
  if (b.defined()) {
    TensorDesc bd(dt, 1, b.size(0), 1, 1);
    FCNLAB_CUDNN_CHECK(cudnnAddTensor(dnn(), one_of(dt), bd.d, b.raw_data(), one_of(dt), yd.d, y.raw_data()));
  }
}

void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o) {
  const cudnnDataType_t dt = data_type(dy, "conv2d_backward_data");
  TensorDesc dyd(dy, dt), dxd(dx, dt);
  FilterDesc wd(w, dt);
  ConvDesc cd(o, dt);
  Choice c;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto key = conv_key(1, dx, w, dy, o);
    auto it = conv_cache().find(key);
    if (it == conv_cache().end()) {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int n = 0;
      const size_t search = search_workspace_bytes();
      FCNLAB_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
          dnn(), wd.d, w.raw_data(), dyd.d, dy.raw_data(), cd.d, dxd.d, dx.raw_data(),
          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf, workspace(search), search));
      it = conv_cache().emplace(key, pick(perf, n, "conv2d_backward_data")).first;
    }
    c = it->second;
  }
  use_math(cd, c);
  FCNLAB_CUDNN_CHECK(cudnnConvolutionBackwardData(dnn(), one_of(dt), wd.d, w.raw_data(), dyd.d, dy.raw_data(),
                                                  cd.d, cudnnConvolutionBwdDataAlgo_t(c.algo),
                                                  workspace(c.bytes), c.bytes, zero_of(dt), dxd.d,
                                                  dx.raw_data()));
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o) {
  const cudnnDataType_t dt = data_type(x, "conv2d_backward_weight");
  TensorDesc xd(x, dt), dyd(dy, dt);
  FilterDesc dwd(dw, dt);
  ConvDesc cd(o, dt);
  Choice c;
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto key = conv_key(2, x, dw, dy, o);
    auto it = conv_cache().find(key);
    if (it == conv_cache().end()) {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int n = 0;
      const size_t search = search_workspace_bytes();
      FCNLAB_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
          dnn(), xd.d, x.raw_data(), dyd.d, dy.raw_data(), cd.d, dwd.d, dw.raw_data(),
          CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf, workspace(search), search));
      it = conv_cache().emplace(key, pick(perf, n, "conv2d_backward_weight")).first;
    }
    c = it->second;
  }
  use_math(cd, c);
  FCNLAB_CUDNN_CHECK(cudnnConvolutionBackwardFilter(dnn(), one_of(dt), xd.d, x.raw_data(), dyd.d, dy.raw_data(),
                                                    cd.d, cudnnConvolutionBwdFilterAlgo_t(c.algo),
                                                    workspace(c.bytes), c.bytes, zero_of(dt), dwd.d,
                                                    dw.raw_data()));
}

namespace {
// (N, C, rest...) viewed as N x C x inner x 1 for the channel-mode softmax.
TensorDesc channel_desc(const Tensor& t, cudnnDataType_t dt) {
  int64_t inner = 1;
  for (int i = 2; i < t.dim(); ++i) inner *= t.size(i);
  return TensorDesc(dt, t.size(0), t.size(1), inner, 1);
}
void softmax_fwd(const Tensor& x, Tensor& y, cudnnSoftmaxAlgorithm_t algo, const char* op) {
  const cudnnDataType_t dt = data_type(x, op);
  TensorDesc xd = channel_desc(x, dt), yd = channel_desc(y, dt);
  FCNLAB_CUDNN_CHECK(cudnnSoftmaxForward(dnn(), algo, CUDNN_SOFTMAX_MODE_CHANNEL, one_of(dt), xd.d,
                                         x.raw_data(), zero_of(dt), yd.d, y.raw_data()));
}
void softmax_bwd(const Tensor& y, const Tensor& dy, Tensor& dx, cudnnSoftmaxAlgorithm_t algo, const char* op) {
  const cudnnDataType_t dt = data_type(y, op);
  TensorDesc yd = channel_desc(y, dt), dyd = channel_desc(dy, dt), dxd = channel_desc(dx, dt);
  FCNLAB_CUDNN_CHECK(cudnnSoftmaxBackward(dnn(), algo, CUDNN_SOFTMAX_MODE_CHANNEL, one_of(dt), yd.d,
                                          y.raw_data(), dyd.d, dy.raw_data(), zero_of(dt), dxd.d,
                                          dx.raw_data()));
}
}  // namespace

void softmax_forward(const Tensor& x, Tensor& y) { softmax_fwd(x, y, CUDNN_SOFTMAX_ACCURATE, "softmax_forward"); }
void log_softmax_forward(const Tensor& x, Tensor& y) { softmax_fwd(x, y, CUDNN_SOFTMAX_LOG, "log_softmax_forward"); }
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  softmax_bwd(y, dy, dx, CUDNN_SOFTMAX_ACCURATE, "softmax_backward");
}
void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  softmax_bwd(y, dy, dx, CUDNN_SOFTMAX_LOG, "log_softmax_backward");
}

// Row-major C (M, N) = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: call cuBLAS with the
// operands swapped, each with its own row length as leading dimension.
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, double beta, Tensor& c) {
  const int M = int(c.size(0)), N = int(c.size(1));
  const int K = int(trans_a ? a.size(0) : a.size(1));
  const int lda = int(a.size(1)), ldb = int(b.size(1));
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (c.dtype() == DType::f64) {
    const double alpha = 1.0, bt = beta;
    FCNLAB_CUBLAS_CHECK(cublasDgemm(blas(), op_b, op_a, N, M, K, &alpha, b.data<double>(), ldb,
                                    a.data<double>(), lda, &bt, c.data<double>(), N));
    return;
  }
  FCNLAB_CHECK(c.dtype() == DType::f32, "gemm: cuBLAS baseline takes f32 or f64, got ", dtype_name(c.dtype()));
  const float alpha = 1.0f, bt = float(beta);
  const cublasComputeType_t compute = tf32_ref() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  FCNLAB_CUBLAS_CHECK(cublasGemmEx(blas(), op_b, op_a, N, M, K, &alpha, b.data<float>(), CUDA_R_32F, ldb,
                                   a.data<float>(), CUDA_R_32F, lda, &bt, c.data<float>(), CUDA_R_32F, N,
                                   compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace fcnlab::kernels::cudnn
