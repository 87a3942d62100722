#include <cmath>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/hardware_term.hpp"

namespace hwnas::nas {

Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& alpha) {
  Eigen::MatrixXd p(alpha.rows(), alpha.cols());
  for (Eigen::Index r = 0; r < alpha.rows(); ++r) {
    const double m = alpha.row(r).maxCoeff();
    double s = 0;
    for (Eigen::Index c = 0; c < alpha.cols(); ++c) s += (p(r, c) = std::exp(alpha(r, c) - m));
    p.row(r) /= s;
  }
  return p;
}

double expected_cost(const Eigen::MatrixXd& alpha, const Eigen::MatrixXd& cost, Eigen::MatrixXd* grad) {
  const Eigen::MatrixXd p = softmax_rows(alpha);
  double total = 0;
  if (grad) grad->resize(alpha.rows(), alpha.cols());
  for (Eigen::Index r = 0; r < alpha.rows(); ++r) {
    const double e = p.row(r).dot(cost.row(r));
    total += e;
    if (grad)
      for (Eigen::Index c = 0; c < alpha.cols(); ++c) (*grad)(r, c) = p(r, c) * (cost(r, c) - e);
  }
  return total;
}

HardwareTerm::HardwareTerm(EdgeCosts costs, double gamma, std::optional<double> budget_raw)
    : costs_(std::move(costs)), gamma_(gamma), enabled_(true) {
  if (!std::isfinite(gamma) || gamma < 0)
    throw InputError("--gamma", "gamma " + std::to_string(gamma) + " must be finite and >= 0");
  if (budget_raw) {
    switch (costs_.normalization) {
      case CostNormalization::kNone: budget_normalized_ = *budget_raw; break;
      case CostNormalization::kNetworkMax:
        budget_normalized_ = costs_.network_max_raw > 0 ? *budget_raw / costs_.network_max_raw : 0.0;
        break;
      case CostNormalization::kPerEdgeMax:
        throw InputError("--budget",
                         "a budget in raw units has no per_edge_max equivalent; use --normalization none or network_max");
    }
  }
}

HardwareTermValue HardwareTerm::evaluate(const Eigen::MatrixXd& alpha_normal,
                                         const Eigen::MatrixXd& alpha_reduce) const {
  HardwareTermValue v;
  if (!enabled_) {
    v.grad[0] = Eigen::MatrixXd::Zero(alpha_normal.rows(), alpha_normal.cols());
    v.grad[1] = Eigen::MatrixXd::Zero(alpha_reduce.rows(), alpha_reduce.cols());
    return v;
  }
  const Eigen::MatrixXd* alphas[2] = {&alpha_normal, &alpha_reduce};
  v.expected_raw = costs_.fixed_raw;
  v.expected_normalized = costs_.normalized_offset;
  for (int t = 0; t < 2; ++t) {
    v.expected_raw += expected_cost(*alphas[t], costs_.raw[t], nullptr);
    v.expected_normalized += expected_cost(*alphas[t], costs_.normalized[t], &v.grad[t]);
  }
  double scale = gamma_;
  if (budget_normalized_) {
    const double excess = v.expected_normalized - *budget_normalized_;
    v.penalty = excess > 0 ? gamma_ * excess : 0.0;
    if (excess <= 0) scale = 0;
  } else {
    v.penalty = gamma_ * v.expected_normalized;
  }
  for (auto& g : v.grad) g *= scale;
  return v;
}

}  // namespace hwnas::nas
