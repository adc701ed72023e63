// cuda/softmax.cu — launchers for the channel softmax family, argmax over channels, sigmoid.
#include "kernels/cuda/kernels.h"

#include "kernels/cpu/softmax.h"  // channel_layout (host-only shape helper)
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/softmax.cuh"

namespace fcnlab::kernels::cuda {

namespace {
constexpr unsigned kThreads = kSoftmaxThreads;  // the kernels' __launch_bounds__
using cpu::ChannelLayout;
using cpu::channel_layout;

template <bool LOG>
void softmax_any(const Tensor& x, Tensor& y, const char* name) {
  const ChannelLayout l = channel_layout(x);
  if (l.channels == 0 || l.outer * l.inner == 0) return;
  dispatch_floating(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED((softmax_forward_kernel<T, LOG>), blocks_for(l.outer * l.inner, kThreads), kThreads, 0,
                          x.data<T>(), l.outer, l.channels, l.inner, y.data<T>());
  });
}

template <bool LOG>
void softmax_any_backward(const Tensor& y, const Tensor& dy, Tensor& dx, const char* name) {
  const ChannelLayout l = channel_layout(y);
  if (l.channels == 0 || l.outer * l.inner == 0) return;
  dispatch_floating(y.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED((softmax_backward_kernel<T, LOG>), blocks_for(l.outer * l.inner, kThreads), kThreads, 0,
                          y.data<T>(), dy.data<T>(), l.outer, l.channels, l.inner, dx.data<T>());
  });
}
}  // namespace

void softmax_forward(const Tensor& x, Tensor& y) { softmax_any<false>(x, y, "softmax"); }
void log_softmax_forward(const Tensor& x, Tensor& y) { softmax_any<true>(x, y, "log_softmax"); }
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  softmax_any_backward<false>(y, dy, dx, "softmax_backward");
}
void log_softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  softmax_any_backward<true>(y, dy, dx, "log_softmax_backward");
}

void select_channel_forward(const Tensor& x, int64_t c, Tensor& y) {
  const ChannelLayout l = channel_layout(x);
  if (y.numel() == 0) return;
  dispatch_floating(x.dtype(), "select_channel", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(select_channel_forward_kernel<T>, blocks_for(y.numel(), kThreads), kThreads, 0,
                          x.data<T>(), l.outer, l.channels, l.inner, c, y.data<T>());
  });
}

void select_channel_backward(const Tensor& dy, int64_t c, Tensor& dx) {
  const ChannelLayout l = channel_layout(dx);
  if (dx.numel() == 0) return;
  dispatch_floating(dx.dtype(), "select_channel_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(select_channel_backward_kernel<T>, blocks_for(dx.numel(), kThreads), kThreads, 0,
                          dy.data<T>(), l.outer, l.channels, l.inner, c, dx.data<T>());
  });
}

void argmax_channels(const Tensor& x, Tensor& out) {
  const ChannelLayout l = channel_layout(x);
  if (out.numel() == 0 || l.channels == 0) return;
  dispatch_floating(x.dtype(), "argmax_channels", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(argmax_channels_kernel<T>, blocks_for(out.numel(), kThreads), kThreads, 0, x.data<T>(),
                          l.outer, l.channels, l.inner, out.data<int32_t>());
  });
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  if (x.numel() == 0) return;
  dispatch_floating(x.dtype(), "sigmoid", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(sigmoid_forward_kernel<T>, blocks_for(x.numel(), kThreads), kThreads, 0, x.data<T>(),
                          y.data<T>(), x.numel());
  });
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (y.numel() == 0) return;
  dispatch_floating(y.dtype(), "sigmoid_backward", [&](auto tag) {
    using T = decltype(tag);
    FCNLAB_LAUNCH_CHECKED(sigmoid_backward_kernel<T>, blocks_for(y.numel(), kThreads), kThreads, 0, y.data<T>(),
                          dy.data<T>(), dx.data<T>(), y.numel());
  });
}

}  // namespace fcnlab::kernels::cuda
