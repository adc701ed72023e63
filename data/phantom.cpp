// phantom.cpp — renders one synthetic chest radiograph and its pneumothorax mask.
// Geometry is in relative units (x, y in [0, 1], y down); a lung is described by its distance
// from the body midline d = side * (x - cx) at relative height t between apex and base.
// Intensities are in 8-bit grey levels, summed from layers (body, mediastinum, lungs, ribs,
// vessels, pneumothorax, noise) and clamped at the end.
#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

#include "data/phantom.h"
#include "engine/error.h"
#include "engine/rng.h"

namespace fcnlab::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }
double smoothstep(double e0, double e1, double v) {
  double t = clamp01((v - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
}

// Sequential draws from one Philox stream.
struct Rand {
  uint64_t key;
  uint64_t n = 0;
  double u() { return philox_uniform(key, n++); }
  double range(double a, double b) { return a + (b - a) * u(); }
  double normal() {
    double u1 = std::max(u(), 1e-7), u2 = u();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
};

struct Lung {
  int side = -1;       // -1: image-left (patient's right), +1: image-right
  double cx = 0.5;     // body midline
  double yt = 0.17, yb = 0.78;  // apex, lateral costophrenic angle
  double d0 = 0.06;    // medial edge distance from the midline
  double W = 0.28;     // greatest width
  double heart = 0.0;  // medial push by the heart near the base
  double dome = 0.05;  // diaphragm dome height

  double t_of(double y) const { return (y - yt) / (yb - yt); }
  double half(double t) const {
    double a = clamp01(t / 0.38);
    return 0.5 * W * std::sqrt(a * (2 - a)) * (0.9 + 0.1 * t);
  }
  double inner(double t) const {
    return std::max(d0 + 0.5 * W - half(t), d0 + heart * smoothstep(0.45, 0.95, t));
  }
  double outer(double t) const { return d0 + 0.5 * W + half(t) + 0.02 * t; }
  double bottom(double d) const {
    double u = (d - d0) / W;
    return yb - dome * clamp01(1 - (u - 0.35) * (u - 0.35) / 0.42);
  }
  // Approximate signed distance (positive inside) of (x, y).
  double sd(double x, double y) const {
    double t = clamp01(t_of(y));
    return sd_row(x, y, inner(t), outer(t));
  }
  // The same with inner(t) and outer(t) of the row precomputed.
  double sd_row(double x, double y, double in, double out) const {
    double d = side * (x - cx);
    double s = std::min(d - in, out - d);
    s = std::min(s, bottom(d) - y);
    return std::min(s, y - yt);
  }
};

// Pneumothorax: a crescent of depth(t) measured inward from the lung's outer edge.
struct Ptx {
  int side = 0;
  double t0 = 0, t1 = 0, D = 0;
  bool apical = false;
  double depth(double t) const {
    if (side == 0 || t < t0 || t > t1) return 0.0;
    double r = (t - t0) / (t1 - t0);
    double shape = apical ? std::cos(0.5 * kPi * r) : std::sin(kPi * r);
    return D * std::pow(std::max(shape, 0.0), 0.6);
  }
  // Inside the crescent (and inside the lung) at (x, y)?
  bool contains(const Lung& l, double x, double y) const {
    if (l.sd(x, y) <= 0) return false;
    double t = clamp01(l.t_of(y));
    return l.outer(t) - l.side * (x - l.cx) < depth(t);
  }
};

double area_fraction(const Lung& l, const Ptx& p, int grid) {
  int n = 0;
  for (int j = 0; j < grid; ++j)
    for (int i = 0; i < grid; ++i) n += p.contains(l, (i + 0.5) / grid, (j + 0.5) / grid);
  return double(n) / (double(grid) * grid);
}

double seg_dist2(double px, double py, double ax, double ay, double bx, double by) {
  double vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
  double L = vx * vx + vy * vy;
  double h = L > 0 ? std::clamp((wx * vx + wy * vy) / L, 0.0, 1.0) : 0.0;
  double dx = wx - h * vx, dy = wy - h * vy;
  return dx * dx + dy * dy;
}

// Vessel trees grown from the hilum; drawn (max-combined) into buf, in pixel units.
void draw_vessels(const Lung& l, Rand& r, int S, std::vector<float>& buf) {
  struct Branch {
    double x, y, angle, width, amp;
    int level;
  };
  std::deque<Branch> queue;  // breadth first, so every primary branch gets drawn
  double hx = l.cx + l.side * (l.d0 + r.range(0.2, 0.3) * l.W),
         hy = l.yt + (l.yb - l.yt) * r.range(0.42, 0.52);
  const int primaries = 10;
  for (int k = 0; k < primaries; ++k) {
    double a = (-150 + 300.0 * (k + r.range(0.2, 0.8)) / primaries) * kPi / 180;
    queue.push_back({hx, hy, a, 0.0075, r.range(18, 26), 0});
  }
  int segments = 0;
  while (!queue.empty() && segments < 1500) {
    Branch b = queue.front();
    queue.pop_front();
    for (int step = 0; step < 14 && segments < 1500; ++step) {
      double len = 0.032 * std::pow(0.88, b.level) * r.range(0.7, 1.2);
      // angle 0 points laterally, negative up
      double nx = b.x + l.side * std::cos(b.angle) * len, ny = b.y + std::sin(b.angle) * len;
      if (l.sd(nx, ny) < 0.004) break;
      // splat the segment
      double sigma = std::max(0.55, b.width * S * 0.5);
      double reach = 3 * sigma;
      int x0 = std::max(0, int(std::floor(std::min(b.x, nx) * S - reach)));
      int x1 = std::min(S - 1, int(std::ceil(std::max(b.x, nx) * S + reach)));
      int y0 = std::max(0, int(std::floor(std::min(b.y, ny) * S - reach)));
      int y1 = std::min(S - 1, int(std::ceil(std::max(b.y, ny) * S + reach)));
      double inv = 1.0 / (2 * sigma * sigma);
      for (int yy = y0; yy <= y1; ++yy)
        for (int xx = x0; xx <= x1; ++xx) {
          double d2 = seg_dist2(xx + 0.5, yy + 0.5, b.x * S, b.y * S, nx * S, ny * S);
          if (d2 > reach * reach) continue;
          float v = float(b.amp * std::exp(-d2 * inv));
          float& dst = buf[size_t(yy) * S + xx];
          dst = std::max(dst, v);
        }
      ++segments;
      if (b.level < 8 && r.u() < 0.6) {
        double turn = r.range(18, 38) * kPi / 180 * (r.u() < 0.5 ? -1 : 1);
        queue.push_back({nx, ny, b.angle + turn, b.width * 0.8, b.amp * 0.85, b.level + 1});
      }
      b.x = nx;
      b.y = ny;
      b.angle += r.range(-14, 14) * kPi / 180;
      b.width *= 0.94;
      b.amp *= 0.95;
      b.level += (step % 3 == 2);
    }
  }
}

}  // namespace

Phantom render_phantom(int S, bool positive, uint64_t seed, uint64_t key, double contrast) {
  FCNLAB_CHECK(S >= 32 && S <= 8192, "render_phantom: size must be in [32, 8192], got ", S);
  FCNLAB_CHECK(contrast >= kPhantomContrastMin && contrast <= kPhantomContrastMax,
               "render_phantom: contrast must be in [", kPhantomContrastMin, ", ",
               kPhantomContrastMax, "], got ", contrast);
  Philox4 k4 = philox4x32_10(seed, key, 0x5048414E544F4DULL);  // "PHANTOM"
  Rand r{(uint64_t(k4.v[1]) << 32) | k4.v[0]};
  const uint64_t noise_key = (uint64_t(k4.v[3]) << 32) | k4.v[2];

  // ---- anatomy of this case
  const double cx = 0.5 + 0.015 * r.normal();
  const double yt = r.range(0.15, 0.20), yb = r.range(0.74, 0.82);
  const double W = r.range(0.25, 0.30);
  Lung lr, ll;  // image-left and image-right lungs
  lr.side = -1; lr.cx = cx; lr.yt = yt + r.range(-0.01, 0.01); lr.yb = yb - 0.01;
  lr.d0 = r.range(0.05, 0.07); lr.W = W; lr.dome = r.range(0.04, 0.07); lr.heart = 0.0;
  ll.side = +1; ll.cx = cx; ll.yt = yt + r.range(0.0, 0.02); ll.yb = yb + r.range(0.0, 0.02);
  ll.d0 = r.range(0.055, 0.075); ll.W = W * r.range(0.88, 0.97); ll.dome = r.range(0.03, 0.05);
  ll.heart = r.range(0.06, 0.10);
  const Lung* lungs[2] = {&lr, &ll};
  const double hx = cx + r.range(0.07, 0.10), hy = r.range(0.62, 0.68);
  const double hrx = r.range(0.11, 0.14), hry = r.range(0.09, 0.12);
  const double T = r.range(120, 150), L = r.range(55, 75), M = r.range(30, 45),
               H = r.range(12, 22), R = r.range(10, 17), V = r.range(0.8, 1.2);
  const double rib0 = r.range(0.12, 0.16), rib_sp = r.range(0.058, 0.066);
  const double noise_sigma = r.range(2.5, 5.0), gamma = r.range(0.85, 1.15);
  const double e = 0.005;  // soft edge half-width

  // ---- pneumothorax (positives) and a skin fold (some cases, either label)
  Ptx ptx;
  double ptx_dark = 0, pleura_amp = 0;
  if (positive) {
    ptx.side = r.u() < 0.5 ? -1 : 1;
    const Lung& pl = ptx.side < 0 ? lr : ll;
    ptx.apical = r.u() < 0.35;
    ptx.t0 = ptx.apical ? 0.0 : r.range(0.05, 0.55);
    ptx.t1 = std::min(1.0, ptx.t0 + r.range(0.25, 0.6));
    double target = std::exp(r.range(std::log(0.002), std::log(0.05)));
    target = std::max(target, 6.0 / (double(S) * S));
    double lo = 0, hi = pl.W;
    ptx.D = hi;
    if (area_fraction(pl, ptx, 64) > target) {
      for (int it = 0; it < 11; ++it) {
        ptx.D = 0.5 * (lo + hi);
        (area_fraction(pl, ptx, 64) < target ? lo : hi) = ptx.D;
      }
      ptx.D = 0.5 * (lo + hi);
    }
    ptx_dark = contrast * r.range(1, 5);
    pleura_amp = contrast * r.range(5, 12);
  }
  const bool fold = r.u() < 0.3;
  const Lung& fl = r.u() < 0.5 ? lr : ll;
  const double fold_in = r.range(0.02, 0.06), fold_ta = r.range(0.1, 0.5),
               fold_tb = fold_ta + r.range(0.2, 0.45), fold_amp = r.range(4, 9);

  std::vector<float> vessels(size_t(S) * S, 0.0f);
  draw_vessels(lr, r, S, vessels);
  draw_vessels(ll, r, S, vessels);

  Phantom out;
  out.positive = positive;
  out.side = ptx.side;
  out.image = GrayImage(S, S);
  out.mask = GrayImage(S, S);
  const double line_sigma = std::max(0.0018, 0.6 / S);
  int mask_pixels = 0;

  // display gamma as a table over 1/16 grey levels
  std::vector<uint8_t> gamma_lut(256 * 16 + 1);
  for (size_t k = 0; k < gamma_lut.size(); ++k)
    gamma_lut[k] = uint8_t(std::lround(255.0 * std::pow(double(k) / (256 * 16), gamma)));
  const Lung& pl = ptx.side < 0 ? lr : ll;  // the pneumothorax lung (if any)

  for (int j = 0; j < S; ++j) {
    const double y = (j + 0.5) / S;
    // per-row lung extents
    double in[2], outr[2];
    for (int s = 0; s < 2; ++s) {
      double t = clamp01(lungs[s]->t_of(y));
      in[s] = lungs[s]->inner(t);
      outr[s] = lungs[s]->outer(t);
    }
    const double pt = clamp01(pl.t_of(y));
    const double dep = ptx.depth(pt);
    const double p_out = pl.outer(pt), p_in = pl.inner(pt);
    const double ft = fl.t_of(y);
    const double f_out = fl.outer(clamp01(ft));
    // body outline: neck, shoulders, chest wall
    const double bw = 0.09 + 0.37 * smoothstep(0.06, 0.2, y) - 0.03 * y;
    for (int i = 0; i < S; ++i) {
      const double x = (i + 0.5) / S;
      const double ad = std::fabs(x - cx);
      const double body = smoothstep(-e, e, bw - ad);
      const double thick = std::sqrt(std::max(0.0, 1 - (ad / bw) * (ad / bw)));
      double v = 8 + T * (0.55 + 0.45 * thick) * body;
      // spine / mediastinum and heart
      v += M * smoothstep(-e, e, 0.045 - ad) * body;
      const double hxr = (x - hx) / hrx, hyr = (y - hy) / hry;
      const double hr = std::sqrt(hxr * hxr + hyr * hyr);
      const double heart = smoothstep(1.06, 0.94, hr);
      v += H * heart;
      // lungs
      double lung_w = 0;
      for (int s = 0; s < 2; ++s)
        lung_w += smoothstep(-e, e, lungs[s]->sd_row(x, y, in[s], outr[s]));
      v -= L * lung_w * (1 - 0.7 * heart);
      // ribs (posterior, arched; anterior, fainter, sloping) and clavicles
      const double d = ad;
      if (d > 0.025 && d < bw) {
        double rib = 0;
        for (int k = 0; k < 10; ++k) {
          double yk = rib0 + k * rib_sp + 1.6 * (d - 0.15) * (d - 0.15);
          double q = std::fabs(y - yk) / 0.014;
          if (q < 1) rib += (0.6 + 0.4 * q * q) * smoothstep(1.0, 0.75, q);
          double ya = rib0 + 0.03 + k * rib_sp + 0.3 * (0.32 - d);
          double qa = std::fabs(y - ya) / 0.012;
          if (qa < 1 && d > 0.06 && d < 0.34) rib += 0.35 * smoothstep(1.0, 0.6, qa);
        }
        v += R * rib * body;
        double cl = std::sqrt(seg_dist2(d, y, 0.03, 0.21, 0.30, 0.135)) / 0.011;
        if (cl < 1) v += 22 * smoothstep(1.0, 0.6, cl) * body;
      }
      // vessels, removed inside the pneumothorax
      double ptx_w = 0;
      if (dep > 0) {
        const double inward = p_out - ptx.side * (x - cx);  // from the outer edge
        const double psd = pl.sd_row(x, y, p_in, p_out);
        if (psd > -e) {
          const double lw = smoothstep(-e, e, psd);
          ptx_w = lw * smoothstep(-0.6 / S, 0.6 / S, dep - inward);
          const double g = (inward - dep) / line_sigma;
          if (std::fabs(g) < 5) v += pleura_amp * std::exp(-0.5 * g * g) * lw;
          if (psd > 0 && inward < dep) {  // == ptx.contains(pl, x, y)
            out.mask.at(j, i) = 255;
            ++mask_pixels;
          }
        }
      }
      v += V * vessels[size_t(j) * S + i] * lung_w * (1 - ptx_w);
      v -= ptx_dark * ptx_w;
      if (fold && ft > fold_ta && ft < fold_tb) {
        const double inward = f_out - fl.side * (x - cx);
        const double g = (inward - fold_in) / line_sigma;
        if (std::fabs(g) < 5)
          v += fold_amp * std::exp(-0.5 * g * g) * smoothstep(fold_ta, fold_ta + 0.05, ft) *
               smoothstep(fold_tb, fold_tb - 0.05, ft) * body;
      }
      vessels[size_t(j) * S + i] = float(v);  // reuse the buffer for the noiseless image
    }
  }
  // noise (4 normals per Philox block) and the display gamma
  for (size_t p = 0; p < vessels.size(); p += 4) {
    Philox4 b = philox4x32_10(noise_key, p / 4);
    double u[4];
    for (int k = 0; k < 4; ++k) u[k] = ((b.v[k] >> 8) + 0.5) * (1.0 / 16777216.0);
    double n[4];
    double r0 = std::sqrt(-2 * std::log(u[0])), r1 = std::sqrt(-2 * std::log(u[2]));
    n[0] = r0 * std::cos(2 * kPi * u[1]);
    n[1] = r0 * std::sin(2 * kPi * u[1]);
    n[2] = r1 * std::cos(2 * kPi * u[3]);
    n[3] = r1 * std::sin(2 * kPi * u[3]);
    for (size_t k = 0; k < 4 && p + k < vessels.size(); ++k) {
      double v = std::clamp((vessels[p + k] + noise_sigma * n[k]) / 255.0, 0.0, 1.0);
      out.image.pixels[p + k] = gamma_lut[size_t(v * (256 * 16) + 0.5)];
    }
  }
  FCNLAB_CHECK(!positive || mask_pixels > 0, "render_phantom: empty pneumothorax mask at size ",
               S, " (seed ", seed, ", key ", key, ")");
  return out;
}

}  // namespace fcnlab::data
