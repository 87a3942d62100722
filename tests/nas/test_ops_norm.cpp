// Batch normalisation: training vs eval semantics, running statistics, gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hwnas/nas/ops.hpp"
#include "test_autograd_gradcheck.hpp"

namespace hwnas::nas {
namespace {

using testing::check_gradients;

TEST(OpsNorm, TrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  BatchNormState bn = BatchNormState::make(1, false);
  Tape tape;
  // One channel, N=2, 1x2 planes: values 1,3,5,7: mean 4, biased var 5, unbiased 20/3.
  Var x = make_constant(Tensor({2, 1, 1, 2}, std::vector<float>{1, 3, 5, 7}));
  Var y = batch_norm(tape, x, bn, true);
  const float s = std::sqrt(5.0f + 1e-5f);
  EXPECT_NEAR(y.value()[0], -3.0f / s, 1e-6f);
  EXPECT_NEAR(y.value()[3], 3.0f / s, 1e-6f);
  EXPECT_NEAR(bn.running_mean[0], 0.4f, 1e-6f);              // 0.9*0 + 0.1*4
  EXPECT_NEAR(bn.running_var[0], 0.9f + 0.1f * 20.0f / 3.0f, 1e-6f);  // unbiased variance
  EXPECT_EQ(bn.num_batches_tracked, 1);

  // Eval normalises with the running statistics and leaves them alone.
  Var ye = batch_norm(tape, x, bn, false);
  EXPECT_NEAR(ye.value()[0], (1.0f - 0.4f) / std::sqrt(1.5666667f + 1e-5f), 1e-5f);
  EXPECT_NEAR(bn.running_mean[0], 0.4f, 1e-6f);
  EXPECT_EQ(bn.num_batches_tracked, 1);
}

TEST(OpsNorm, AffineAppliesGammaBetaAndTwoDimensionalInputWorks) {
  BatchNormState bn = BatchNormState::make(2, true);
  bn.gamma.value()[1] = 2.0f;
  bn.beta.value()[1] = -1.0f;
  Tape tape;
  Var x = make_constant(Tensor({2, 2}, std::vector<float>{0, 10, 2, 20}));  // channel 1: 10, 20
  Var y = batch_norm(tape, x, bn, true);
  const float s = std::sqrt(25.0f + 1e-5f);
  EXPECT_NEAR(y.value()[1], 2.0f * (-5.0f / s) - 1.0f, 1e-5f);
  EXPECT_NEAR(y.value()[3], 2.0f * (5.0f / s) - 1.0f, 1e-5f);
  EXPECT_EQ(bn.parameters().size(), 2u);
  EXPECT_TRUE(BatchNormState::make(3, false).parameters().empty());
}

TEST(OpsNorm, TrainingGradientsIncludeTheBatchStatistics) {
  std::mt19937_64 rng(3);
  BatchNormState bn = BatchNormState::make(3, true);
  bn.gamma.value() = Tensor::uniform({3}, rng, 0.5f, 1.5f);
  bn.beta.value() = Tensor::randn({3}, rng);
  Var x = make_parameter(Tensor::randn({3, 3, 2, 3}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return batch_norm(t, x, bn, true); }, {x, bn.gamma, bn.beta}), 0);
  BatchNormState plain = BatchNormState::make(3, false);
  EXPECT_EQ(check_gradients([&](Tape& t) { return batch_norm(t, x, plain, true); }, {x}), 0);
  Var x2 = make_parameter(Tensor::randn({5, 3}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return batch_norm(t, x2, bn, true); }, {x2, bn.gamma}), 0);
}

TEST(OpsNorm, EvalGradientsTreatStatisticsAsConstants) {
  std::mt19937_64 rng(4);
  BatchNormState bn = BatchNormState::make(2, true);
  bn.running_mean = Tensor({2}, std::vector<float>{0.3f, -0.2f});
  bn.running_var = Tensor({2}, std::vector<float>{0.5f, 2.0f});
  Var x = make_parameter(Tensor::randn({2, 2, 3, 3}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return batch_norm(t, x, bn, false); }, {x, bn.gamma, bn.beta}), 0);
  // dx = gamma / sqrt(running_var + eps) exactly.
  Tape tape;
  x.zero_grad();
  tape.backward(sum(tape, batch_norm(tape, x, bn, false)));
  EXPECT_NEAR(x.grad().at(0, 1, 0, 0), 1.0f / std::sqrt(2.0f + 1e-5f), 1e-6f);
}

TEST(OpsNorm, LargeInputRunsParallelAndMatchesSmallFormula) {
  std::mt19937_64 rng(5);
  BatchNormState bn = BatchNormState::make(4, false);
  Tape tape;
  Var x = make_constant(Tensor::randn({8, 4, 32, 32}, rng, 3.0f));
  Var y = batch_norm(tape, x, bn, true);
  for (int c = 0; c < 4; ++c) {
    double s = 0, ss = 0;
    for (int n = 0; n < 8; ++n)
      for (int i = 0; i < 1024; ++i) {
        const double v = y.value().at(n, c, i / 32, i % 32);
        s += v;
        ss += v * v;
      }
    EXPECT_NEAR(s / 8192, 0.0, 1e-4);
    EXPECT_NEAR(ss / 8192, 1.0, 1e-3);  // var/(var+eps), var ~ 9
  }
}

}  // namespace
}  // namespace hwnas::nas
