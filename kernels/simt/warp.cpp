// warp.cpp — warp intrinsics as rendezvous of the lanes named in a mask. Each lane posts its
// payload into the warp's pending group for that mask and parks; the last lane to arrive
// computes every lane's result (shuffle source lanes follow PTX shfl.sync, including `width`
// segments and the clamping of up/down/xor) and wakes the others. Checks: the caller is in its
// mask, lanes that meet agree on mask, intrinsic, width and (except __syncwarp) call site,
// no named lane has exited. A source lane outside the group yields all-ones bytes (NaN).
#include <cstdio>
#include <cstring>

#include "kernels/simt/block_state.h"

namespace fcnlab::simt::detail {

namespace {

bool same_site(Site a, Site b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

// The lane whose value `lane` reads (PTX shfl.sync semantics; `lane` itself when clamped).
int source_lane(WarpOp op, int lane, int arg, int width) {
  const int start = lane & ~(width - 1), end = start + width - 1;
  switch (op) {
    case WarpOp::Shfl: return start + (arg & (width - 1));
    case WarpOp::ShflUp: return lane - arg >= start ? lane - arg : lane;
    case WarpOp::ShflDown: return lane + arg <= end ? lane + arg : lane;
    case WarpOp::ShflXor: {
      int j = lane ^ arg;
      return j >= 0 && j <= end ? j : lane;
    }
    default: return lane;
  }
}

// Completes group `gi` of warp `w`: results for every arrived lane, others woken.
uint64_t complete(BlockState& b, unsigned warp, size_t gi, unsigned self_lane) {
  WarpState& w = b.warps[warp];
  WarpGroup g = w.pending[gi];
  w.pending.erase(w.pending.begin() + static_cast<long>(gi));
  ++b.stats->warp_ops;
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((g.arrived >> l & 1u) && g.value[l] != 0) ballot |= 1u << l;
  uint64_t self = 0;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(g.arrived >> l & 1u)) continue;
    uint64_t r = 0;
    switch (g.op) {
      case WarpOp::Ballot: r = ballot; break;
      case WarpOp::Any: r = ballot != 0; break;
      case WarpOp::All: r = ballot == g.arrived; break;
      case WarpOp::SyncWarp: r = 0; break;
      default: {
        int j = source_lane(g.op, static_cast<int>(l), g.arg[l], g.width);
        r = (g.arrived >> j & 1u) ? g.value[static_cast<unsigned>(j)] : ~uint64_t(0);
      }
    }
    if (l == self_lane) {
      self = r;
    } else {
      Fiber& f = b.fibers[warp * 32 + l];
      f.warp_result = r;
      f.state = FiberState::Ready;
    }
  }
  return self;
}

// The lanes of group g still to arrive (exited lanes count as arrived when not strict).
unsigned missing(const WarpState& w, const WarpGroup& g) {
  return g.mask & w.present & ~w.exited & ~g.arrived;
}

}  // namespace

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Shfl: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::SyncWarp: return "__syncwarp";
  }
  return "?";
}

std::string hex(unsigned mask) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", mask);
  return buf;
}

std::string lanes_str(unsigned mask) {
  std::string s = "{";
  for (int l = 0; l < 32;) {
    if (!(mask >> l & 1u)) {
      ++l;
      continue;
    }
    int e = l;
    while (e + 1 < 32 && (mask >> (e + 1) & 1u)) ++e;
    if (s.size() > 1) s += ",";
    s += std::to_string(l);
    if (e > l) {
      s += '-';
      s += std::to_string(e);
    }
    l = e + 1;
  }
  return s + "}";
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, Site site) {
  Fiber& f = current_fiber(op_name(op));
  BlockState& b = *tls_block;
  const unsigned warp = f.linear / 32, lane = f.linear % 32, bit = 1u << lane;
  WarpState& w = b.warps[warp];
  // (built only on failure: this is the hot path)
  auto call = [&] { return std::string(op_name(op)) + "(mask " + hex(mask) + ") at " + str(site); };
  if (!(mask & bit))
    fail(cudaErrorIllegalInstruction,
         "lane " + std::to_string(lane) + " of warp " + std::to_string(warp) + " calls " + call() +
             ", but the mask does not include the calling lane");
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    fail(cudaErrorIllegalInstruction,
         call() + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
  if (b.strict_exit && (mask & w.exited))
    fail(cudaErrorIllegalInstruction, call() + ": the mask names lane(s) " +
                                          lanes_str(mask & w.exited) + " of warp " +
                                          std::to_string(warp) + " that already exited");
  size_t gi = w.pending.size();
  for (size_t i = 0; i < w.pending.size(); ++i) {
    const WarpGroup& g = w.pending[i];
    if (!(g.mask & mask)) continue;
    auto theirs = [&] {
      return std::string(op_name(g.op)) + "(mask " + hex(g.mask) + ") at " + str(g.site) +
             " by lane(s) " + lanes_str(g.arrived);
    };
    if (g.mask != mask)
      fail(cudaErrorIllegalInstruction,
           "lanes of warp " + std::to_string(warp) + " disagree on the mask: lane " +
               std::to_string(lane) + " calls " + call() + " while waiting is " + theirs());
    if (g.op != op || g.width != width || (op != WarpOp::SyncWarp && !same_site(g.site, site)))
      fail(cudaErrorIllegalInstruction,
           "lanes of warp " + std::to_string(warp) + " meet at different warp intrinsics: lane " +
               std::to_string(lane) + " calls " + call() + " (width " + std::to_string(width) +
               ") while waiting is " + theirs() + " (width " + std::to_string(g.width) + ")");
    gi = i;
  }
  if (gi == w.pending.size()) w.pending.push_back(WarpGroup{op, mask, width, site});
  WarpGroup& g = w.pending[gi];
  g.arrived |= bit;
  g.value[lane] = value;
  g.arg[lane] = arg;
  if (missing(w, g) == 0) {
    // The last lane completes the group, then yields too: after a warp intrinsic every lane
    // resumes in schedule order (the others of this round run first).
    f.warp_result = complete(b, warp, gi, lane);
    f.state = FiberState::Ready;
  } else {
    f.state = FiberState::AtWarp;
  }
  yield_to_scheduler(f);
  return f.warp_result;
}

unsigned active_mask() {
  Fiber& f = current_fiber("__activemask");
  const WarpState& w = tls_block->warps[f.linear / 32];
  return w.present & ~w.exited;
}

void warp_thread_exit(Fiber& f) {
  BlockState& b = *tls_block;
  const unsigned warp = f.linear / 32, lane = f.linear % 32, bit = 1u << lane;
  WarpState& w = b.warps[warp];
  for (const WarpGroup& g : w.pending) {
    if ((g.mask & bit) && b.strict_exit)
      fail(cudaErrorIllegalInstruction,
           "thread exited while lane(s) " + lanes_str(g.arrived) + " of warp " +
               std::to_string(warp) + " wait for lane " + std::to_string(lane) + " in " +
               op_name(g.op) + "(mask " + hex(g.mask) + ") at " + str(g.site),
           &f);
  }
  w.exited |= bit;
  for (size_t i = 0; i < w.pending.size();) {
    if (missing(w, w.pending[i]) == 0) {
      complete(b, warp, i, 32);  // no calling lane: everyone is woken
    } else {
      ++i;
    }
  }
}

std::string describe_stuck_warp(const BlockState& b) {
  for (size_t wi = 0; wi < b.warps.size(); ++wi) {
    const WarpState& w = b.warps[wi];
    if (w.pending.empty()) continue;
    const WarpGroup& g = w.pending.front();
    const unsigned miss = missing(w, g);
    std::string s = "lane(s) " + lanes_str(g.arrived) + " of warp " + std::to_string(wi) +
                    " wait in " + op_name(g.op) + "(mask " + hex(g.mask) + ") at " + str(g.site) +
                    " for lane(s) " + lanes_str(miss);
    for (unsigned l = 0; l < 32; ++l) {
      if (!(miss >> l & 1u)) continue;
      const Fiber& f = b.fibers[wi * 32 + l];
      if (f.state == FiberState::AtBarrier) {
        s += "; lane " + std::to_string(l) + " (thread " + str(f.tid) + ") waits at a block barrier at " +
             str(f.site);
      } else if (f.state == FiberState::AtWarp) {
        for (const WarpGroup& o : w.pending)
          if (o.arrived >> l & 1u)
            s += "; lane " + std::to_string(l) + " waits in " + op_name(o.op) + "(mask " +
                 hex(o.mask) + ") at " + str(o.site);
      }
      break;
    }
    return s;
  }
  return "no runnable thread";
}

}  // namespace fcnlab::simt::detail
