// Batch normalisation (PyTorch BatchNorm2d / BatchNorm1d semantics).
#include <cmath>
#include <stdexcept>
#include <vector>

#include "hwnas/nas/ops.hpp"
#include "ops_parallel.hpp"

namespace hwnas::nas {

BatchNormState BatchNormState::make(int channels, bool affine) {
  if (channels < 1) throw std::invalid_argument("BatchNormState::make: channels must be >= 1");
  BatchNormState bn;
  bn.channels = channels;
  bn.affine = affine;
  if (affine) {
    bn.gamma = make_parameter(Tensor::full({channels}, 1.0f), "bn.weight");
    bn.beta = make_parameter(Tensor::zeros({channels}), "bn.bias");
  }
  bn.running_mean = Tensor::zeros({channels});
  bn.running_var = Tensor::full({channels}, 1.0f);
  return bn;
}

std::vector<Var> BatchNormState::parameters() const {
  if (!affine) return {};
  return {gamma, beta};
}

namespace {

struct BnGeom {
  int n, c;
  std::int64_t plane;  // H*W (1 for 2-D input)
};

BnGeom bn_geom(const Tensor& x, const BatchNormState& bn) {
  if (x.ndim() != 4 && x.ndim() != 2) {
    throw std::invalid_argument("batch_norm: input " + shape_to_string(x.shape()) + " must be 2-D or 4-D");
  }
  BnGeom g{x.dim(0), x.dim(1), x.ndim() == 4 ? static_cast<std::int64_t>(x.h()) * x.w() : 1};
  if (g.c != bn.channels) {
    throw std::invalid_argument("batch_norm: input " + shape_to_string(x.shape()) + " has " + std::to_string(g.c) +
                                " channels, the layer " + std::to_string(bn.channels));
  }
  return g;
}

}  // namespace

Var batch_norm(Tape& tape, const Var& x, BatchNormState& bn, bool training) {
  const Tensor& xv = x.value();
  const BnGeom g = bn_geom(xv, bn);
  const std::int64_t m = static_cast<std::int64_t>(g.n) * g.plane;
  if (training && m < 2) {
    throw std::invalid_argument("batch_norm: training needs more than one value per channel, input " +
                                shape_to_string(xv.shape()));
  }
  // Per channel: the mean subtracted and 1/sqrt(var + eps), kept for backward.
  auto mean = std::make_shared<std::vector<float>>(static_cast<std::size_t>(g.c));
  auto invstd = std::make_shared<std::vector<float>>(static_cast<std::size_t>(g.c));
  Tensor y = Tensor::uninitialized(xv.shape());
  const float* gamma = bn.affine ? bn.gamma.value().data() : nullptr;
  const float* beta = bn.affine ? bn.beta.value().data() : nullptr;
  const float* xd = xv.data();
  float* yd = y.data();
  const std::int64_t cstride = static_cast<std::int64_t>(g.c) * g.plane;
  const bool par = detail::worth_parallel(xv.numel());
#pragma omp parallel for schedule(static) if (par)
  for (int c = 0; c < g.c; ++c) {
    float mu, var;
    if (training) {
      double s = 0.0;
      for (int n = 0; n < g.n; ++n) {
        const float* p = xd + n * cstride + c * g.plane;
        float ps = 0.0f;
#pragma omp simd reduction(+ : ps)
        for (std::int64_t i = 0; i < g.plane; ++i) ps += p[i];
        s += ps;
      }
      mu = static_cast<float>(s / static_cast<double>(m));
      double ss = 0.0;
      for (int n = 0; n < g.n; ++n) {
        const float* p = xd + n * cstride + c * g.plane;
        float ps = 0.0f;
#pragma omp simd reduction(+ : ps)
        for (std::int64_t i = 0; i < g.plane; ++i) {
          const float d = p[i] - mu;
          ps += d * d;
        }
        ss += ps;
      }
      var = static_cast<float>(ss / static_cast<double>(m));
      const float unbiased = static_cast<float>(ss / static_cast<double>(m - 1));
      bn.running_mean[c] = (1.0f - bn.momentum) * bn.running_mean[c] + bn.momentum * mu;
      bn.running_var[c] = (1.0f - bn.momentum) * bn.running_var[c] + bn.momentum * unbiased;
    } else {
      mu = bn.running_mean[c];
      var = bn.running_var[c];
    }
    const float is = 1.0f / std::sqrt(var + bn.eps);
    (*mean)[static_cast<std::size_t>(c)] = mu;
    (*invstd)[static_cast<std::size_t>(c)] = is;
    const float a = gamma ? gamma[c] * is : is;
    const float b = (beta ? beta[c] : 0.0f) - mu * a;
    for (int n = 0; n < g.n; ++n) {
      const float* p = xd + n * cstride + c * g.plane;
      float* q = yd + n * cstride + c * g.plane;
      for (std::int64_t i = 0; i < g.plane; ++i) q[i] = a * p[i] + b;
    }
  }
  if (training) ++bn.num_batches_tracked;
  Var out(std::move(y));
  std::vector<const Var*> ins{&x};
  if (bn.affine) {
    ins.push_back(&bn.gamma);
    ins.push_back(&bn.beta);
  }
  bool need = false;
  for (const Var* v : ins) need = need || v->requires_grad();
  if (tape.grad_enabled() && need) {
    Var gamma_v = bn.gamma, beta_v = bn.beta;
    tape.record(out, [x, gamma_v, beta_v, out, mean, invstd, training, g, m, par]() mutable {
      const float* xd = x.value().data();
      const float* dyd = out.grad().data();
      const bool affine = gamma_v.defined();
      const float* gam = affine ? gamma_v.value().data() : nullptr;
      bool fresh = false;
      float* dx = x.requires_grad() ? x.grad_for_write(fresh).data() : nullptr;
      float* dgam = affine && gamma_v.requires_grad() ? gamma_v.grad_mut().data() : nullptr;
      float* dbet = affine && beta_v.requires_grad() ? beta_v.grad_mut().data() : nullptr;
      const std::int64_t cstride = static_cast<std::int64_t>(g.c) * g.plane;
#pragma omp parallel for schedule(static) if (par)
      for (int c = 0; c < g.c; ++c) {
        const float mu = (*mean)[static_cast<std::size_t>(c)];
        const float is = (*invstd)[static_cast<std::size_t>(c)];
        // sum(dy) and sum(dy * xhat) over the channel.
        double sdy = 0.0, sdyx = 0.0;
        for (int n = 0; n < g.n; ++n) {
          const float* p = xd + n * cstride + c * g.plane;
          const float* d = dyd + n * cstride + c * g.plane;
          float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
          for (std::int64_t i = 0; i < g.plane; ++i) {
            a += d[i];
            b += d[i] * (p[i] - mu);
          }
          sdy += a;
          sdyx += b;
        }
        sdyx *= is;
        if (dgam) dgam[c] += static_cast<float>(sdyx);
        if (dbet) dbet[c] += static_cast<float>(sdy);
        if (!dx) continue;
        const float gm = gam ? gam[c] : 1.0f;
        if (training) {
          // dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))
          const float k = gm * is;
          const float mean_dy = static_cast<float>(sdy / static_cast<double>(m));
          const float mean_dyx = static_cast<float>(sdyx / static_cast<double>(m));
          for (int n = 0; n < g.n; ++n) {
            const float* p = xd + n * cstride + c * g.plane;
            const float* d = dyd + n * cstride + c * g.plane;
            float* q = dx + n * cstride + c * g.plane;
            // A fresh dx buffer is uninitialised: assign instead of adding.
            if (fresh) {
              for (std::int64_t i = 0; i < g.plane; ++i) q[i] = k * (d[i] - mean_dy - (p[i] - mu) * is * mean_dyx);
            } else {
              for (std::int64_t i = 0; i < g.plane; ++i) q[i] += k * (d[i] - mean_dy - (p[i] - mu) * is * mean_dyx);
            }
          }
        } else {
          const float k = gm * is;
          for (int n = 0; n < g.n; ++n) {
            const float* d = dyd + n * cstride + c * g.plane;
            float* q = dx + n * cstride + c * g.plane;
            if (fresh) {
              for (std::int64_t i = 0; i < g.plane; ++i) q[i] = k * d[i];
            } else {
              for (std::int64_t i = 0; i < g.plane; ++i) q[i] += k * d[i];
            }
          }
        }
      }
    });
  }
  return out;
}

}  // namespace hwnas::nas
