// optim/clip.cpp — total gradient norm and in-place rescaling through the dispatcher.
#include "engine/optim/clip.h"

#include <cmath>

#include "engine/dispatch.h"
#if defined(FCNLAB_WITH_CUDA_KERNELS)
#include "kernels/cuda/kernels.h"
#endif
#include "engine/ops/elementwise.h"
#include "kernels/cpu/elementwise.h"

namespace fcnlab {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  FCNLAB_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be > 0, got ", max_norm);
  double total = 0.0;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) total += sum_of_squares(g);
  }
  const double norm = std::sqrt(total);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  const double c = max_norm / (norm + 1e-6);
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) FCNLAB_DISPATCH(g.device(), scale_shift, g, c, 0.0, g);
  }
  return norm;
}

double clip_grad_norm(const std::vector<ParamInfo>& params, double max_norm) {
  std::vector<Tensor> ts;
  ts.reserve(params.size());
  for (const auto& p : params) ts.push_back(p.tensor);
  return clip_grad_norm(ts, max_norm);
}

}  // namespace fcnlab
