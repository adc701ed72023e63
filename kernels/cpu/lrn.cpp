// cpu/lrn.cpp — LRN across channels, one (n, c) output plane per loop iteration (OpenMP);
// each plane sums its window of input planes into a double buffer.
#include "kernels/cpu/lrn.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fcnlab::kernels::cpu {

void lrn_forward(const Tensor& x, int local_size, double alpha, double beta, double k, Tensor& y,
                 Tensor& scale) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  const int64_t pre = (local_size - 1) / 2;
  const double a_over_n = alpha / local_size;
  dispatch_floating(x.dtype(), "lrn", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    T* ps = scale.data<T>();
#pragma omp parallel
    {
      std::vector<double> acc(static_cast<size_t>(HW));
#pragma omp for schedule(static)
      for (int64_t nc = 0; nc < N * C; ++nc) {
        const int64_t n = nc / C, c = nc % C;
        const int64_t c0 = std::max<int64_t>(c - pre, 0);
        const int64_t c1 = std::min<int64_t>(c - pre + local_size, C);  // exclusive
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t cc = c0; cc < c1; ++cc) {
          const T* xc = px + (n * C + cc) * HW;
          for (int64_t i = 0; i < HW; ++i) acc[i] += static_cast<double>(xc[i]) * xc[i];
        }
        const T* xp = px + nc * HW;
        T* yp = py + nc * HW;
        T* sp = ps + nc * HW;
        for (int64_t i = 0; i < HW; ++i) {
          const double s = k + a_over_n * acc[i];
          sp[i] = static_cast<T>(s);
          yp[i] = static_cast<T>(xp[i] * std::pow(s, -beta));
        }
      }
    }
  });
}

void lrn_backward(const Tensor& x, const Tensor& scale, const Tensor& dy, int local_size,
                  double alpha, double beta, Tensor& dx) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  const int64_t pre = (local_size - 1) / 2;
  const double coeff = 2.0 * alpha * beta / local_size;
  dispatch_floating(x.dtype(), "lrn_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* ps = scale.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.data<T>();
    // ratio = dy * x * scale^(-beta-1): each output's share, summed below over reverse windows.
    std::vector<double> ratio(static_cast<size_t>(x.numel()));
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < x.numel(); ++i)
      ratio[i] = static_cast<double>(pg[i]) * px[i] * std::pow(static_cast<double>(ps[i]), -beta - 1.0);
#pragma omp parallel
    {
      std::vector<double> acc(static_cast<size_t>(HW));
#pragma omp for schedule(static)
      for (int64_t nc = 0; nc < N * C; ++nc) {
        const int64_t n = nc / C, c = nc % C;
        const int64_t c0 = std::max<int64_t>(c + pre - local_size + 1, 0);
        const int64_t c1 = std::min<int64_t>(c + pre + 1, C);  // exclusive
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t cc = c0; cc < c1; ++cc) {
          const double* rc = ratio.data() + (n * C + cc) * HW;
          for (int64_t i = 0; i < HW; ++i) acc[i] += rc[i];
        }
        const T* xp = px + nc * HW;
        const T* sp = ps + nc * HW;
        const T* gp = pg + nc * HW;
        T* dp = pd + nc * HW;
        for (int64_t i = 0; i < HW; ++i)
          dp[i] = static_cast<T>(gp[i] * std::pow(static_cast<double>(sp[i]), -beta) -
                                 coeff * xp[i] * acc[i]);
      }
    }
  });
}

}  // namespace fcnlab::kernels::cpu
