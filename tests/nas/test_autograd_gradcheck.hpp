#pragma once
// Finite-difference gradient checking shared by the nas op tests.
//
// check_gradients(f, leaves) builds y = f(tape) and checks d<R, y>/d leaf for a fixed random R
// (so every output element's gradient path is exercised), analytic (tape.backward with seed R)
// against central differences (<R, f(x + e)> - <R, f(x - e)>) / 2e, the projection summed in
// double. Tolerance: float32 forward passes make the projected value carry a rounding error of
// about 1e-7 * sum|R*y|; divided by 2e = 1e-2 that stays below 1e-4 for these small tensors, and
// the central-difference truncation error is e^2/6 * f''' ~ 1e-5 * f'''. atol 2e-3 plus 1% of
// the gradient's magnitude covers both with margin and still catches any wrong term (a missing
// or doubled contribution is an O(1) relative error).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/ops.hpp"
#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas::testing {

struct GradCheckOptions {
  float eps = 5e-3f;
  float atol = 2e-3f;
  float rtol = 1e-2f;
  std::uint64_t seed = 99;
};

inline double project(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (std::int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

// Returns the number of mismatching elements (0 on success) and adds a gtest failure per leaf.
inline int check_gradients(const std::function<Var(Tape&)>& f, std::vector<Var> leaves,
                           const GradCheckOptions& opt = {}) {
  std::mt19937_64 rng(opt.seed);
  Tensor r;
  {
    Tape tape;
    for (Var& v : leaves) v.zero_grad();
    Var y = f(tape);
    r = Tensor::uniform(y.shape(), rng, -1.0f, 1.0f);
    tape.backward(y, r);
  }
  int bad = 0;
  for (std::size_t li = 0; li < leaves.size(); ++li) {
    Var& v = leaves[li];
    EXPECT_TRUE(v.has_grad()) << "leaf " << li << " got no gradient";
    if (!v.has_grad()) {
      ++bad;
      continue;
    }
    const Tensor analytic = v.grad();
    int leaf_bad = 0;
    std::string first;
    for (std::int64_t i = 0; i < v.numel(); ++i) {
      const float orig = v.value()[i];
      double fp, fm;
      {
        Tape tape(false);
        v.value()[i] = orig + opt.eps;
        fp = project(f(tape).value(), r);
      }
      {
        Tape tape(false);
        v.value()[i] = orig - opt.eps;
        fm = project(f(tape).value(), r);
      }
      v.value()[i] = orig;
      const double numeric = (fp - fm) / (2.0 * opt.eps);
      const double a = analytic[i];
      if (!(std::fabs(a - numeric) <= opt.atol + opt.rtol * std::fabs(numeric))) {
        if (leaf_bad == 0) {
          first = "element " + std::to_string(i) + ": analytic " + std::to_string(a) + " numeric " +
                  std::to_string(numeric);
        }
        ++leaf_bad;
      }
    }
    EXPECT_EQ(leaf_bad, 0) << "leaf " << li << " (" << shape_to_string(v.shape()) << "): " << leaf_bad
                           << " mismatches, first at " << first;
    bad += leaf_bad;
  }
  return bad;
}

// Random values bounded away from 0 (|x| in [0.1, 1]) so ReLU kinks stay further than eps away.
inline Tensor away_from_zero(Shape shape, std::mt19937_64& rng) {
  Tensor t = Tensor::uniform(std::move(shape), rng, 0.1f, 1.0f);
  std::bernoulli_distribution sign(0.5);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (sign(rng)) t[i] = -t[i];
  }
  return t;
}

// Distinct values spaced 0.02 apart in random order, all odd multiples of 0.01, so no max-pool
// window has a tie and no ReLU input sits at its kink within the finite-difference step.
inline Tensor distinct_values(Shape shape, std::mt19937_64& rng) {
  Tensor t(std::move(shape));
  std::vector<int> idx(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
  std::shuffle(idx.begin(), idx.end(), rng);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const auto k = static_cast<float>(idx[static_cast<std::size_t>(i)]) - static_cast<float>(t.numel() / 2);
    t[i] = 0.02f * k + 0.01f;
  }
  return t;
}

}  // namespace hwnas::nas::testing
