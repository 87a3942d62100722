#include "hwnas/nas/optim.hpp"

#include <cmath>
#include <stdexcept>

namespace hwnas::nas {

Sgd::Sgd(std::vector<Var> params, SgdOptions options)
    : params_(std::move(params)), options_(options), buffers_(params_.size()) {
  if (options_.lr < 0.0f || options_.momentum < 0.0f || options_.weight_decay < 0.0f) {
    throw std::invalid_argument("Sgd: lr, momentum and weight_decay must be >= 0");
  }
  if (options_.nesterov && (options_.momentum <= 0.0f || options_.dampening != 0.0f)) {
    throw std::invalid_argument("Sgd: nesterov needs momentum > 0 and dampening 0");
  }
}

void Sgd::step() {
  const SgdOptions& o = options_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i];
    if (!p.has_grad()) continue;
    Eigen::VectorXf d = p.grad().vec();
    if (o.weight_decay != 0.0f) d += o.weight_decay * p.value().vec();
    if (o.momentum != 0.0f) {
      Tensor& buf = buffers_[i];
      if (buf.empty()) {
        buf = Tensor(p.shape());
        buf.vec() = d;
      } else {
        buf.vec() = o.momentum * buf.vec() + (1.0f - o.dampening) * d;
      }
      if (o.nesterov) {
        d += o.momentum * buf.vec();
      } else {
        d = buf.vec();
      }
    }
    p.value().vec() -= o.lr * d;
  }
}

void Sgd::zero_grad() { zero_grads(params_); }

Adam::Adam(std::vector<Var> params, AdamOptions options)
    : params_(std::move(params)), options_(options), m_(params_.size()), v_(params_.size()), t_(params_.size(), 0) {
  if (options_.lr < 0.0f || options_.eps < 0.0f || options_.weight_decay < 0.0f || options_.beta1 < 0.0 ||
      options_.beta1 >= 1.0 || options_.beta2 < 0.0 || options_.beta2 >= 1.0) {
    throw std::invalid_argument("Adam: bad lr, betas, eps or weight_decay");
  }
}

void Adam::step() {
  const AdamOptions& o = options_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i];
    if (!p.has_grad()) continue;
    Eigen::VectorXf g = p.grad().vec();
    if (o.weight_decay != 0.0f) g += o.weight_decay * p.value().vec();
    if (m_[i].empty()) {
      m_[i] = Tensor(p.shape());
      v_[i] = Tensor(p.shape());
    }
    const std::int64_t t = ++t_[i];
    const auto b1 = static_cast<float>(o.beta1), c1 = static_cast<float>(1.0 - o.beta1);
    const auto b2 = static_cast<float>(o.beta2), c2 = static_cast<float>(1.0 - o.beta2);
    m_[i].vec() = b1 * m_[i].vec() + c1 * g;
    v_[i].vec() = b2 * v_[i].vec() + c2 * g.cwiseProduct(g);
    const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
    const float step_size = static_cast<float>(o.lr / bc1);
    const float sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
    float* pv = p.value().data();
    const float* m = m_[i].data();
    const float* v = v_[i].data();
    for (std::int64_t k = 0; k < p.numel(); ++k) pv[k] -= step_size * m[k] / (std::sqrt(v[k]) / sqrt_bc2 + o.eps);
  }
}

void Adam::zero_grad() { zero_grads(params_); }

void Adam::set_state(std::size_t i, Tensor exp_avg, Tensor exp_avg_sq, std::int64_t steps) {
  if (i >= params_.size() || exp_avg.shape() != params_[i].shape() || exp_avg_sq.shape() != params_[i].shape() ||
      steps < 0) {
    throw std::invalid_argument("Adam::set_state: state does not match parameter " + std::to_string(i));
  }
  m_[i] = std::move(exp_avg);
  v_[i] = std::move(exp_avg_sq);
  t_[i] = steps;
}

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
  double sq = 0.0;
  for (const Var& p : params) {
    if (p.has_grad()) sq += static_cast<double>(p.grad().vec().squaredNorm());
  }
  const float total = static_cast<float>(std::sqrt(sq));
  const float coef = max_norm / (total + 1e-6f);
  if (coef < 1.0f) {
    for (Var p : params) {
      if (p.has_grad()) p.grad_mut() *= coef;
    }
  }
  return total;
}

float cosine_annealing_lr(float base_lr, float eta_min, int epoch, int t_max) {
  if (t_max <= 0) throw std::invalid_argument("cosine_annealing_lr: t_max must be > 0");
  const double pi = 3.14159265358979323846;
  return static_cast<float>(eta_min + (base_lr - eta_min) * (1.0 + std::cos(pi * epoch / t_max)) / 2.0);
}

void zero_grads(const std::vector<Var>& params) {
  for (Var p : params) p.zero_grad();
}

}  // namespace hwnas::nas
