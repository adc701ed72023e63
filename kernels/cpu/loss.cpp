// cpu/loss.cpp — cross-entropy, soft Dice and BCE-with-logits reference kernels.
// Per-element math in double; sums accumulate in double.
#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/softmax.h"

namespace fcnlab::kernels::cpu {

std::string target_position(const Shape& s, int64_t flat) {
  static const char* names3[] = {"n", "h", "w"};
  std::vector<int64_t> idx(static_cast<size_t>(s.ndim()));
  for (int d = s.ndim() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = flat % s[d];
    flat /= s[d];
  }
  std::string r = "(";
  for (int d = 0; d < s.ndim(); ++d) {
    if (d) r += ", ";
    if (s.ndim() <= 3) {
      r += names3[d == 0 ? 0 : d + 3 - s.ndim()];
    } else {
      r += 'd';
      r += std::to_string(d);
    }
    r += '=';
    r += std::to_string(idx[static_cast<size_t>(d)]);
  }
  return r + ")";
}

namespace {

// log(sum_c exp(x_c)) of one pixel's channel column, stable (max subtracted).
template <class T>
double log_sum_exp(const T* x, int64_t C, int64_t stride) {
  double m = static_cast<double>(x[0]);
  for (int64_t c = 1; c < C; ++c) m = std::max(m, static_cast<double>(x[c * stride]));
  double z = 0.0;
  for (int64_t c = 0; c < C; ++c) z += std::exp(static_cast<double>(x[c * stride]) - m);
  return m + std::log(z);
}

double softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace

void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int ignore_index, Tensor& stats) {
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(logits);
    const T* px = logits.data<T>();
    const int32_t* pt = target.data<int32_t>();
    const T* pw = weight.data<T>();
    const int64_t C = l.channels, s = l.inner;
    double total = 0.0, weight_sum = 0.0;
    for (int64_t n = 0; n < l.outer; ++n)
      for (int64_t i = 0; i < s; ++i) {
        const int64_t p = n * s + i;  // flat index into target
        const int32_t t = pt[p];
        if (t == ignore_index) continue;
        FCNLAB_CHECK(t >= 0 && t < C, "cross_entropy: target value ", t, " at ",
                     target_position(target.shape(), p), " is outside the classes [0, ", C,
                     ") and is not ignore_index (", ignore_index, ")");
        const T* xc = px + n * C * s + i;
        const double nll = log_sum_exp(xc, C, s) - static_cast<double>(xc[t * s]);
        const double w = static_cast<double>(pw[t]);
        total += w * nll;
        weight_sum += w;
      }
    double* ps = stats.data<double>();
    ps[0] = total;
    ps[1] = weight_sum;
  });
}

void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int ignore_index, double scale, Tensor& dlogits) {
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = decltype(tag);
    const ChannelLayout l = channel_layout(logits);
    const T* px = logits.data<T>();
    const int32_t* pt = target.data<int32_t>();
    const T* pw = weight.data<T>();
    T* pd = dlogits.data<T>();
    const int64_t C = l.channels, s = l.inner;
    for (int64_t n = 0; n < l.outer; ++n)
      for (int64_t i = 0; i < s; ++i) {
        const int32_t t = pt[n * s + i];
        const T* xc = px + n * C * s + i;
        T* dc = pd + n * C * s + i;
        if (t == ignore_index) {
          for (int64_t c = 0; c < C; ++c) dc[c * s] = T(0);
          continue;
        }
        // The forward already rejected targets outside [0, C).
        const double lse = log_sum_exp(xc, C, s);
        const double k = scale * static_cast<double>(pw[t]);
        for (int64_t c = 0; c < C; ++c) {
          const double prob = std::exp(static_cast<double>(xc[c * s]) - lse);
          dc[c * s] = static_cast<T>(k * (prob - (c == t ? 1.0 : 0.0)));
        }
      }
  });
}

void dice_forward(const Tensor& prob, const Tensor& target, double smooth, Tensor& stats, Tensor& loss) {
  dispatch_floating(prob.dtype(), "dice_loss", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = prob.data<T>();
    const T* pt = target.data<T>();
    double* ps = stats.data<double>();
    const int64_t G = stats.size(0), M = G ? prob.numel() / G : 0;
    double dice_sum = 0.0;
    for (int64_t g = 0; g < G; ++g) {
      double inter = 0.0, sp = 0.0, st = 0.0;
      for (int64_t i = g * M; i < (g + 1) * M; ++i) {
        const double p = pp[i], t = pt[i];
        inter += p * t;
        sp += p;
        st += t;
      }
      ps[g * 3 + 0] = inter;
      ps[g * 3 + 1] = sp;
      ps[g * 3 + 2] = st;
      const double num = 2.0 * inter + smooth, den = sp + st + smooth;
      dice_sum += den > 0 ? num / den : 1.0;  // both empty with smooth 0: perfect agreement
    }
    loss.data<T>()[0] = static_cast<T>(1.0 - dice_sum / static_cast<double>(G));
  });
}

void dice_backward(const Tensor& prob, const Tensor& target, const Tensor& stats, double smooth,
                   double scale, Tensor& dprob, Tensor& dtarget) {
  dispatch_floating(prob.dtype(), "dice_loss_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = prob.data<T>();
    const T* pt = target.data<T>();
    const double* ps = stats.data<double>();
    T* dp = dprob.defined() ? dprob.data<T>() : nullptr;
    T* dt = dtarget.defined() ? dtarget.data<T>() : nullptr;
    const int64_t G = stats.size(0), M = G ? prob.numel() / G : 0;
    for (int64_t g = 0; g < G; ++g) {
      const double num = 2.0 * ps[g * 3 + 0] + smooth;
      const double den = ps[g * 3 + 1] + ps[g * 3 + 2] + smooth;
      // D = num / den: dD/dp_i = 2 t_i / den - num / den^2.
      const double a = den > 0 ? scale * 2.0 / den : 0.0;
      const double b = den > 0 ? scale * num / (den * den) : 0.0;
      for (int64_t i = g * M; i < (g + 1) * M; ++i) {
        if (dp) dp[i] = static_cast<T>(a * static_cast<double>(pt[i]) - b);
        if (dt) dt[i] = static_cast<T>(a * static_cast<double>(pp[i]) - b);
      }
    }
  });
}

void bce_with_logits_forward(const Tensor& logits, const Tensor& target, double pos_weight,
                             Tensor& stats) {
  dispatch_floating(logits.dtype(), "bce_with_logits", [&](auto tag) {
    using T = decltype(tag);
    const T* px = logits.data<T>();
    const T* pt = target.data<T>();
    double total = 0.0;
    for (int64_t i = 0, n = logits.numel(); i < n; ++i) {
      const double x = px[i], t = pt[i];
      // Only softplus of -x appears, never log(sigmoid): finite for x = +-1000.
      total += (1.0 - t) * x + (1.0 + (pos_weight - 1.0) * t) * softplus(-x);
    }
    stats.data<double>()[0] = total;
  });
}

void bce_with_logits_backward(const Tensor& logits, const Tensor& target, double pos_weight,
                              double scale, Tensor& dlogits, Tensor& dtarget) {
  dispatch_floating(logits.dtype(), "bce_with_logits_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* px = logits.data<T>();
    const T* pt = target.data<T>();
    T* dx = dlogits.defined() ? dlogits.data<T>() : nullptr;
    T* dt = dtarget.defined() ? dtarget.data<T>() : nullptr;
    for (int64_t i = 0, n = logits.numel(); i < n; ++i) {
      const double x = px[i], t = pt[i];
      if (dx) {
        const double sg = sigmoid(x);
        dx[i] = static_cast<T>(scale * ((1.0 - t) * sg - pos_weight * t * (1.0 - sg)));
      }
      if (dt) dt[i] = static_cast<T>(scale * ((pos_weight - 1.0) * softplus(-x) - x));
    }
  });
}

}  // namespace fcnlab::kernels::cpu
