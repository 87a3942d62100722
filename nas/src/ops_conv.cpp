// Convolution: direct depthwise loops, 1x1 GEMM, im2col + GEMM, and the naive reference.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "hwnas/nas/ops.hpp"
#include "ops_parallel.hpp"

namespace hwnas::nas {

namespace {

struct ConvGeom {
  int n, cin, h, w;
  int cout, cin_g, kh, kw;
  int groups, stride, pad, dil;
  int hout, wout;
  int cout_g() const { return cout / groups; }
  bool depthwise() const { return groups == cin && cout == cin && cin_g == 1; }
  bool pointwise() const { return kh == 1 && kw == 1 && stride == 1 && pad == 0 && groups == 1; }
};

ConvGeom conv_geom(const Tensor& x, const Tensor& w, const Conv2dParams& p) {
  if (x.ndim() != 4 || w.ndim() != 4) {
    throw std::invalid_argument("conv2d: input " + shape_to_string(x.shape()) + " and weight " +
                                shape_to_string(w.shape()) + " must be 4-D");
  }
  if (p.stride < 1 || p.padding < 0 || p.dilation < 1 || p.groups < 1) {
    throw std::invalid_argument("conv2d: bad stride/padding/dilation/groups");
  }
  ConvGeom g{x.n(), x.c(), x.h(), x.w(), w.dim(0), w.dim(1), w.dim(2), w.dim(3),
             p.groups, p.stride, p.padding, p.dilation, 0, 0};
  if (g.cin % g.groups != 0 || g.cout % g.groups != 0 || g.cin / g.groups != g.cin_g) {
    throw std::invalid_argument("conv2d: input " + shape_to_string(x.shape()) + ", weight " +
                                shape_to_string(w.shape()) + " and groups " + std::to_string(p.groups) +
                                " do not agree");
  }
  g.hout = conv_output_size(g.h, g.kh, g.stride, g.pad, g.dil);
  g.wout = conv_output_size(g.w, g.kw, g.stride, g.pad, g.dil);
  if (g.hout < 1 || g.wout < 1) {
    throw std::invalid_argument("conv2d: input " + shape_to_string(x.shape()) + " too small for weight " +
                                shape_to_string(w.shape()));
  }
  return g;
}

// Output columns [lo, hi) whose input column ow*s + off lies inside [0, size).
inline void valid_range(int off, int s, int size, int out, int& lo, int& hi) {
  // ow*s + off >= 0  ->  ow >= ceil(-off / s)
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  // ow*s + off <= size-1  ->  ow <= floor((size-1-off)/s)
  const int last = size - 1 - off;
  hi = last < 0 ? 0 : std::min(out, last / s + 1);
  if (lo > hi) lo = hi;
}

// ---- depthwise (groups == C, one input channel per filter) ----
// Each plane is first copied into a zero-bordered buffer, so every tap of every output row reads
// a fixed-length, bounds-check-free row: the inner loops are plain (vectorisable) FMAs.

struct PadGeom {
  int hp, wp;  // padded plane size
  std::size_t size() const { return static_cast<std::size_t>(hp) * wp; }
};

PadGeom pad_geom(const ConvGeom& g) {
  // Rows/cols any tap reaches: (out-1)*stride + (k-1)*dil + 1, at least the input plus padding.
  const int hp = std::max(g.h + 2 * g.pad, (g.hout - 1) * g.stride + (g.kh - 1) * g.dil + 1);
  const int wp = std::max(g.w + 2 * g.pad, (g.wout - 1) * g.stride + (g.kw - 1) * g.dil + 1);
  return {hp, wp};
}

// Copies a plane into the interior of a padded buffer whose border is already zero.
void pad_plane(const float* __restrict src, float* __restrict dst, const ConvGeom& g, const PadGeom& pg) {
  for (int ih = 0; ih < g.h; ++ih) {
    std::copy(src + static_cast<std::size_t>(ih) * g.w, src + static_cast<std::size_t>(ih + 1) * g.w,
              dst + static_cast<std::size_t>(ih + g.pad) * pg.wp + g.pad);
  }
}

void depthwise_plane_forward(const float* __restrict xpad, const float* __restrict wk, float* __restrict yout,
                             const ConvGeom& g, const PadGeom& pg) {
  const int wo = g.wout, s = g.stride;
  for (int oh = 0; oh < g.hout; ++oh) {
    float* __restrict yr = yout + static_cast<std::size_t>(oh) * wo;
    for (int ow = 0; ow < wo; ++ow) yr[ow] = 0.0f;
    for (int ki = 0; ki < g.kh; ++ki) {
      const float* xrow = xpad + static_cast<std::size_t>(oh * s + ki * g.dil) * pg.wp;
      for (int kj = 0; kj < g.kw; ++kj) {
        const float wv = wk[ki * g.kw + kj];
        const float* __restrict xr = xrow + kj * g.dil;
        if (s == 1) {
#pragma omp simd
          for (int ow = 0; ow < wo; ++ow) yr[ow] += wv * xr[ow];
        } else {
          for (int ow = 0; ow < wo; ++ow) yr[ow] += wv * xr[ow * s];
        }
      }
    }
  }
}

// dxpad (zeroed by the caller) receives this plane's input gradient. The filter gradient goes
// into dwacc[tap * wout + ow] (per-column partial sums, reduced once per channel by the caller)
// so the inner loops stay plain vector FMAs instead of one horizontal reduction per row.
void depthwise_plane_backward(const float* __restrict xpad, const float* __restrict wk,
                              const float* __restrict dyp, float* __restrict dxpad, float* __restrict dwacc,
                              const ConvGeom& g, const PadGeom& pg) {
  const int wo = g.wout, s = g.stride;
  for (int oh = 0; oh < g.hout; ++oh) {
    const float* __restrict dyr = dyp + static_cast<std::size_t>(oh) * wo;
    for (int ki = 0; ki < g.kh; ++ki) {
      const std::size_t row = static_cast<std::size_t>(oh * s + ki * g.dil) * pg.wp;
      for (int kj = 0; kj < g.kw; ++kj) {
        const int off = kj * g.dil;
        const int tap = ki * g.kw + kj;
        if (dwacc) {
          const float* __restrict xr = xpad + row + off;
          float* __restrict acc = dwacc + static_cast<std::size_t>(tap) * wo;
          if (s == 1) {
#pragma omp simd
            for (int ow = 0; ow < wo; ++ow) acc[ow] += dyr[ow] * xr[ow];
          } else {
            for (int ow = 0; ow < wo; ++ow) acc[ow] += dyr[ow] * xr[ow * s];
          }
        }
        if (dxpad) {
          const float wv = wk[tap];
          float* __restrict dxr = dxpad + row + off;
          if (s == 1) {
#pragma omp simd
            for (int ow = 0; ow < wo; ++ow) dxr[ow] += wv * dyr[ow];
          } else {
            for (int ow = 0; ow < wo; ++ow) dxr[ow * s] += wv * dyr[ow];
          }
        }
      }
    }
  }
}

// Stride 1: the output is computed over the padded width (wp columns per row, the last
// wp - wout of them unused), so the plane is ONE long contiguous stream instead of hout short
// rows. L = (hout-1)*wp + wout. Every kernel below works on blocks of kBlock consecutive
// positions and keeps the block's sums in registers across all filter taps (one load per tap
// and one store per block, instead of a load-add-store of the output per tap). Buffers carry
// kBlock zero floats of slack past the last position so the final block needs no tail loop.
constexpr int kBlock = 32;
constexpr int kMaxTaps = 49;  // kernels up to 7x7 use the blocked loops; larger ones fall back

std::size_t wide_len(const ConvGeom& g, const PadGeom& pg) {
  return static_cast<std::size_t>(g.hout - 1) * pg.wp + g.wout;
}
std::size_t round_up_block(std::size_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// Offsets of the taps in the padded plane, row-major tap order.
int tap_offsets(const ConvGeom& g, const PadGeom& pg, std::ptrdiff_t* off) {
  int t = 0;
  for (int ki = 0; ki < g.kh; ++ki)
    for (int kj = 0; kj < g.kw; ++kj) off[t++] = static_cast<std::ptrdiff_t>(ki * g.dil) * pg.wp + kj * g.dil;
  return t;
}

// 16 floats in one register on AVX-512 (two or four on narrower machines): GCC/Clang vector
// extensions keep the block sums in registers, which auto-vectorised loops over a local array
// did not (they spilled the array on every tap). Loads and stores go through memcpy: the
// positions are not aligned.
typedef float V16 __attribute__((vector_size(64)));
inline V16 load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, V16 v) { std::memcpy(p, &v, sizeof v); }
inline float hsum16(V16 v) {
  float s = 0.0f;
  for (int l = 0; l < 16; ++l) s += v[l];
  return s;
}

// out[j] = sum_t w[t] * src[j + off[t]] for j in [0, len), len a multiple of kBlock (= 32):
// the forward stencil (off >= 0) and, with negated offsets, its transpose.
void stencil_blocked(const float* __restrict src, const std::ptrdiff_t* off, const float* __restrict wk, int taps,
                     float* __restrict out, std::size_t len) {
  for (std::size_t j = 0; j < len; j += kBlock) {
    V16 a0 = {}, a1 = {};
    for (int t = 0; t < taps; ++t) {
      const float* xs = src + static_cast<std::ptrdiff_t>(j) + off[t];
      const float wv = wk[t];
      a0 += wv * load16(xs);
      a1 += wv * load16(xs + 16);
    }
    store16(out + j, a0);
    store16(out + j + 16, a1);
  }
}

// dw[t] += sum_{i < len} dy[i] * x[i + off[t]], len a multiple of 16: each dy vector is loaded
// once for all taps, with one vector of partial sums per tap (kept in registers when the tap
// count is a compile-time constant, as for 3x3 and 5x5).
template <int K>
void filter_grad_blocked(const float* __restrict x, const std::ptrdiff_t* off, const float* __restrict dy,
                         std::size_t len, float* __restrict dwk) {
  V16 acc[K] = {};
  for (std::size_t i = 0; i < len; i += 16) {
    const V16 d = load16(dy + i);
#pragma GCC unroll 32
    for (int t = 0; t < K; ++t) acc[t] += d * load16(x + static_cast<std::ptrdiff_t>(i) + off[t]);
  }
  for (int t = 0; t < K; ++t) dwk[t] += hsum16(acc[t]);
}

void filter_grad_any(const float* __restrict x, const std::ptrdiff_t* off, int taps, const float* __restrict dy,
                     std::size_t len, float* __restrict dwk) {
  for (int t = 0; t < taps; ++t) {
    V16 acc = {};
    for (std::size_t i = 0; i < len; i += 16) acc += load16(dy + i) * load16(x + static_cast<std::ptrdiff_t>(i) + off[t]);
    dwk[t] += hsum16(acc);
  }
}

// ywide[i] = sum_t w[t] * xpad[i + off[t]] for i < round_up_block(L).
void depthwise_plane_forward_wide(const float* __restrict xpad, const float* __restrict wk, float* __restrict ywide,
                                  const ConvGeom& g, const PadGeom& pg) {
  std::ptrdiff_t off[kMaxTaps];
  const int taps = tap_offsets(g, pg, off);
  stencil_blocked(xpad, off, wk, taps, ywide, round_up_block(wide_len(g, pg)));
}

// dywide holds dy with rows widened to wp, zeros in the unused columns and in front of it (at
// least the largest tap offset) and behind it, so those positions add nothing.
// dxpad[j] = sum_t w[t] * dywide[j - off[t]] (the transposed stencil), for the rows of the
// padded plane that hold the input; dw[t] += sum_i dywide[i] * xpad[i + off[t]].
void depthwise_plane_backward_wide(const float* __restrict xpad, const float* __restrict wk,
                                   const float* __restrict dywide, float* __restrict dxpad, float* __restrict dwk,
                                   const ConvGeom& g, const PadGeom& pg) {
  std::ptrdiff_t off[kMaxTaps];
  const int taps = tap_offsets(g, pg, off);
  if (dxpad) {
    std::ptrdiff_t neg[kMaxTaps];
    for (int t = 0; t < taps; ++t) neg[t] = -off[t];
    const std::size_t j0 = static_cast<std::size_t>(g.pad) * pg.wp;
    stencil_blocked(dywide + j0, neg, wk, taps, dxpad + j0, round_up_block(static_cast<std::size_t>(g.h) * pg.wp));
  }
  if (dwk) {
    const std::size_t len = round_up_block(wide_len(g, pg));
    if (taps == 9) {
      filter_grad_blocked<9>(xpad, off, dywide, len, dwk);
    } else if (taps == 25) {
      filter_grad_blocked<25>(xpad, off, dywide, len, dwk);
    } else {
      filter_grad_any(xpad, off, taps, dywide, len, dwk);
    }
  }
}

bool use_wide(const ConvGeom& g) { return g.stride == 1 && g.kh * g.kw <= kMaxTaps; }

// ---- stride 2: polyphase ----
// The padded plane is split into its four (row parity, column parity) phases, each a dense
// hq x wq plane. A stride-2 tap then reads ONE phase at stride 1, so the same register-blocked
// stencils apply: output position i = oh*wq + ow reads phase[i + (ki*d/2)*wq + kj*d/2].
struct PhaseGeom {
  int hq, wq;
  std::size_t stride;  // floats from one phase to the next (plane plus kBlock zero slack)
};

PhaseGeom phase_geom(const PadGeom& pg) {
  const int hq = (pg.hp + 1) / 2, wq = (pg.wp + 1) / 2;
  return {hq, wq, static_cast<std::size_t>(hq) * wq + kBlock};
}

bool use_phases(const ConvGeom& g) { return g.stride == 2 && g.kh * g.kw <= kMaxTaps; }

// Scatters an input plane into the phases (whose other positions stay zero).
void split_phases(const float* __restrict src, float* __restrict ph, const ConvGeom& g, const PhaseGeom& q) {
  for (int ih = 0; ih < g.h; ++ih) {
    const int r = ih + g.pad;
    const float* s = src + static_cast<std::size_t>(ih) * g.w;
    for (int b = 0; b < 2; ++b) {
      const int first = (b - g.pad) & 1;  // first iw with (iw + pad) of parity b
      float* d = ph + static_cast<std::size_t>((r & 1) * 2 + b) * q.stride + static_cast<std::size_t>(r >> 1) * q.wq +
                 ((first + g.pad) >> 1);
      for (int iw = first, k = 0; iw < g.w; iw += 2, ++k) d[k] = s[iw];
    }
  }
}

// Offset of each tap inside the phase buffer (phase start + position within the phase), and
// its offset within the phase alone.
int phase_tap_offsets(const ConvGeom& g, const PhaseGeom& q, std::ptrdiff_t* off, std::ptrdiff_t* inner,
                      int* phase) {
  int t = 0;
  for (int ki = 0; ki < g.kh; ++ki)
    for (int kj = 0; kj < g.kw; ++kj, ++t) {
      const int dr = ki * g.dil, dc = kj * g.dil;
      phase[t] = (dr & 1) * 2 + (dc & 1);
      inner[t] = static_cast<std::ptrdiff_t>(dr >> 1) * q.wq + (dc >> 1);
      off[t] = static_cast<std::ptrdiff_t>(phase[t]) * static_cast<std::ptrdiff_t>(q.stride) + inner[t];
    }
  return t;
}

std::size_t phase_out_len(const ConvGeom& g, const PhaseGeom& q) {
  return round_up_block(static_cast<std::size_t>(g.hout - 1) * q.wq + g.wout);
}

void depthwise_plane_forward_phases(const float* ph, const float* wk, float* ywide, const ConvGeom& g,
                                    const PhaseGeom& q) {
  std::ptrdiff_t off[kMaxTaps], inner[kMaxTaps];
  int phase[kMaxTaps];
  const int taps = phase_tap_offsets(g, q, off, inner, phase);
  stencil_blocked(ph, off, wk, taps, ywide, phase_out_len(g, q));
}

// dywide: dy rows at stride wq with zeros around (front: the largest inner offset). dxph
// receives every phase's input gradient (the transposed stencil of the taps reading it).
void depthwise_plane_backward_phases(const float* ph, const float* wk, const float* dywide, float* dxph,
                                     float* dwk, const ConvGeom& g, const PhaseGeom& q) {
  std::ptrdiff_t off[kMaxTaps], inner[kMaxTaps];
  int phase[kMaxTaps];
  const int taps = phase_tap_offsets(g, q, off, inner, phase);
  if (dxph) {
    const std::size_t len = round_up_block(static_cast<std::size_t>(q.hq) * q.wq);
    for (int p = 0; p < 4; ++p) {
      std::ptrdiff_t neg[kMaxTaps];
      float wsub[kMaxTaps];
      int n = 0;
      for (int t = 0; t < taps; ++t) {
        if (phase[t] != p) continue;
        neg[n] = -inner[t];
        wsub[n++] = wk[t];
      }
      stencil_blocked(dywide, neg, wsub, n, dxph + static_cast<std::size_t>(p) * q.stride, len);
    }
  }
  if (dwk) {
    const std::size_t len = phase_out_len(g, q);
    if (taps == 9) {
      filter_grad_blocked<9>(ph, off, dywide, len, dwk);
    } else if (taps == 25) {
      filter_grad_blocked<25>(ph, off, dywide, len, dwk);
    } else {
      filter_grad_any(ph, off, taps, dywide, len, dwk);
    }
  }
}

// dx (+)= the input positions of the phase gradients.
void gather_phases(const float* __restrict dxph, float* __restrict dst, const ConvGeom& g, const PhaseGeom& q,
                   bool overwrite) {
  for (int ih = 0; ih < g.h; ++ih) {
    const int r = ih + g.pad;
    float* d = dst + static_cast<std::size_t>(ih) * g.w;
    for (int b = 0; b < 2; ++b) {
      const int first = (b - g.pad) & 1;
      const float* s = dxph + static_cast<std::size_t>((r & 1) * 2 + b) * q.stride +
                       static_cast<std::size_t>(r >> 1) * q.wq + ((first + g.pad) >> 1);
      if (overwrite) {
        for (int iw = first, k = 0; iw < g.w; iw += 2, ++k) d[iw] = s[k];
      } else {
        for (int iw = first, k = 0; iw < g.w; iw += 2, ++k) d[iw] += s[k];
      }
    }
  }
}

void depthwise_forward(const Tensor& x, const Tensor& w, Tensor& y, const ConvGeom& g) {
  const std::size_t in_plane = static_cast<std::size_t>(g.h) * g.w;
  const std::size_t out_plane = static_cast<std::size_t>(g.hout) * g.wout;
  const int ksz = g.kh * g.kw;
  const int planes = g.n * g.cin;
  const PadGeom pg = pad_geom(g);
  const bool wide = use_wide(g);
  const bool phases = use_phases(g);
  const PhaseGeom q = phase_geom(pg);
  const bool par = detail::worth_parallel(static_cast<std::int64_t>(planes) * out_plane * ksz);
#pragma omp parallel if (par)
  {
    std::vector<float> xpad(phases ? 4 * q.stride : pg.size() + kBlock, 0.0f);
    std::vector<float> ywide(wide ? static_cast<std::size_t>(g.hout) * pg.wp + kBlock
                                  : phases ? static_cast<std::size_t>(g.hout) * q.wq + kBlock : 0);
#pragma omp for schedule(static)
    for (int pl = 0; pl < planes; ++pl) {
      const int c = pl % g.cin;
      float* yp = y.data() + pl * out_plane;
      if (phases) {
        split_phases(x.data() + pl * in_plane, xpad.data(), g, q);
        depthwise_plane_forward_phases(xpad.data(), w.data() + c * ksz, ywide.data(), g, q);
        for (int oh = 0; oh < g.hout; ++oh) {
          const float* src = ywide.data() + static_cast<std::size_t>(oh) * q.wq;
          std::copy(src, src + g.wout, yp + static_cast<std::size_t>(oh) * g.wout);
        }
        continue;
      }
      pad_plane(x.data() + pl * in_plane, xpad.data(), g, pg);
      if (wide) {
        depthwise_plane_forward_wide(xpad.data(), w.data() + c * ksz, ywide.data(), g, pg);
        for (int oh = 0; oh < g.hout; ++oh) {
          const float* src = ywide.data() + static_cast<std::size_t>(oh) * pg.wp;
          std::copy(src, src + g.wout, yp + static_cast<std::size_t>(oh) * g.wout);
        }
      } else {
        depthwise_plane_forward(xpad.data(), w.data() + c * ksz, yp, g, pg);
      }
    }
  }
}

void depthwise_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw,
                        const ConvGeom& g, bool overwrite_dx) {
  const std::size_t in_plane = static_cast<std::size_t>(g.h) * g.w;
  const std::size_t out_plane = static_cast<std::size_t>(g.hout) * g.wout;
  const int ksz = g.kh * g.kw;
  const PadGeom pg = pad_geom(g);
  const bool wide = use_wide(g);
  const bool phases = use_phases(g);
  const PhaseGeom q = phase_geom(pg);
  // Zeros in front of the widened dy for the transposed stencil's reads: the largest tap offset.
  const std::size_t front = phases ? static_cast<std::size_t>(((g.kh - 1) * g.dil) >> 1) * q.wq + (((g.kw - 1) * g.dil) >> 1)
                                   : static_cast<std::size_t>((g.kh - 1) * g.dil) * pg.wp + (g.kw - 1) * g.dil;
  const std::size_t dy_row = phases ? static_cast<std::size_t>(q.wq) : static_cast<std::size_t>(pg.wp);
  const std::size_t dy_rows = phases ? static_cast<std::size_t>(std::max(q.hq, g.hout)) : static_cast<std::size_t>(g.hout);
  // Parallel over channels: each channel owns its filter's gradient, so no reduction is needed.
  const bool par = detail::worth_parallel(static_cast<std::int64_t>(g.n) * g.cin * out_plane * ksz);
#pragma omp parallel if (par)
  {
    const std::size_t plane_buf = phases ? 4 * q.stride : pg.size() + kBlock;
    std::vector<float> xpad(plane_buf, 0.0f), dxpad(dx ? plane_buf : 0, 0.0f);
    std::vector<float> dwacc(dw && !wide && !phases ? static_cast<std::size_t>(ksz) * g.wout : 0);
    // Unused columns stay zero: only the first wout of each row are ever written.
    std::vector<float> dybuf(wide || phases ? 2 * front + dy_rows * dy_row + 2 * kBlock : 0, 0.0f);
    float* dywide = dybuf.data() + (wide || phases ? front : 0);
#pragma omp for schedule(static)
    for (int c = 0; c < g.cin; ++c) {
      std::fill(dwacc.begin(), dwacc.end(), 0.0f);
      for (int n = 0; n < g.n; ++n) {
        const std::size_t pl = static_cast<std::size_t>(n) * g.cin + c;
        if (phases) {
          split_phases(x.data() + pl * in_plane, xpad.data(), g, q);
          const float* dyp = dy.data() + pl * out_plane;
          for (int oh = 0; oh < g.hout; ++oh) {
            std::copy(dyp + static_cast<std::size_t>(oh) * g.wout, dyp + static_cast<std::size_t>(oh + 1) * g.wout,
                      dywide + static_cast<std::size_t>(oh) * q.wq);
          }
          depthwise_plane_backward_phases(xpad.data(), w.data() + c * ksz, dywide, dx ? dxpad.data() : nullptr,
                                          dw ? dw->data() + c * ksz : nullptr, g, q);
          if (dx) gather_phases(dxpad.data(), dx->data() + pl * in_plane, g, q, overwrite_dx);
          continue;
        }
        pad_plane(x.data() + pl * in_plane, xpad.data(), g, pg);
        if (wide) {
          const float* dyp = dy.data() + pl * out_plane;
          for (int oh = 0; oh < g.hout; ++oh) {
            std::copy(dyp + static_cast<std::size_t>(oh) * g.wout, dyp + static_cast<std::size_t>(oh + 1) * g.wout,
                      dywide + static_cast<std::size_t>(oh) * pg.wp);
          }
          // Writes every row of dxpad that holds the input, so it needs no clearing.
          depthwise_plane_backward_wide(xpad.data(), w.data() + c * ksz, dywide, dx ? dxpad.data() : nullptr,
                                        dw ? dw->data() + c * ksz : nullptr, g, pg);
        } else {
          if (dx) std::fill(dxpad.begin(), dxpad.end(), 0.0f);
          depthwise_plane_backward(xpad.data(), w.data() + c * ksz, dy.data() + pl * out_plane,
                                   dx ? dxpad.data() : nullptr, dw ? dwacc.data() : nullptr, g, pg);
        }
        if (dx) {
          float* dst = dx->data() + pl * in_plane;
          for (int ih = 0; ih < g.h; ++ih) {
            const float* src = dxpad.data() + static_cast<std::size_t>(ih + g.pad) * pg.wp + g.pad;
            float* d = dst + static_cast<std::size_t>(ih) * g.w;
            if (overwrite_dx) {
              std::copy(src, src + g.w, d);
            } else {
#pragma omp simd
              for (int iw = 0; iw < g.w; ++iw) d[iw] += src[iw];
            }
          }
        }
      }
      if (dw && !wide && !phases) {
        for (int t = 0; t < ksz; ++t) {
          const float* a = dwacc.data() + static_cast<std::size_t>(t) * g.wout;
          double sum = 0.0;
          for (int ow = 0; ow < g.wout; ++ow) sum += a[ow];
          dw->data()[c * ksz + t] += static_cast<float>(sum);
        }
      }
    }
  }
}

// ---- im2col / col2im for one sample and one group ----
// col is [cin_g * kh * kw, hout * wout], row (ci, ki, kj).

void im2col(const float* xin, float* col, const ConvGeom& g) {
  const std::size_t in_plane = static_cast<std::size_t>(g.h) * g.w;
  const int P = g.hout * g.wout;
  for (int ci = 0; ci < g.cin_g; ++ci) {
    for (int ki = 0; ki < g.kh; ++ki) {
      for (int kj = 0; kj < g.kw; ++kj) {
        float* crow = col + (static_cast<std::size_t>((ci * g.kh + ki) * g.kw + kj)) * P;
        const int coff = kj * g.dil - g.pad;
        int lo, hi;
        valid_range(coff, g.stride, g.w, g.wout, lo, hi);
        for (int oh = 0; oh < g.hout; ++oh) {
          float* cr = crow + static_cast<std::size_t>(oh) * g.wout;
          const int ih = oh * g.stride + ki * g.dil - g.pad;
          if (ih < 0 || ih >= g.h) {
            std::fill(cr, cr + g.wout, 0.0f);
            continue;
          }
          const float* xr = xin + ci * in_plane + static_cast<std::size_t>(ih) * g.w;
          std::fill(cr, cr + lo, 0.0f);
          if (g.stride == 1) {
            for (int ow = lo; ow < hi; ++ow) cr[ow] = xr[ow + coff];
          } else {
            for (int ow = lo; ow < hi; ++ow) cr[ow] = xr[ow * g.stride + coff];
          }
          std::fill(cr + hi, cr + g.wout, 0.0f);
        }
      }
    }
  }
}

void col2im_add(const float* col, float* dxin, const ConvGeom& g) {
  const std::size_t in_plane = static_cast<std::size_t>(g.h) * g.w;
  const int P = g.hout * g.wout;
  for (int ci = 0; ci < g.cin_g; ++ci) {
    for (int ki = 0; ki < g.kh; ++ki) {
      for (int kj = 0; kj < g.kw; ++kj) {
        const float* crow = col + (static_cast<std::size_t>((ci * g.kh + ki) * g.kw + kj)) * P;
        const int coff = kj * g.dil - g.pad;
        int lo, hi;
        valid_range(coff, g.stride, g.w, g.wout, lo, hi);
        for (int oh = 0; oh < g.hout; ++oh) {
          const int ih = oh * g.stride + ki * g.dil - g.pad;
          if (ih < 0 || ih >= g.h) continue;
          const float* cr = crow + static_cast<std::size_t>(oh) * g.wout;
          float* dr = dxin + ci * in_plane + static_cast<std::size_t>(ih) * g.w;
          if (g.stride == 1) {
            for (int ow = lo; ow < hi; ++ow) dr[ow + coff] += cr[ow];
          } else {
            for (int ow = lo; ow < hi; ++ow) dr[ow * g.stride + coff] += cr[ow];
          }
        }
      }
    }
  }
}

int max_threads() { return std::max(1, omp_get_max_threads()); }

// Per-thread slots in the workspace: [0, T) im2col columns, [T, 2T) dW partial sums.
std::vector<float*> thread_buffers(Workspace& ws, std::size_t first_slot, int threads, std::size_t size) {
  std::vector<float*> ptrs(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) ptrs[static_cast<std::size_t>(t)] = ws.buffer(first_slot + t, size).data();
  return ptrs;
}

void gemm_forward(const Tensor& x, const Tensor& w, Tensor& y, const ConvGeom& g, Workspace& ws) {
  const int K = g.cin_g * g.kh * g.kw;
  const int P = g.hout * g.wout;
  const int cog = g.cout_g();
  const std::size_t in_sample = static_cast<std::size_t>(g.cin) * g.h * g.w;
  const std::size_t out_sample = static_cast<std::size_t>(g.cout) * P;
  const bool direct = g.pointwise();
  const int T = max_threads();
  std::vector<float*> cols = direct ? std::vector<float*>(T, nullptr)
                                    : thread_buffers(ws, 0, T, static_cast<std::size_t>(K) * P);
  const bool par = detail::worth_parallel(static_cast<std::int64_t>(g.n) * g.cout * P * K);
#pragma omp parallel for schedule(static) num_threads(T) if (par)
  for (int n = 0; n < g.n; ++n) {
    float* col = cols[static_cast<std::size_t>(omp_get_thread_num())];
    for (int gr = 0; gr < g.groups; ++gr) {
      const float* xg = x.data() + n * in_sample + static_cast<std::size_t>(gr) * g.cin_g * g.h * g.w;
      const float* src = xg;
      if (!direct) {
        im2col(xg, col, g);
        src = col;
      }
      ConstMatMap W(w.data() + static_cast<std::size_t>(gr) * cog * K, cog, K);
      ConstMatMap X(src, K, P);
      MatMap Y(y.data() + n * out_sample + static_cast<std::size_t>(gr) * cog * P, cog, P);
      Y.noalias() = W * X;
    }
  }
}

void gemm_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw, const ConvGeom& g,
                   Workspace& ws, bool overwrite_dx) {
  const int K = g.cin_g * g.kh * g.kw;
  const int P = g.hout * g.wout;
  const int cog = g.cout_g();
  const std::size_t in_sample = static_cast<std::size_t>(g.cin) * g.h * g.w;
  const std::size_t out_sample = static_cast<std::size_t>(g.cout) * P;
  const bool direct = g.pointwise();
  const int T = max_threads();
  const std::size_t wsize = static_cast<std::size_t>(w.numel());
  std::vector<float*> cols = thread_buffers(ws, 0, T, static_cast<std::size_t>(K) * P);
  std::vector<float*> dws = dw ? thread_buffers(ws, static_cast<std::size_t>(T), T, wsize)
                               : std::vector<float*>(T, nullptr);
  for (float* p : dws) {
    if (p) std::fill(p, p + wsize, 0.0f);
  }
  const bool par = detail::worth_parallel(static_cast<std::int64_t>(g.n) * g.cout * P * K);
#pragma omp parallel for schedule(static) num_threads(T) if (par)
  for (int n = 0; n < g.n; ++n) {
    const int tid = omp_get_thread_num();
    float* col = cols[static_cast<std::size_t>(tid)];
    for (int gr = 0; gr < g.groups; ++gr) {
      const float* xg = x.data() + n * in_sample + static_cast<std::size_t>(gr) * g.cin_g * g.h * g.w;
      ConstMatMap W(w.data() + static_cast<std::size_t>(gr) * cog * K, cog, K);
      ConstMatMap DY(dy.data() + n * out_sample + static_cast<std::size_t>(gr) * cog * P, cog, P);
      if (dw) {
        const float* src = xg;
        if (!direct) {
          im2col(xg, col, g);
          src = col;
        }
        MatMap DW(dws[static_cast<std::size_t>(tid)] + static_cast<std::size_t>(gr) * cog * K, cog, K);
        DW.noalias() += DY * ConstMatMap(src, K, P).transpose();
      }
      if (dx) {
        float* dxg = dx->data() + n * in_sample + static_cast<std::size_t>(gr) * g.cin_g * g.h * g.w;
        if (direct && overwrite_dx) {
          MatMap(dxg, K, P).noalias() = W.transpose() * DY;
        } else if (direct) {
          MatMap(dxg, K, P).noalias() += W.transpose() * DY;
        } else {
          if (overwrite_dx) std::fill(dxg, dxg + static_cast<std::size_t>(g.cin_g) * g.h * g.w, 0.0f);
          MatMap C(col, K, P);
          C.noalias() = W.transpose() * DY;
          col2im_add(col, dxg, g);
        }
      }
    }
  }
  if (dw) {
    VecMap out(dw->data(), static_cast<Eigen::Index>(wsize));
    for (float* p : dws) out += VecMap(p, static_cast<Eigen::Index>(wsize));
  }
}

void check_grad_buffers(const Tensor& x, const Tensor& w, Tensor* dx, Tensor* dw) {
  if (dx && dx->shape() != x.shape()) throw std::invalid_argument("conv2d backward: dx shape mismatch");
  if (dw && dw->shape() != w.shape()) throw std::invalid_argument("conv2d backward: dw shape mismatch");
}

}  // namespace

int conv_output_size(int in, int kernel, int stride, int padding, int dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

namespace kernels {

void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dParams& p, Tensor& y, Workspace& ws) {
  const ConvGeom g = conv_geom(x, w, p);
  Shape ys{g.n, g.cout, g.hout, g.wout};
  if (y.shape() != ys) y = Tensor::uninitialized(ys);
  if (g.depthwise()) {
    depthwise_forward(x, w, y, g);
  } else {
    gemm_forward(x, w, y, g, ws);
  }
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2dParams& p, Tensor* dx,
                     Tensor* dw, Workspace& ws, bool overwrite_dx) {
  const ConvGeom g = conv_geom(x, w, p);
  check_grad_buffers(x, w, dx, dw);
  if (!dx && !dw) return;
  overwrite_dx = overwrite_dx && dx;
  if (g.depthwise()) {
    depthwise_backward(x, w, dy, dx, dw, g, overwrite_dx);
  } else {
    gemm_backward(x, w, dy, dx, dw, g, ws, overwrite_dx);
  }
}

}  // namespace kernels

namespace reference {

void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dParams& p, Tensor& y) {
  const ConvGeom g = conv_geom(x, w, p);
  y = Tensor({g.n, g.cout, g.hout, g.wout});
  const int cog = g.cout_g();
  for (int n = 0; n < g.n; ++n)
    for (int co = 0; co < g.cout; ++co) {
      const int gr = co / cog;
      for (int oh = 0; oh < g.hout; ++oh)
        for (int ow = 0; ow < g.wout; ++ow) {
          double acc = 0.0;
          for (int ci = 0; ci < g.cin_g; ++ci)
            for (int ki = 0; ki < g.kh; ++ki)
              for (int kj = 0; kj < g.kw; ++kj) {
                const int ih = oh * g.stride - g.pad + ki * g.dil;
                const int iw = ow * g.stride - g.pad + kj * g.dil;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                acc += static_cast<double>(x.at(n, gr * g.cin_g + ci, ih, iw)) * w.at(co, ci, ki, kj);
              }
          y.at(n, co, oh, ow) = static_cast<float>(acc);
        }
    }
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2dParams& p, Tensor* dx,
                     Tensor* dw) {
  const ConvGeom g = conv_geom(x, w, p);
  check_grad_buffers(x, w, dx, dw);
  const int cog = g.cout_g();
  for (int n = 0; n < g.n; ++n)
    for (int co = 0; co < g.cout; ++co) {
      const int gr = co / cog;
      for (int oh = 0; oh < g.hout; ++oh)
        for (int ow = 0; ow < g.wout; ++ow) {
          const float d = dy.at(n, co, oh, ow);
          for (int ci = 0; ci < g.cin_g; ++ci)
            for (int ki = 0; ki < g.kh; ++ki)
              for (int kj = 0; kj < g.kw; ++kj) {
                const int ih = oh * g.stride - g.pad + ki * g.dil;
                const int iw = ow * g.stride - g.pad + kj * g.dil;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                if (dx) dx->at(n, gr * g.cin_g + ci, ih, iw) += d * w.at(co, ci, ki, kj);
                if (dw) dw->at(co, ci, ki, kj) += d * x.at(n, gr * g.cin_g + ci, ih, iw);
              }
        }
    }
}

}  // namespace reference

Var conv2d(Tape& tape, const Var& x, const Var& weight, const Conv2dParams& p) {
  Tensor y;
  kernels::conv2d_forward(x.value(), weight.value(), p, y, tape.workspace());
  Var out(std::move(y));
  if (tape.needs_grad({&x, &weight})) {
    tape.record(out, [&tape, x, weight, out, p]() mutable {
      bool fresh = false;
      Tensor* dx = x.requires_grad() ? &x.grad_for_write(fresh) : nullptr;
      Tensor* dw = weight.requires_grad() ? &weight.grad_mut() : nullptr;
      kernels::conv2d_backward(x.value(), weight.value(), out.grad(), p, dx, dw, tape.workspace(), fresh);
    });
  }
  return out;
}

}  // namespace hwnas::nas
