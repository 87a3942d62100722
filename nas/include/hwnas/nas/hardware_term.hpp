#pragma once
// The hardware term of the architecture loss. E[cost] is linear in p = softmax(alpha) per edge,
// so its gradient has a closed form, dE/dalpha_k = p_k (c_k - p.c), and needs no autograd.
//
//   plain:  penalty = gamma * E_n
//   budget: penalty = gamma * max(0, E_n - target_n)   (zero below the budget; the kink at
//           the target takes the zero subgradient)
//
// E_n is the expectation in the chosen normalisation (EdgeCosts::normalized plus
// normalized_offset); a budget is given in raw metric units (e.g. cycles) and converted to the
// same units, which exists for `none` and `network_max` only.
#include <array>
#include <optional>

#include <Eigen/Core>

#include "hwnas/nas/cost_table.hpp"

namespace hwnas::nas {

Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& alpha);

// sum over rows and columns of softmax(alpha) .* cost; its gradient w.r.t. alpha into *grad
// (same shape) when grad is non-null.
double expected_cost(const Eigen::MatrixXd& alpha, const Eigen::MatrixXd& cost, Eigen::MatrixXd* grad);

struct HardwareTermValue {
  double expected_raw = 0;         // fixed parts + sum over edges of p.c in metric units
  double expected_normalized = 0;  // E_n
  double penalty = 0;              // what is added to the alpha loss
  std::array<Eigen::MatrixXd, 2> grad;  // d penalty / d alpha, [CellType]
};

class HardwareTerm {
 public:
  HardwareTerm() = default;
  // budget_raw: the target in raw metric units; InputError for per_edge_max.
  HardwareTerm(EdgeCosts costs, double gamma, std::optional<double> budget_raw);
  HardwareTermValue evaluate(const Eigen::MatrixXd& alpha_normal, const Eigen::MatrixXd& alpha_reduce) const;
  const EdgeCosts& costs() const { return costs_; }
  double gamma() const { return gamma_; }
  bool has_budget() const { return budget_normalized_.has_value(); }
  double budget_normalized() const { return budget_normalized_.value_or(0.0); }
  bool enabled() const { return enabled_; }

 private:
  EdgeCosts costs_;
  double gamma_ = 0;
  std::optional<double> budget_normalized_;
  bool enabled_ = false;
};

}  // namespace hwnas::nas
