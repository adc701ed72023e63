// optim/clip.h — gradient-norm clipping (torch.nn.utils.clip_grad_norm_ semantics).
#pragma once
#include <vector>

#include "engine/nn/module.h"

namespace fcnlab {

// The L2 norm of all gradients together, sqrt(sum_p sum_i g_pi^2) (accumulated in double).
// If it exceeds max_norm, every gradient is scaled in place by max_norm / (norm + 1e-6).
// Parameters without a gradient are skipped. A non-finite norm is returned as is and the
// gradients are left alone, so the caller can skip the step. Returns the norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
double clip_grad_norm(const std::vector<ParamInfo>& params, double max_norm);

}  // namespace fcnlab
