// Tape semantics: accumulation into parameters, clear, no-grad mode, frozen parameters,
// repeated backward, and a check that the finite-difference checker itself catches bad
// gradients.
#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include <random>

#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/ops.hpp"
#include "test_autograd_gradcheck.hpp"

namespace hwnas::nas {
namespace {

TEST(Autograd, ParameterGradientsAccumulateAcrossStepsUntilZeroed) {
  Var w = make_parameter(Tensor({2}, std::vector<float>{1, 2}), "w");
  Var x = make_constant(Tensor({2}, std::vector<float>{3, 4}));
  Tape tape;
  for (int step = 0; step < 2; ++step) {
    tape.backward(sum(tape, mul(tape, w, x)));  // d/dw sum(w*x) = x
    tape.clear();
  }
  EXPECT_EQ(w.grad()[0], 6.0f);
  EXPECT_EQ(w.grad()[1], 8.0f);
  EXPECT_FALSE(x.has_grad());
  w.zero_grad();
  EXPECT_EQ(w.grad().max_abs(), 0.0f);
  EXPECT_EQ(w.name(), "w");
}

TEST(Autograd, ClearDropsRecordsAndActivations) {
  Var w = make_parameter(Tensor({1000}, 1.0f));
  Tape tape;
  Var h = relu(tape, w);
  Var y = sum(tape, h);
  EXPECT_EQ(tape.size(), 2u);
  std::weak_ptr<VarNode> hn = h.node_ptr();
  h = Var();
  y = Var();
  EXPECT_FALSE(hn.expired());  // the tape keeps the activation alive for backward
  tape.clear();
  EXPECT_EQ(tape.size(), 0u);
  EXPECT_TRUE(hn.expired());
}

TEST(Autograd, NoGradModeRecordsNothing) {
  Var w = make_parameter(Tensor({3}, 1.0f));
  Tape tape;
  {
    NoGradGuard guard(tape);
    Var y = sum(tape, mul_scalar(tape, w, 2.0f));
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.value()[0], 6.0f);
  }
  EXPECT_EQ(tape.size(), 0u);
  EXPECT_TRUE(tape.grad_enabled());
  Tape eval(false);
  EXPECT_FALSE(sum(eval, w).requires_grad());
  EXPECT_EQ(eval.size(), 0u);
}

TEST(Autograd, ConstantsOnlyRecordNothing) {
  Tape tape;
  Var a = make_constant(Tensor({2}, 1.0f));
  Var y = add(tape, a, a);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(tape.size(), 0u);
}

TEST(Autograd, FrozenParameterGetsNoGradient) {
  Var w = make_parameter(Tensor({2}, 1.0f)), alpha = make_parameter(Tensor({2}, 0.5f));
  w.set_requires_grad(false);
  Tape tape;
  tape.backward(sum(tape, mul(tape, w, alpha)));
  EXPECT_FALSE(w.has_grad());
  EXPECT_EQ(alpha.grad()[0], 1.0f);
}

TEST(Autograd, SharedInputAccumulatesBothPaths) {
  Var x = make_parameter(Tensor({1}, 3.0f));
  Tape tape;
  // y = x*x + 2x  ->  dy/dx = 2x + 2 = 8
  Var y = add(tape, mul(tape, x, x), mul_scalar(tape, x, 2.0f));
  tape.backward(y);
  EXPECT_FLOAT_EQ(x.grad()[0], 8.0f);
}

TEST(Autograd, GradForWriteIsFreshOnlyForTheFirstWriter) {
  Var x = make_parameter(Tensor::full({2, 3}, 1.0f));
  bool fresh = false;
  Tensor& g = x.grad_for_write(fresh);
  EXPECT_TRUE(fresh);
  EXPECT_EQ(g.shape(), x.shape());
  g.fill(2.0f);
  x.grad_for_write(fresh);
  EXPECT_FALSE(fresh);
  EXPECT_EQ(x.grad()[5], 2.0f);
}

// Ops that assign the first gradient reaching an input and add later ones (relu, BN, conv,
// weighted_sum, add): each input below is consumed twice, once by each kind of op, and in both
// orders, so both the assigning and the adding paths are checked against finite differences.
TEST(Autograd, FirstGradientAssignedLaterOnesAdded) {
  std::mt19937_64 rng(7);
  Var x = make_parameter(testing::away_from_zero({2, 3, 5, 5}, rng));
  Var w = make_parameter(Tensor::randn({3, 1, 3, 3}, rng, 0.5f));
  Var wd = make_parameter(Tensor::randn({3, 3, 1, 1}, rng, 0.5f));
  Var a = make_parameter(Tensor::randn({3}, rng));
  BatchNormState bn = BatchNormState::make(3, false);
  const Conv2dParams dw{1, 1, 1, 3}, pw{1, 0, 1, 1};
  auto f = [&](Tape& t) {
    const Var r = relu(t, x);
    const Var b1 = batch_norm(t, r, bn, true), b2 = batch_norm(t, r, bn, true);
    const Var c1 = conv2d(t, b1, w, dw), c2 = conv2d(t, b1, wd, pw);
    const Var s = weighted_sum(t, {c1, c2, Var()}, softmax(t, a));
    return add(t, add(t, s, b2), relu(t, x));
  };
  EXPECT_EQ(testing::check_gradients(f, {x, w, wd, a}), 0);
}

TEST(Autograd, RepeatedBackwardAddsOnceMoreIntoLeavesOnly) {
  Var x = make_parameter(Tensor({1}, 3.0f));
  Tape tape;
  Var y = mul(tape, x, relu(tape, x));  // x^2 for x > 0: dy/dx = 6
  tape.backward(y, true);
  EXPECT_EQ(tape.size(), 2u);
  tape.backward(y, true);
  EXPECT_FLOAT_EQ(x.grad()[0], 12.0f);
  // Two losses from one recording add their gradients.
  Var x2 = make_parameter(Tensor({1}, 2.0f));
  Tape t2;
  Var a = mul_scalar(t2, x2, 3.0f);
  Var b = mul(t2, a, a);  // 9 x^2 -> 36
  t2.backward(a, true);   // 3
  t2.backward(b);
  EXPECT_FLOAT_EQ(x2.grad()[0], 39.0f);
}

TEST(Autograd, BackwardConsumesTheRecordingAndFreesIntermediates) {
  Var w = make_parameter(Tensor({1000}, 1.0f));
  Tape tape;
  Var h = relu(tape, w);
  std::weak_ptr<VarNode> hn = h.node_ptr();
  Var loss = sum(tape, mul_scalar(tape, h, 2.0f));
  h = Var();
  tape.backward(loss);
  EXPECT_EQ(tape.size(), 0u);
  EXPECT_TRUE(hn.expired());  // the activation went with the closures that used it
  EXPECT_FLOAT_EQ(w.grad()[7], 2.0f);
  EXPECT_EQ(loss.value()[0], 2000.0f);  // values the caller holds stay readable
}

TEST(Autograd, BranchesNotReachingTheLossAreSkipped) {
  Var x = make_parameter(Tensor({2}, 1.0f)), unused = make_parameter(Tensor({2}, 1.0f));
  Tape tape;
  Var dead = relu(tape, unused);
  (void)dead;
  tape.backward(sum(tape, x));
  EXPECT_FALSE(unused.has_grad());
  EXPECT_THROW(tape.backward(x), std::invalid_argument);  // not a scalar
}

TEST(Autograd, VectorJacobianSeed) {
  Var x = make_parameter(Tensor({3}, std::vector<float>{1, 2, 3}));
  Tape tape;
  Var y = mul(tape, x, x);
  tape.backward(y, Tensor({3}, std::vector<float>{1, 0, -1}));
  EXPECT_FLOAT_EQ(x.grad()[0], 2.0f);
  EXPECT_FLOAT_EQ(x.grad()[1], 0.0f);
  EXPECT_FLOAT_EQ(x.grad()[2], -6.0f);
}

// An op whose backward forgets a factor 2: the checker must flag it.
Var wrong_square(Tape& tape, const Var& x) {
  Tensor y(x.shape());
  y.vec() = x.value().vec().cwiseProduct(x.value().vec());
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out]() { x.grad_mut().vec() += out.grad().vec().cwiseProduct(x.value().vec()); });
  }
  return out;
}

TEST(Autograd, GradientCheckerCatchesAWrongBackward) {
  std::mt19937_64 rng(1);
  Var x = make_parameter(Tensor::uniform({4}, rng, 0.5f, 1.0f));
  EXPECT_NONFATAL_FAILURE(testing::check_gradients([&](Tape& t) { return wrong_square(t, x); }, {x}),
                          "mismatches");
}

}  // namespace
}  // namespace hwnas::nas
