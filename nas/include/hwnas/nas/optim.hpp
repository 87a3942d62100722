#pragma once
// Optimisers over parameter lists, with PyTorch's update rules (torch.optim.SGD, torch.optim.Adam,
// torch.nn.utils.clip_grad_norm_, CosineAnnealingLR) so DARTS hyper-parameters carry over.
// Parameters with no gradient (has_grad() false) are skipped by step(), as in PyTorch.
#include <cstdint>
#include <vector>

#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {

struct SgdOptions {
  float lr = 0.025f;
  float momentum = 0.0f;
  float dampening = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

// d = g + wd*p; buf = d on the first step, else momentum*buf + (1-dampening)*d;
// d = nesterov ? d + momentum*buf : buf; p -= lr*d.
class Sgd {
 public:
  Sgd(std::vector<Var> params, SgdOptions options);
  void step();
  void zero_grad();
  float lr() const { return options_.lr; }
  void set_lr(float lr) { options_.lr = lr; }
  const SgdOptions& options() const { return options_; }
  const std::vector<Var>& params() const { return params_; }
  // Momentum buffer of params()[i]; empty before that parameter's first step. DARTS's
  // second-order architect reads it for the virtual step.
  const Tensor& momentum_buffer(std::size_t i) const { return buffers_[i]; }
  Tensor& momentum_buffer(std::size_t i) { return buffers_[i]; }

 private:
  std::vector<Var> params_;
  SgdOptions options_;
  std::vector<Tensor> buffers_;
};

struct AdamOptions {
  float lr = 3e-4f;
  // Betas are double, like PyTorch's Python floats: 1 - 0.999f in float loses 1e-5 relative.
  double beta1 = 0.9;
  double beta2 = 0.999;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // L2 added to the gradient (torch.optim.Adam, not AdamW)
};

// g = grad + wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; t += 1;
// p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
class Adam {
 public:
  Adam(std::vector<Var> params, AdamOptions options);
  void step();
  void zero_grad();
  float lr() const { return options_.lr; }
  void set_lr(float lr) { options_.lr = lr; }
  const AdamOptions& options() const { return options_; }
  const std::vector<Var>& params() const { return params_; }
  // Per-parameter state (for checkpoints): first and second moments, step count.
  const Tensor& exp_avg(std::size_t i) const { return m_[i]; }
  const Tensor& exp_avg_sq(std::size_t i) const { return v_[i]; }
  std::int64_t steps(std::size_t i) const { return t_[i]; }
  void set_state(std::size_t i, Tensor exp_avg, Tensor exp_avg_sq, std::int64_t steps);

 private:
  std::vector<Var> params_;
  AdamOptions options_;
  std::vector<Tensor> m_;
  std::vector<Tensor> v_;
  std::vector<std::int64_t> t_;
};

// Scales all gradients by max_norm / (total_norm + 1e-6) when that factor is below 1, where
// total_norm is the L2 norm of all gradients together. Returns total_norm (before clipping).
float clip_grad_norm(const std::vector<Var>& params, float max_norm);

// CosineAnnealingLR's closed form: eta_min + (base_lr - eta_min) * (1 + cos(pi*epoch/t_max)) / 2.
float cosine_annealing_lr(float base_lr, float eta_min, int epoch, int t_max);

// Zeroes the grads of every parameter in the list.
void zero_grads(const std::vector<Var>& params);

}  // namespace hwnas::nas
