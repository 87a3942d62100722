// Element-wise, structural and pooling ops.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hwnas/nas/ops.hpp"
#include "ops_parallel.hpp"

namespace hwnas::nas {

namespace {

void require_same_shape(const char* op, const Var& a, const Var& b) {
  if (a.shape() != b.shape()) {
    throw std::invalid_argument(std::string(op) + ": shapes " + shape_to_string(a.shape()) + " and " +
                                shape_to_string(b.shape()) + " differ");
  }
}

void require_4d(const char* op, const Var& x) {
  if (x.value().ndim() != 4) {
    throw std::invalid_argument(std::string(op) + ": input " + shape_to_string(x.shape()) + " must be NCHW");
  }
}

// Adds g (same numel) into v's gradient when v takes one.
inline void accumulate(const Var& v, const Tensor& g) {
  if (!v.requires_grad()) return;
  bool fresh = false;
  Tensor& dst = v.grad_for_write(fresh);
  if (fresh) {
    dst.vec() = g.vec();
  } else {
    dst.vec() += g.vec();
  }
}

}  // namespace

Var relu(Tape& tape, const Var& x) {
  Tensor y = Tensor::uninitialized(x.shape());
  y.vec() = x.value().vec().cwiseMax(0.0f);
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out]() mutable {
      const float* yv = out.value().data();
      const float* dy = out.grad().data();
      bool fresh = false;
      float* dx = x.grad_for_write(fresh).data();
      const std::int64_t n = out.numel();
      if (fresh) {
        for (std::int64_t i = 0; i < n; ++i) dx[i] = yv[i] > 0.0f ? dy[i] : 0.0f;
      } else {
        for (std::int64_t i = 0; i < n; ++i) dx[i] += yv[i] > 0.0f ? dy[i] : 0.0f;
      }
    });
  }
  return out;
}

// Pools run separably: a horizontal pass over every input row (H x Wo), then a vertical pass
// whose inner loop runs along contiguous output columns. Windows are clipped to the input, which
// is both max-pool's -inf padding and avg-pool's count_include_pad=False.
struct PoolWindows {
  std::vector<int> lo, hi;  // [lo, hi) input range of each output position
  PoolWindows(int out, int in, int kernel, int stride, int padding) : lo(out), hi(out) {
    for (int o = 0; o < out; ++o) {
      lo[o] = std::max(0, o * stride - padding);
      hi[o] = std::min(in, o * stride - padding + kernel);
    }
  }
};

void check_pool(const char* op, const Var& x, int kernel, int stride, int padding) {
  require_4d(op, x);
  if (kernel < 1 || stride < 1 || padding < 0 || padding * 2 > kernel) {
    throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(kernel) + ", stride " +
                                std::to_string(stride) + ", padding " + std::to_string(padding) +
                                " (padding must be at most kernel/2)");
  }
  const int ho = conv_output_size(x.value().h(), kernel, stride, padding, 1);
  const int wo = conv_output_size(x.value().w(), kernel, stride, padding, 1);
  if (ho < 1 || wo < 1) throw std::invalid_argument(std::string(op) + ": input " + shape_to_string(x.shape()) + " too small");
}

Var max_pool2d(Tape& tape, const Var& x, int kernel, int stride, int padding) {
  check_pool("max_pool2d", x, kernel, stride, padding);
  const Tensor& xv = x.value();
  const int N = xv.n(), C = xv.c(), H = xv.h(), W = xv.w();
  const int Ho = conv_output_size(H, kernel, stride, padding, 1);
  const int Wo = conv_output_size(W, kernel, stride, padding, 1);
  const PoolWindows rows(Ho, H, kernel, stride, padding), cols(Wo, W, kernel, stride, padding);
  Tensor y = Tensor::uninitialized({N, C, Ho, Wo});
  const bool need = tape.needs_grad({&x});
  // Flat in-plane index of each window's winner (the first maximum in row-major order, as the
  // direct scan finds it), for routing the gradient.
  auto argmax = std::make_shared<std::vector<int>>(static_cast<std::size_t>(y.numel()));
  const int planes = N * C;
  const std::size_t ip = static_cast<std::size_t>(H) * W, op = static_cast<std::size_t>(Ho) * Wo;
  const bool par = detail::worth_parallel(y.numel() * kernel * kernel);
#pragma omp parallel if (par)
  {
    std::vector<float> hm(static_cast<std::size_t>(H) * Wo);
    std::vector<int> hi(static_cast<std::size_t>(H) * Wo);
#pragma omp for schedule(static)
    for (int pl = 0; pl < planes; ++pl) {
      const float* xin = xv.data() + pl * ip;
      for (int ih = 0; ih < H; ++ih) {
        const float* xr = xin + static_cast<std::size_t>(ih) * W;
        for (int ow = 0; ow < Wo; ++ow) {
          int bi = cols.lo[ow];
          float best = xr[bi];
          for (int iw = bi + 1; iw < cols.hi[ow]; ++iw) {
            if (xr[iw] > best) {
              best = xr[iw];
              bi = iw;
            }
          }
          hm[static_cast<std::size_t>(ih) * Wo + ow] = best;
          hi[static_cast<std::size_t>(ih) * Wo + ow] = ih * W + bi;
        }
      }
      float* yo = y.data() + pl * op;
      int* am = argmax->data() + pl * op;
      for (int oh = 0; oh < Ho; ++oh) {
        float* yr = yo + static_cast<std::size_t>(oh) * Wo;
        int* ar = am + static_cast<std::size_t>(oh) * Wo;
        const int h0 = rows.lo[oh];
        std::copy(hm.begin() + static_cast<std::ptrdiff_t>(h0) * Wo, hm.begin() + static_cast<std::ptrdiff_t>(h0 + 1) * Wo, yr);
        std::copy(hi.begin() + static_cast<std::ptrdiff_t>(h0) * Wo, hi.begin() + static_cast<std::ptrdiff_t>(h0 + 1) * Wo, ar);
        for (int ih = h0 + 1; ih < rows.hi[oh]; ++ih) {
          const float* hr = hm.data() + static_cast<std::size_t>(ih) * Wo;
          const int* ir = hi.data() + static_cast<std::size_t>(ih) * Wo;
          for (int ow = 0; ow < Wo; ++ow) {
            const bool better = hr[ow] > yr[ow];  // strict: an earlier row keeps ties
            yr[ow] = better ? hr[ow] : yr[ow];
            ar[ow] = better ? ir[ow] : ar[ow];
          }
        }
      }
    }
  }
  Var out(std::move(y));
  if (need) {
    tape.record(out, [x, out, argmax, planes, ip, op, par]() mutable {
      const float* dy = out.grad().data();
      float* dx = x.grad_mut().data();
      const int* am = argmax->data();
#pragma omp parallel for schedule(static) if (par)
      for (int pl = 0; pl < planes; ++pl) {
        for (std::size_t o = 0; o < op; ++o) dx[pl * ip + am[pl * op + o]] += dy[pl * op + o];
      }
    });
  }
  return out;
}

Var avg_pool2d(Tape& tape, const Var& x, int kernel, int stride, int padding) {
  check_pool("avg_pool2d", x, kernel, stride, padding);
  const Tensor& xv = x.value();
  const int N = xv.n(), C = xv.c(), H = xv.h(), W = xv.w();
  const int Ho = conv_output_size(H, kernel, stride, padding, 1);
  const int Wo = conv_output_size(W, kernel, stride, padding, 1);
  auto rows = std::make_shared<PoolWindows>(Ho, H, kernel, stride, padding);
  auto cols = std::make_shared<PoolWindows>(Wo, W, kernel, stride, padding);
  // In-bounds element count of each window (count_include_pad=False).
  auto count = std::make_shared<std::vector<float>>(static_cast<std::size_t>(Ho) * Wo);
  for (int oh = 0; oh < Ho; ++oh)
    for (int ow = 0; ow < Wo; ++ow) {
      (*count)[static_cast<std::size_t>(oh) * Wo + ow] =
          static_cast<float>((rows->hi[oh] - rows->lo[oh]) * (cols->hi[ow] - cols->lo[ow]));
    }
  Tensor y = Tensor::uninitialized({N, C, Ho, Wo});
  const int planes = N * C;
  const std::size_t ip = static_cast<std::size_t>(H) * W, op = static_cast<std::size_t>(Ho) * Wo;
  const bool par = detail::worth_parallel(y.numel() * kernel * kernel);
#pragma omp parallel if (par)
  {
    std::vector<float> hs(static_cast<std::size_t>(H) * Wo);
#pragma omp for schedule(static)
    for (int pl = 0; pl < planes; ++pl) {
      const float* xin = xv.data() + pl * ip;
      for (int ih = 0; ih < H; ++ih) {
        const float* xr = xin + static_cast<std::size_t>(ih) * W;
        float* hr = hs.data() + static_cast<std::size_t>(ih) * Wo;
        for (int ow = 0; ow < Wo; ++ow) {
          float acc = 0.0f;
          for (int iw = cols->lo[ow]; iw < cols->hi[ow]; ++iw) acc += xr[iw];
          hr[ow] = acc;
        }
      }
      float* yo = y.data() + pl * op;
      for (int oh = 0; oh < Ho; ++oh) {
        float* __restrict yr = yo + static_cast<std::size_t>(oh) * Wo;
        const float* cnt = count->data() + static_cast<std::size_t>(oh) * Wo;
        const float* h0r = hs.data() + static_cast<std::size_t>(rows->lo[oh]) * Wo;
        for (int ow = 0; ow < Wo; ++ow) yr[ow] = h0r[ow];
        for (int ih = rows->lo[oh] + 1; ih < rows->hi[oh]; ++ih) {
          const float* __restrict hr = hs.data() + static_cast<std::size_t>(ih) * Wo;
#pragma omp simd
          for (int ow = 0; ow < Wo; ++ow) yr[ow] += hr[ow];
        }
#pragma omp simd
        for (int ow = 0; ow < Wo; ++ow) yr[ow] /= cnt[ow];
      }
    }
  }
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, rows, cols, count, planes, H, W, Ho, Wo, ip, op, par]() mutable {
      const float* dy = out.grad().data();
      float* dx = x.grad_mut().data();
#pragma omp parallel if (par)
      {
        // gv[ih][ow]: the gradient of every output column, spread down the rows it averaged.
        std::vector<float> gv(static_cast<std::size_t>(H) * Wo);
#pragma omp for schedule(static)
        for (int pl = 0; pl < planes; ++pl) {
          std::fill(gv.begin(), gv.end(), 0.0f);
          const float* dyo = dy + pl * op;
          for (int oh = 0; oh < Ho; ++oh) {
            const float* dyr = dyo + static_cast<std::size_t>(oh) * Wo;
            const float* cnt = count->data() + static_cast<std::size_t>(oh) * Wo;
            for (int ih = rows->lo[oh]; ih < rows->hi[oh]; ++ih) {
              float* __restrict gr = gv.data() + static_cast<std::size_t>(ih) * Wo;
#pragma omp simd
              for (int ow = 0; ow < Wo; ++ow) gr[ow] += dyr[ow] / cnt[ow];
            }
          }
          float* dxi = dx + pl * ip;
          for (int ih = 0; ih < H; ++ih) {
            const float* gr = gv.data() + static_cast<std::size_t>(ih) * Wo;
            float* dxr = dxi + static_cast<std::size_t>(ih) * W;
            for (int ow = 0; ow < Wo; ++ow) {
              const float g = gr[ow];
              for (int iw = cols->lo[ow]; iw < cols->hi[ow]; ++iw) dxr[iw] += g;
            }
          }
        }
      }
    });
  }
  return out;
}

Var add(Tape& tape, const Var& a, const Var& b) {
  require_same_shape("add", a, b);
  Tensor y = Tensor::uninitialized(a.shape());
  y.vec() = a.value().vec() + b.value().vec();
  Var out(std::move(y));
  if (tape.needs_grad({&a, &b})) {
    tape.record(out, [a, b, out]() mutable {
      accumulate(a, out.grad());
      accumulate(b, out.grad());
    });
  }
  return out;
}

Var add_n(Tape& tape, const std::vector<Var>& xs) {
  if (xs.empty()) throw std::invalid_argument("add_n: no inputs");
  Tensor y = xs[0].value();
  for (std::size_t i = 1; i < xs.size(); ++i) {
    require_same_shape("add_n", xs[0], xs[i]);
    y.vec() += xs[i].value().vec();
  }
  Var out(std::move(y));
  if (tape.needs_grad(xs)) {
    tape.record(out, [xs, out]() mutable {
      for (const Var& v : xs) accumulate(v, out.grad());
    });
  }
  return out;
}

Var mul(Tape& tape, const Var& a, const Var& b) {
  require_same_shape("mul", a, b);
  Tensor y = Tensor::uninitialized(a.shape());
  y.vec() = a.value().vec().cwiseProduct(b.value().vec());
  Var out(std::move(y));
  if (tape.needs_grad({&a, &b})) {
    tape.record(out, [a, b, out]() mutable {
      if (a.requires_grad()) a.grad_mut().vec() += out.grad().vec().cwiseProduct(b.value().vec());
      if (b.requires_grad()) b.grad_mut().vec() += out.grad().vec().cwiseProduct(a.value().vec());
    });
  }
  return out;
}

Var mul_scalar(Tape& tape, const Var& x, float s) {
  Tensor y = Tensor::uninitialized(x.shape());
  y.vec() = s * x.value().vec();
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, s]() mutable { x.grad_mut().vec() += s * out.grad().vec(); });
  }
  return out;
}

Var scale(Tape& tape, const Var& x, const Var& s) {
  if (s.numel() != 1) throw std::invalid_argument("scale: factor has shape " + shape_to_string(s.shape()));
  const float sv = s.value()[0];
  Tensor y = Tensor::uninitialized(x.shape());
  y.vec() = sv * x.value().vec();
  Var out(std::move(y));
  if (tape.needs_grad({&x, &s})) {
    tape.record(out, [x, s, out]() mutable {
      if (x.requires_grad()) x.grad_mut().vec() += s.value()[0] * out.grad().vec();
      if (s.requires_grad()) s.grad_mut()[0] += out.grad().vec().dot(x.value().vec());
    });
  }
  return out;
}

Var weighted_sum(Tape& tape, const std::vector<Var>& xs, const Var& w) {
  if (xs.empty() || static_cast<std::int64_t>(xs.size()) != w.numel()) {
    throw std::invalid_argument("weighted_sum: " + std::to_string(xs.size()) + " inputs and weights of shape " +
                                shape_to_string(w.shape()));
  }
  const Var* first = nullptr;
  for (const Var& v : xs) {
    if (!v.defined()) continue;
    if (!first) first = &v;
    require_same_shape("weighted_sum", *first, v);
  }
  if (!first) throw std::invalid_argument("weighted_sum: every input is undefined (no shape to produce)");
  // The first defined term is assigned (0 + w*x is w*x exactly), the others added.
  Tensor y = Tensor::uninitialized(first->shape());
  auto yv = y.vec();
  bool assigned = false;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined()) continue;
    const float wi = w.value()[static_cast<std::int64_t>(i)];
    if (assigned) {
      yv += wi * xs[i].value().vec();
    } else {
      yv = wi * xs[i].value().vec();
      assigned = true;
    }
  }
  Var out(std::move(y));
  bool need = tape.grad_enabled() && w.requires_grad();
  for (const Var& v : xs) need = need || (tape.grad_enabled() && v.requires_grad());
  if (need) {
    tape.record(out, [xs, w, out]() mutable {
      const auto dy = out.grad().vec();
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const Var& v = xs[i];
        if (!v.defined()) continue;
        const auto k = static_cast<std::int64_t>(i);
        if (v.requires_grad()) {
          bool fresh = false;
          Tensor& dv = v.grad_for_write(fresh);
          if (fresh) {
            dv.vec() = w.value()[k] * dy;
          } else {
            dv.vec() += w.value()[k] * dy;
          }
        }
        if (w.requires_grad()) w.grad_mut()[k] += dy.dot(v.value().vec());
      }
    });
  }
  return out;
}

Var concat_channels(Tape& tape, const std::vector<Var>& xs) {
  if (xs.empty()) throw std::invalid_argument("concat_channels: no inputs");
  for (const Var& v : xs) require_4d("concat_channels", v);
  const Tensor& f = xs[0].value();
  int C = 0;
  for (const Var& v : xs) {
    const Tensor& t = v.value();
    if (t.n() != f.n() || t.h() != f.h() || t.w() != f.w()) {
      throw std::invalid_argument("concat_channels: shapes " + shape_to_string(f.shape()) + " and " +
                                  shape_to_string(t.shape()) + " differ outside dim 1");
    }
    C += t.c();
  }
  const int N = f.n();
  const std::size_t plane = static_cast<std::size_t>(f.h()) * f.w();
  Tensor y = Tensor::uninitialized({N, C, f.h(), f.w()});
  for (int n = 0; n < N; ++n) {
    float* dst = y.data() + static_cast<std::size_t>(n) * C * plane;
    for (const Var& v : xs) {
      const std::size_t len = static_cast<std::size_t>(v.value().c()) * plane;
      const float* src = v.value().data() + n * len;
      std::copy(src, src + len, dst);
      dst += len;
    }
  }
  Var out(std::move(y));
  if (tape.needs_grad(xs)) {
    tape.record(out, [xs, out, N, C, plane]() mutable {
      const float* dy = out.grad().data();
      std::size_t off = 0;
      for (const Var& v : xs) {
        const std::size_t len = static_cast<std::size_t>(v.value().c()) * plane;
        if (v.requires_grad()) {
          float* dx = v.grad_mut().data();
          for (int n = 0; n < N; ++n) {
            const float* src = dy + static_cast<std::size_t>(n) * C * plane + off;
            float* dst = dx + n * len;
            for (std::size_t i = 0; i < len; ++i) dst[i] += src[i];
          }
        }
        off += len;
      }
    });
  }
  return out;
}

Var slice_channels(Tape& tape, const Var& x, int begin, int end) {
  require_4d("slice_channels", x);
  const Tensor& xv = x.value();
  if (begin < 0 || end > xv.c() || begin >= end) {
    throw std::invalid_argument("slice_channels: [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") of " + shape_to_string(xv.shape()));
  }
  const int N = xv.n(), C = xv.c(), Cs = end - begin;
  const std::size_t plane = static_cast<std::size_t>(xv.h()) * xv.w();
  Tensor y = Tensor::uninitialized({N, Cs, xv.h(), xv.w()});
  for (int n = 0; n < N; ++n) {
    const float* src = xv.data() + (static_cast<std::size_t>(n) * C + begin) * plane;
    std::copy(src, src + Cs * plane, y.data() + static_cast<std::size_t>(n) * Cs * plane);
  }
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, N, C, Cs, begin, plane]() mutable {
      float* dx = x.grad_mut().data();
      const float* dy = out.grad().data();
      for (int n = 0; n < N; ++n) {
        float* dst = dx + (static_cast<std::size_t>(n) * C + begin) * plane;
        const float* src = dy + static_cast<std::size_t>(n) * Cs * plane;
        for (std::size_t i = 0; i < Cs * plane; ++i) dst[i] += src[i];
      }
    });
  }
  return out;
}

Var shift_crop(Tape& tape, const Var& x) {
  require_4d("shift_crop", x);
  const Tensor& xv = x.value();
  const int N = xv.n(), C = xv.c(), H = xv.h(), W = xv.w();
  if (H < 2 || W < 2) throw std::invalid_argument("shift_crop: input " + shape_to_string(xv.shape()) + " too small");
  Tensor y = Tensor::uninitialized({N, C, H - 1, W - 1});
  const int planes = N * C;
  for (int pl = 0; pl < planes; ++pl) {
    for (int h = 1; h < H; ++h) {
      const float* src = xv.data() + (static_cast<std::size_t>(pl) * H + h) * W + 1;
      std::copy(src, src + (W - 1), y.data() + (static_cast<std::size_t>(pl) * (H - 1) + (h - 1)) * (W - 1));
    }
  }
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, planes, H, W]() mutable {
      float* dx = x.grad_mut().data();
      const float* dy = out.grad().data();
      for (int pl = 0; pl < planes; ++pl)
        for (int h = 1; h < H; ++h) {
          float* dst = dx + (static_cast<std::size_t>(pl) * H + h) * W + 1;
          const float* src = dy + (static_cast<std::size_t>(pl) * (H - 1) + (h - 1)) * (W - 1);
          for (int i = 0; i < W - 1; ++i) dst[i] += src[i];
        }
    });
  }
  return out;
}

Var zero(Tape& /*tape*/, const Var& x, int stride) {
  require_4d("zero", x);
  if (stride < 1) throw std::invalid_argument("zero: stride must be >= 1");
  const Tensor& xv = x.value();
  return Var(Tensor({xv.n(), xv.c(), (xv.h() + stride - 1) / stride, (xv.w() + stride - 1) / stride}));
}

Var global_avg_pool(Tape& tape, const Var& x) {
  require_4d("global_avg_pool", x);
  const Tensor& xv = x.value();
  const int N = xv.n(), C = xv.c();
  const std::int64_t plane = static_cast<std::int64_t>(xv.h()) * xv.w();
  Tensor y = Tensor::uninitialized({N, C});
  y.vec() = xv.mat(static_cast<std::int64_t>(N) * C, plane).rowwise().mean();
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, N, C, plane]() mutable {
      MatMap dx = x.grad_mut().mat(static_cast<std::int64_t>(N) * C, plane);
      const auto dy = out.grad().vec();
      dx.colwise() += dy / static_cast<float>(plane);
    });
  }
  return out;
}

Var reshape(Tape& tape, const Var& x, const Shape& shape) {
  Var out(x.value().reshaped(shape));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out]() mutable { x.grad_mut().vec() += out.grad().vec(); });
  }
  return out;
}

Var row(Tape& tape, const Var& x, int r) {
  const Tensor& xv = x.value();
  if (xv.ndim() != 2 || r < 0 || r >= xv.dim(0)) {
    throw std::invalid_argument("row: row " + std::to_string(r) + " of " + shape_to_string(xv.shape()));
  }
  const int cols = xv.dim(1);
  Tensor y = Tensor::uninitialized({cols});
  std::copy(xv.data() + static_cast<std::size_t>(r) * cols, xv.data() + static_cast<std::size_t>(r + 1) * cols,
            y.data());
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, r, cols]() mutable {
      float* dx = x.grad_mut().data() + static_cast<std::size_t>(r) * cols;
      for (int i = 0; i < cols; ++i) dx[i] += out.grad()[i];
    });
  }
  return out;
}

Var sum(Tape& tape, const Var& x) {
  Tensor y({1}, x.value().sum());
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out]() mutable { x.grad_mut().vec().array() += out.grad()[0]; });
  }
  return out;
}

Var dot_const(Tape& tape, const Var& x, const Tensor& c) {
  if (c.numel() != x.numel()) {
    throw std::invalid_argument("dot_const: shapes " + shape_to_string(x.shape()) + " and " + shape_to_string(c.shape()));
  }
  Tensor y({1}, x.value().vec().dot(c.vec()));
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, c]() mutable { x.grad_mut().vec() += out.grad()[0] * c.vec(); });
  }
  return out;
}

Var dropout(Tape& tape, const Var& x, float p, std::mt19937_64& rng, bool training) {
  if (p < 0.0f || p >= 1.0f) throw std::invalid_argument("dropout: p must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  auto mask = std::make_shared<Tensor>(x.shape());
  std::bernoulli_distribution keep(1.0 - p);
  const float k = 1.0f / (1.0f - p);
  for (std::int64_t i = 0; i < mask->numel(); ++i) (*mask)[i] = keep(rng) ? k : 0.0f;
  Tensor y = Tensor::uninitialized(x.shape());
  y.vec() = x.value().vec().cwiseProduct(mask->vec());
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, mask]() mutable { x.grad_mut().vec() += out.grad().vec().cwiseProduct(mask->vec()); });
  }
  return out;
}

Var drop_path(Tape& tape, const Var& x, float p, std::mt19937_64& rng, bool training) {
  if (p < 0.0f || p >= 1.0f) throw std::invalid_argument("drop_path: p must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  const int N = x.value().dim(0);
  const std::int64_t per = x.numel() / N;
  auto factors = std::make_shared<std::vector<float>>(static_cast<std::size_t>(N));
  std::bernoulli_distribution keep(1.0 - p);
  const float k = 1.0f / (1.0f - p);
  for (auto& f : *factors) f = keep(rng) ? k : 0.0f;
  Tensor y = Tensor::uninitialized(x.shape());
  for (int n = 0; n < N; ++n) {
    y.mat(N, per).row(n) = (*factors)[static_cast<std::size_t>(n)] * x.value().mat(N, per).row(n);
  }
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, factors, N, per]() mutable {
      MatMap dx = x.grad_mut().mat(N, per);
      ConstMatMap dy = out.grad().mat(N, per);
      for (int n = 0; n < N; ++n) dx.row(n) += (*factors)[static_cast<std::size_t>(n)] * dy.row(n);
    });
  }
  return out;
}

}  // namespace hwnas::nas
