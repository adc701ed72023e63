// cpu/conv2d.cpp — convolution lowered onto GEMM, one (image, group) at a time:
//   forward          y_g (Kg x PQ)   = w_g (Kg x CgRS) * col(x_g) (CgRS x PQ)   [+ b_g per row]
//   backward data    dx_g            = col2im( w_g^T (CgRS x Kg) * dy_g (Kg x PQ) )
//   backward weight  dw_g (Kg x CgRS) += dy_g (Kg x PQ) * col(x_g)^T (PQ x CgRS)
// In f32 the forward and weight-gradient GEMMs pack col (or col^T) blocks straight from x.
// Materialized column matrices are built a chunk of output columns at a time, so that one
// chunk stays under the column budget, 64 MiB (VGG's conv1_2 at 500x500 with pad 100 would
// need 1.1 GB at once).
#include "kernels/cpu/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/im2col.h"

namespace fcnlab::kernels::cpu {

namespace {

std::atomic<int64_t> g_col_budget{int64_t{64} << 20};

// Columns per chunk so that rows x chunk elements of T stay under the column budget.
template <class T>
int64_t col_chunk(int64_t rows, int64_t cols) {
  const int64_t fit = g_col_budget.load() / (static_cast<int64_t>(sizeof(T)) * std::max<int64_t>(rows, 1));
  return std::clamp<int64_t>(fit, 1, std::max<int64_t>(cols, 1));
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

int64_t conv2d_set_col_budget_bytes(int64_t bytes) { return g_col_budget.exchange(bytes); }

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                    const Conv2dOptions& o) {
  const ConvGeom g = make_conv_geom(x.shape(), w.shape(), y.shape(), o);
  const int64_t CRS = g.CRS(), PQ = g.PQ();
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    const T* pb = ptr_or_null<T>(b);
    T* py = y.data<T>();
    if constexpr (std::is_same_v<T, float>) {
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const float* x_g = px + (n * g.C + grp * g.Cg) * g.HW();
          const MatView<float> A{pw + grp * g.Kg * CRS, CRS, 1};
          float* y_g = py + (n * g.K + grp * g.Kg) * PQ;
          const float* b_g = pb ? pb + grp * g.Kg : nullptr;
          if (g.is_pointwise()) {
            sgemm(g.Kg, PQ, CRS, A, MatView<float>{x_g, g.HW(), 1}, 0.0f, y_g, PQ, b_g);
          } else {
            sgemm(g.Kg, PQ, CRS, A, Im2colPackB(g, x_g), 0.0f, y_g, PQ, b_g);
          }
        }
    } else {
      const int64_t chunk = col_chunk<T>(CRS, PQ);
      std::vector<T> col(static_cast<size_t>(CRS * chunk));
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const T* x_g = px + (n * g.C + grp * g.Cg) * g.HW();
          const MatView<T> A{pw + grp * g.Kg * CRS, CRS, 1};
          T* y_g = py + (n * g.K + grp * g.Kg) * PQ;
          for (int64_t n0 = 0; n0 < PQ; n0 += chunk) {
            const int64_t nc = std::min(chunk, PQ - n0);
            im2col(g, x_g, n0, nc, col.data());
            gemm_naive(g.Kg, nc, CRS, A, MatView<T>{col.data(), nc, 1}, T(0), y_g + n0, PQ);
          }
        }
      if (pb) add_channel_bias(y, b);
    }
  });
}

void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dOptions& o) {
  const ConvGeom g = make_conv_geom(dx.shape(), w.shape(), dy.shape(), o);
  const int64_t CRS = g.CRS(), PQ = g.PQ();
  dispatch_floating(dy.dtype(), "conv2d_backward_data", [&](auto tag) {
    using T = decltype(tag);
    const T* pdy = dy.data<T>();
    const T* pw = w.data<T>();
    T* pdx = dx.data<T>();
    if (g.is_pointwise() && g.H == g.P && g.W == g.Q) {  // dx_g = w_g^T * dy_g, no col2im
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t grp = 0; grp < g.groups; ++grp)
          gemm_any(g.Cg, PQ, g.Kg, MatView<T>{pw + grp * g.Kg * CRS, 1, CRS},
                   MatView<T>{pdy + (n * g.K + grp * g.Kg) * PQ, PQ, 1}, T(0),
                   pdx + (n * g.C + grp * g.Cg) * g.HW(), PQ);
      return;
    }
    dx.zero_();
    const int64_t chunk = col_chunk<T>(CRS, PQ);
    std::vector<T> dcol(static_cast<size_t>(CRS * chunk));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const MatView<T> At{pw + grp * g.Kg * CRS, 1, CRS};  // w_g^T: (CgRS x Kg)
        const T* dy_g = pdy + (n * g.K + grp * g.Kg) * PQ;
        T* dx_g = pdx + (n * g.C + grp * g.Cg) * g.HW();
        for (int64_t n0 = 0; n0 < PQ; n0 += chunk) {
          const int64_t nc = std::min(chunk, PQ - n0);
          gemm_any(CRS, nc, g.Kg, At, MatView<T>{dy_g + n0, PQ, 1}, T(0), dcol.data(), nc);
          col2im_add(g, dcol.data(), n0, nc, dx_g);
        }
      }
  });
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, const Conv2dOptions& o) {
  const ConvGeom g = make_conv_geom(x.shape(), dw.shape(), dy.shape(), o);
  const int64_t CRS = g.CRS(), PQ = g.PQ();
  dispatch_floating(x.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdw = dw.data<T>();
    if constexpr (std::is_same_v<T, float>) {  // col^T packed straight from the image
      if (g.N == 0 || PQ == 0) dw.zero_();
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const float* x_g = px + (n * g.C + grp * g.Cg) * g.HW();
          sgemm(g.Kg, CRS, PQ, MatView<float>{pdy + (n * g.K + grp * g.Kg) * PQ, PQ, 1},
                Im2colTransposedPackB(g, x_g), n == 0 ? 0.0f : 1.0f, pdw + grp * g.Kg * CRS, CRS);
        }
      return;
    }
    const bool pointwise = g.is_pointwise();
    const int64_t chunk = pointwise ? PQ : col_chunk<T>(CRS, PQ);
    std::vector<T> col(pointwise ? 0 : static_cast<size_t>(CRS * chunk));
    if (g.N == 0 || PQ == 0) dw.zero_();
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const T* x_g = px + (n * g.C + grp * g.Cg) * g.HW();
        const T* dy_g = pdy + (n * g.K + grp * g.Kg) * PQ;
        T* dw_g = pdw + grp * g.Kg * CRS;
        for (int64_t n0 = 0; n0 < PQ; n0 += chunk) {
          const int64_t nc = std::min(chunk, PQ - n0);
          const T beta = n == 0 && n0 == 0 ? T(0) : T(1);
          MatView<T> Bt{x_g + n0, 1, g.HW()};  // pointwise: col = x_g, col^T(k=pq, j=c)
          if (!pointwise) {
            im2col(g, x_g, n0, nc, col.data());
            Bt = MatView<T>{col.data(), 1, nc};
          }
          gemm_any(g.Kg, CRS, nc, MatView<T>{dy_g + n0, PQ, 1}, Bt, beta, dw_g, CRS);
        }
      }
  });
}

void conv_bias_backward(const Tensor& dy, Tensor& db) {
  const int64_t N = dy.size(0), K = dy.size(1), inner = dy.numel() / std::max<int64_t>(N * K, 1);
  dispatch_floating(dy.dtype(), "conv_bias_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* p = dy.data<T>();
    T* out = db.data<T>();
    for (int64_t k = 0; k < K; ++k) {
      double s = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = p + (n * K + k) * inner;
        for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(row[i]);
      }
      out[k] = static_cast<T>(s);
    }
  });
}

void add_channel_bias(Tensor& y, const Tensor& b) {
  const int64_t N = y.size(0), K = y.size(1), inner = y.numel() / std::max<int64_t>(N * K, 1);
  dispatch_floating(y.dtype(), "add_channel_bias", [&](auto tag) {
    using T = decltype(tag);
    T* p = y.data<T>();
    const T* pb = b.data<T>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        T* row = p + (n * K + k) * inner;
        for (int64_t i = 0; i < inner; ++i) row[i] += pb[k];
      }
  });
}

void conv2d_forward_direct(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                           const Conv2dOptions& o) {
  const ConvGeom g = make_conv_geom(x.shape(), w.shape(), y.shape(), o);
  dispatch_floating(x.dtype(), "conv2d_forward_direct", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    const T* pb = ptr_or_null<T>(b);
    T* py = y.data<T>();
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t k = 0; k < g.K; ++k) {
        const int64_t grp = k / g.Kg;
        for (int64_t p = 0; p < g.P; ++p)
          for (int64_t q = 0; q < g.Q; ++q) {
            double acc = pb ? static_cast<double>(pb[k]) : 0.0;
            for (int64_t c = 0; c < g.Cg; ++c)
              for (int64_t r = 0; r < g.R; ++r)
                for (int64_t s = 0; s < g.S; ++s) {
                  const int64_t ih = p * g.sh - g.ph + r * g.dh, iw = q * g.sw - g.pw + s * g.dw;
                  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                  acc += static_cast<double>(px[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw]) *
                         static_cast<double>(pw[((k * g.Cg + c) * g.R + r) * g.S + s]);
                }
            py[((n * g.K + k) * g.P + p) * g.Q + q] = static_cast<T>(acc);
          }
      }
  });
}

}  // namespace fcnlab::kernels::cpu
