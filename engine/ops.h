// ops.h — every differentiable op of fcnlab, by family. Each family is one header in
// engine/ops/ (checks, dispatch, backward rule) over kernels/cpu (reference) and
// kernels/cuda (hand-written).
#pragma once
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/pool.h"
