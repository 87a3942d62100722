// Optimiser steps against updates worked out by hand with PyTorch's rules.
#include <gtest/gtest.h>

#include "hwnas/nas/optim.hpp"

namespace hwnas::nas {
namespace {

Var param_with_grad(float value, float grad) {
  Var p = make_parameter(Tensor({1}, value));
  p.grad_mut()[0] = grad;
  return p;
}

TEST(Optim, SgdMomentumWeightDecayTwoSteps) {
  Var p = param_with_grad(1.0f, 0.5f);
  Sgd opt({p}, {0.1f, 0.9f, 0.0f, 0.01f, false});
  opt.step();
  // d = 0.5 + 0.01*1 = 0.51; buf = d (first step); p = 1 - 0.1*0.51
  EXPECT_NEAR(p.value()[0], 0.949f, 1e-6f);
  EXPECT_NEAR(opt.momentum_buffer(0)[0], 0.51f, 1e-6f);
  opt.step();  // grad still 0.5
  // d = 0.5 + 0.00949 = 0.50949; buf = 0.9*0.51 + 0.50949 = 0.96849; p = 0.949 - 0.096849
  EXPECT_NEAR(p.value()[0], 0.852151f, 1e-6f);
}

TEST(Optim, SgdNesterovAndPlain) {
  Var p = param_with_grad(2.0f, 1.0f);
  Sgd opt({p}, {0.5f, 0.5f, 0.0f, 0.0f, true});
  opt.step();
  // buf = 1; d = 1 + 0.5*1 = 1.5; p = 2 - 0.75
  EXPECT_NEAR(p.value()[0], 1.25f, 1e-6f);
  Var q = param_with_grad(2.0f, 1.0f);
  Sgd plain({q}, {0.5f, 0.0f, 0.0f, 0.0f, false});
  plain.step();
  EXPECT_NEAR(q.value()[0], 1.5f, 1e-6f);
  EXPECT_TRUE(plain.momentum_buffer(0).empty());
}

TEST(Optim, SgdSkipsParametersWithoutGradient) {
  Var p = make_parameter(Tensor({1}, 1.0f));
  Sgd opt({p}, {0.1f, 0.9f, 0.0f, 0.5f, false});
  opt.step();  // weight decay alone must not move a parameter that got no gradient
  EXPECT_EQ(p.value()[0], 1.0f);
}

TEST(Optim, AdamTwoStepsWithL2) {
  Var p = param_with_grad(1.0f, 0.5f);
  Adam opt({p}, {0.1f, 0.5, 0.999, 1e-8f, 0.1f});
  opt.step();
  // g = 0.5 + 0.1 = 0.6; m = 0.3; v = 0.00036; bias corrections 0.5 and 0.001:
  // p = 1 - (0.1/0.5) * 0.3 / (sqrt(0.00036)/sqrt(0.001) + 1e-8) = 1 - 0.2*0.3/0.6 = 0.9
  EXPECT_NEAR(p.value()[0], 0.9f, 1e-6f);
  EXPECT_EQ(opt.steps(0), 1);
  opt.step();
  // g = 0.5 + 0.09 = 0.59; m = 0.15 + 0.295 = 0.445; v = 0.999*0.00036 + 0.001*0.3481 = 0.00070774;
  // p = 0.9 - (0.1/0.75) * 0.445 / (sqrt(0.00070774)/sqrt(1 - 0.999^2) + 1e-8) = 0.80028322
  EXPECT_NEAR(p.value()[0], 0.8002832f, 2e-6f);
  EXPECT_NEAR(opt.exp_avg(0)[0], 0.445f, 1e-6f);
  EXPECT_NEAR(opt.exp_avg_sq(0)[0], 0.00070774f, 1e-9f);
}

TEST(Optim, ClipGradNormScalesAllGradientsTogether) {
  Var a = make_parameter(Tensor({2}, 0.0f)), b = make_parameter(Tensor({1}, 0.0f));
  a.grad_mut()[0] = 3.0f;
  a.grad_mut()[1] = 4.0f;
  b.grad_mut()[0] = 12.0f;  // total norm sqrt(9 + 16 + 144) = 13
  EXPECT_FLOAT_EQ(clip_grad_norm({a, b}, 6.5f), 13.0f);
  EXPECT_NEAR(a.grad()[0], 1.5f, 1e-6f);
  EXPECT_NEAR(a.grad()[1], 2.0f, 1e-6f);
  EXPECT_NEAR(b.grad()[0], 6.0f, 1e-6f);
  // Below the threshold nothing changes.
  EXPECT_NEAR(clip_grad_norm({a, b}, 100.0f), 6.5f, 1e-5f);
  EXPECT_NEAR(b.grad()[0], 6.0f, 1e-6f);
}

TEST(Optim, CosineAnnealingClosedForm) {
  EXPECT_FLOAT_EQ(cosine_annealing_lr(0.025f, 0.001f, 0, 50), 0.025f);
  EXPECT_FLOAT_EQ(cosine_annealing_lr(0.025f, 0.001f, 25, 50), 0.013f);  // halfway: the mean
  EXPECT_FLOAT_EQ(cosine_annealing_lr(0.025f, 0.001f, 50, 50), 0.001f);
  EXPECT_NEAR(cosine_annealing_lr(1.0f, 0.0f, 1, 3), 0.75f, 1e-6f);  // (1 + cos(pi/3))/2
  EXPECT_THROW(cosine_annealing_lr(1.0f, 0.0f, 1, 0), std::invalid_argument);
}

TEST(Optim, ZeroGradResetsEveryParameter) {
  Var a = param_with_grad(1.0f, 2.0f), b = param_with_grad(1.0f, -3.0f);
  Adam opt({a, b}, {});
  opt.zero_grad();
  EXPECT_EQ(a.grad()[0], 0.0f);
  EXPECT_EQ(b.grad()[0], 0.0f);
}

}  // namespace
}  // namespace hwnas::nas
