// Element-wise, structural, pooling and head ops: finite-difference gradients and values
// worked out by hand.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "hwnas/nas/ops.hpp"
#include "test_autograd_gradcheck.hpp"

namespace hwnas::nas {
namespace {

using testing::away_from_zero;
using testing::check_gradients;
using testing::distinct_values;

Tensor iota(Shape shape, float start = 1.0f, float step = 1.0f) {
  Tensor t(std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = start + step * static_cast<float>(i);
  return t;
}

TEST(OpsBasic, AvgPoolCountExcludesPaddingOnThreeByThree) {
  Tape tape;
  Var x = make_constant(iota({1, 1, 3, 3}));  // 1..9 row-major
  Var y = avg_pool2d(tape, x, 3, 1, 1);
  // Corners average 4 in-bounds values, edges 6, the centre 9.
  const float expect[9] = {3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f};
  ASSERT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(y.value()[i], expect[i]) << i;
  Var y2 = avg_pool2d(tape, x, 3, 2, 1);
  ASSERT_EQ(y2.shape(), (Shape{1, 1, 2, 2}));
  const float expect2[4] = {3.0f, 4.0f, 6.0f, 7.0f};  // {1,2,4,5}, {2,3,5,6}, {4,5,7,8}, {5,6,8,9}
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(y2.value()[i], expect2[i]) << i;
}

TEST(OpsBasic, MaxPoolRoutesGradientToWindowMaximum) {
  Tape tape;
  // 1..16 increasing row-major: each 3x3 window's max is its bottom-right in-bounds element,
  // so element (r, c) wins a(r)*a(c) windows with a = {0, 1, 1, 2}.
  Var x = make_parameter(iota({1, 1, 4, 4}));
  Var y = max_pool2d(tape, x, 3, 1, 1);
  EXPECT_FLOAT_EQ(y.value().at(0, 0, 0, 0), 6.0f);
  EXPECT_FLOAT_EQ(y.value().at(0, 0, 3, 3), 16.0f);
  tape.backward(sum(tape, y));
  const float a[4] = {0, 1, 1, 2};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_FLOAT_EQ(x.grad().at(0, 0, r, c), a[r] * a[c]) << r << "," << c;
}

TEST(OpsBasic, MaxPoolPaddingNeverWinsWithNegativeInputs) {
  Tape tape;
  // -1..-16: each window's max is its top-left in-bounds element; padding must not give 0.
  Var x = make_parameter(iota({1, 1, 4, 4}, -1.0f, -1.0f));
  Var y = max_pool2d(tape, x, 3, 2, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(y.value()[0], -1.0f);   // window rows/cols 0..1
  EXPECT_FLOAT_EQ(y.value()[1], -2.0f);   // rows 0..1, cols 1..3
  EXPECT_FLOAT_EQ(y.value()[2], -5.0f);   // rows 1..3, cols 0..1
  EXPECT_FLOAT_EQ(y.value()[3], -6.0f);
  tape.backward(sum(tape, y));
  EXPECT_FLOAT_EQ(x.grad()[0], 1.0f);
  EXPECT_FLOAT_EQ(x.grad()[1], 1.0f);
  EXPECT_FLOAT_EQ(x.grad()[4], 1.0f);
  EXPECT_FLOAT_EQ(x.grad()[5], 1.0f);
  EXPECT_FLOAT_EQ(x.grad().sum(), 4.0f);
}

TEST(OpsBasic, PoolGradients) {
  std::mt19937_64 rng(5);
  Var x = make_parameter(distinct_values({2, 2, 5, 5}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return max_pool2d(t, x, 3, 1, 1); }, {x}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return max_pool2d(t, x, 3, 2, 1); }, {x}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return avg_pool2d(t, x, 3, 1, 1); }, {x}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return avg_pool2d(t, x, 3, 2, 1); }, {x}), 0);
}

// Element-wise ops on a tensor above the OpenMP threshold: values and gradients (including
// weighted_sum's reduction into w) must not depend on the thread count, and must match plain
// loops.
TEST(OpsBasic, ElementwiseOpsIndependentOfThreadCount) {
  std::mt19937_64 rng(5);
  const Shape shape{1, 1, 1, 3 * 16384 + 17};
  const Tensor a0 = Tensor::randn(shape, rng), b0 = Tensor::randn(shape, rng), r = Tensor::randn(shape, rng);
  const Tensor w0 = Tensor::randn({3}, rng);
  const int saved = omp_get_max_threads();
  std::vector<Tensor> results;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    Var a = make_parameter(a0), b = make_parameter(b0), w = make_parameter(w0);
    Tape tape;
    const Var s = weighted_sum(tape, {relu(tape, a), Var(), add(tape, a, b)}, w);
    const Var y = add_n(tape, {s, b, relu(tape, s)});
    results.push_back(y.value());
    tape.backward(y, r);
    results.push_back(a.grad());
    results.push_back(b.grad());
    results.push_back(w.grad());
  }
  omp_set_num_threads(saved);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(max_abs_diff(results[i], results[i + 4]), 0.0f) << i;
  // Plain loops in double: y = s + b + relu(s), s = w0 relu(a) + w2 (a + b).
  const std::int64_t n = a0.numel();
  double dw0 = 0.0, dw2 = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double ra = std::max(0.0f, a0[i]), ab = static_cast<double>(a0[i]) + b0[i];
    const double s = w0[0] * ra + w0[2] * ab;
    EXPECT_NEAR(results[0][i], s + b0[i] + std::max(0.0, s), 1e-5) << i;
    const double ds = r[i] * (1.0 + (s > 0.0 ? 1.0 : 0.0));
    EXPECT_NEAR(results[1][i], ds * (w0[0] * (a0[i] > 0.0f ? 1.0 : 0.0) + w0[2]), 1e-5) << i;
    EXPECT_NEAR(results[2][i], r[i] + ds * w0[2], 1e-5) << i;
    dw0 += ds * ra;
    dw2 += ds * ab;
  }
  EXPECT_NEAR(results[3][0], dw0, 1e-4 * std::fabs(dw0) + 1e-3);
  EXPECT_EQ(results[3][1], 0.0f);
  EXPECT_NEAR(results[3][2], dw2, 1e-4 * std::fabs(dw2) + 1e-3);
}

TEST(OpsBasic, ReluValueAndGradient) {
  std::mt19937_64 rng(6);
  Var x = make_parameter(away_from_zero({2, 3, 4, 4}, rng));
  Tape tape;
  Var y = relu(tape, x);
  for (std::int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y.value()[i], std::max(0.0f, x.value()[i]));
  EXPECT_EQ(check_gradients([&](Tape& t) { return relu(t, x); }, {x}), 0);
}

TEST(OpsBasic, ElementwiseGradients) {
  std::mt19937_64 rng(7);
  Var a = make_parameter(Tensor::randn({2, 3, 2, 2}, rng));
  Var b = make_parameter(Tensor::randn({2, 3, 2, 2}, rng));
  Var c = make_parameter(Tensor::randn({2, 3, 2, 2}, rng));
  Var s = make_parameter(Tensor({1}, 0.7f));
  EXPECT_EQ(check_gradients([&](Tape& t) { return add(t, a, b); }, {a, b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return add_n(t, {a, b, c, a}); }, {a, b, c}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return mul(t, a, b); }, {a, b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return mul_scalar(t, a, -1.5f); }, {a}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return scale(t, a, s); }, {a, s}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return sum(t, mul(t, a, a)); }, {a}), 0);
  const Tensor k = Tensor::randn({2, 3, 2, 2}, rng);
  EXPECT_EQ(check_gradients([&](Tape& t) { return dot_const(t, a, k); }, {a}), 0);
}

TEST(OpsBasic, WeightedSumGradientsReachInputsAndWeights) {
  std::mt19937_64 rng(8);
  std::vector<Var> xs;
  for (int i = 0; i < 3; ++i) xs.push_back(make_parameter(Tensor::randn({2, 2, 3, 3}, rng)));
  Var w = make_parameter(Tensor({4}, std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  // Undefined first input: DARTS `none` contributes 0 and gets no gradient; w[0] gets 0.
  auto f = [&](Tape& t) { return weighted_sum(t, {Var(), xs[0], xs[1], xs[2]}, w); };
  EXPECT_EQ(check_gradients(f, {xs[0], xs[1], xs[2], w}), 0);
  Tape tape;
  Var y = f(tape);
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    EXPECT_NEAR(y.value()[i], 0.2f * xs[0].value()[i] + 0.3f * xs[1].value()[i] + 0.4f * xs[2].value()[i], 1e-6f);
  }
  w.zero_grad();
  tape.backward(sum(tape, y));
  EXPECT_EQ(w.grad()[0], 0.0f);
  EXPECT_NEAR(w.grad()[1], xs[0].value().sum(), 1e-4f);
  // Softmax weights feeding the sum (the MixedOp path): gradient through softmax to alpha.
  Var alpha = make_parameter(Tensor::randn({3}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return weighted_sum(t, xs, softmax(t, alpha)); }, {alpha, xs[1]}), 0);
}

TEST(OpsBasic, StructuralGradients) {
  std::mt19937_64 rng(9);
  Var a = make_parameter(Tensor::randn({2, 2, 3, 3}, rng));
  Var b = make_parameter(Tensor::randn({2, 3, 3, 3}, rng));
  Var m = make_parameter(Tensor::randn({4, 5}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return concat_channels(t, {a, b, a}); }, {a, b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return slice_channels(t, b, 1, 3); }, {b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return shift_crop(t, b); }, {b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return global_avg_pool(t, b); }, {b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return reshape(t, b, {2, 27}); }, {b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return row(t, m, 2); }, {m}), 0);
}

TEST(OpsBasic, ConcatSliceAndShiftPlaceValues) {
  Tape tape;
  Var a = make_constant(iota({2, 1, 2, 2}));        // n0: 1..4, n1: 5..8
  Var b = make_constant(iota({2, 2, 2, 2}, 100.f));  // n0: 100..107, n1: 108..115
  Var c = concat_channels(tape, {a, b});
  ASSERT_EQ(c.shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(c.value().at(0, 0, 1, 1), 4.0f);
  EXPECT_EQ(c.value().at(0, 1, 0, 0), 100.0f);
  EXPECT_EQ(c.value().at(1, 0, 0, 0), 5.0f);
  EXPECT_EQ(c.value().at(1, 2, 1, 1), 115.0f);
  Var s = slice_channels(tape, c, 1, 3);
  EXPECT_EQ(max_abs_diff(s.value(), b.value()), 0.0f);
  Var x = make_constant(iota({1, 1, 3, 3}));
  Var sh = shift_crop(tape, x);  // x[:, :, 1:, 1:]
  ASSERT_EQ(sh.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(sh.value()[0], 5.0f);
  EXPECT_EQ(sh.value()[3], 9.0f);
}

TEST(OpsBasic, FactorizedReduceShapesFollowPyTorch) {
  Tape tape;
  std::mt19937_64 rng(10);
  Var w1 = make_parameter(Tensor::randn({2, 4, 1, 1}, rng));
  Var w2 = make_parameter(Tensor::randn({2, 4, 1, 1}, rng));
  for (int h : {6, 8, 32}) {
    Var x = make_constant(Tensor::randn({1, 4, h, h}, rng));
    Var p1 = conv2d(tape, x, w1, {2, 0, 1, 1});
    Var p2 = conv2d(tape, shift_crop(tape, x), w2, {2, 0, 1, 1});
    EXPECT_EQ(p1.shape(), (Shape{1, 2, h / 2, h / 2}));
    EXPECT_EQ(concat_channels(tape, {p1, p2}).shape(), (Shape{1, 4, h / 2, h / 2}));
  }
  // Odd sizes: ceil(7/2) = 4 rows against floor(7/2) = 3; torch.cat fails, and so does concat.
  Var x = make_constant(Tensor::randn({1, 4, 7, 7}, rng));
  Var p1 = conv2d(tape, x, w1, {2, 0, 1, 1});
  Var p2 = conv2d(tape, shift_crop(tape, x), w2, {2, 0, 1, 1});
  EXPECT_EQ(p1.shape(), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(p2.shape(), (Shape{1, 2, 3, 3}));
  EXPECT_THROW(concat_channels(tape, {p1, p2}), std::invalid_argument);
}

TEST(OpsBasic, ZeroOpShapesAndNoRecording) {
  Tape tape;
  Var x = make_parameter(Tensor::full({2, 3, 7, 8}, 1.0f));
  Var z1 = zero(tape, x, 1), z2 = zero(tape, x, 2);
  EXPECT_EQ(z1.shape(), (Shape{2, 3, 7, 8}));
  EXPECT_EQ(z2.shape(), (Shape{2, 3, 4, 4}));  // x[:, :, ::2, ::2]
  EXPECT_EQ(z2.value().max_abs(), 0.0f);
  EXPECT_FALSE(z2.requires_grad());
  EXPECT_EQ(tape.size(), 0u);
}

TEST(OpsBasic, LinearGradientsAndValue) {
  std::mt19937_64 rng(11);
  Var x = make_parameter(Tensor::randn({3, 4}, rng));
  Var w = make_parameter(Tensor::randn({5, 4}, rng));
  Var b = make_parameter(Tensor::randn({5}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return linear(t, x, w, b); }, {x, w, b}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return linear(t, x, w, Var()); }, {x, w}), 0);
  Tape tape;
  Var y = linear(tape, x, w, b);
  for (int n = 0; n < 3; ++n)
    for (int o = 0; o < 5; ++o) {
      double s = b.value()[o];
      for (int i = 0; i < 4; ++i) s += static_cast<double>(x.value()[n * 4 + i]) * w.value()[o * 4 + i];
      EXPECT_NEAR(y.value()[n * 5 + o], s, 1e-5);
    }
}

TEST(OpsBasic, SoftmaxAndCrossEntropyByHand) {
  Tape tape;
  Var v = make_constant(Tensor({3}, std::vector<float>{1, 2, 3}));
  Var p = softmax(tape, v);
  EXPECT_NEAR(p.value()[0], 0.09003057f, 1e-7f);
  EXPECT_NEAR(p.value()[1], 0.24472847f, 1e-7f);
  EXPECT_NEAR(p.value()[2], 0.66524096f, 1e-7f);
  // Row 0: -log softmax([1,2,3])[2] = log(1 + e^-1 + e^-2) = 0.40760596; row 1: log 3.
  Var logits = make_parameter(Tensor({2, 3}, std::vector<float>{1, 2, 3, 0, 0, 0}));
  Var loss = cross_entropy(tape, logits, {2, 0});
  EXPECT_NEAR(loss.value()[0], 0.75310913f, 1e-6f);
  tape.backward(loss);
  // d/dlogits = (softmax - onehot) / N.
  EXPECT_NEAR(logits.grad()[2], (0.66524096f - 1.0f) / 2, 1e-6f);
  EXPECT_NEAR(logits.grad()[3], (1.0f / 3 - 1.0f) / 2, 1e-6f);
  EXPECT_NEAR(logits.grad()[4], (1.0f / 3) / 2, 1e-6f);
  // Large logits stay finite (log-sum-exp with the max subtracted).
  Var big = make_constant(Tensor({1, 2}, std::vector<float>{1000.0f, 0.0f}));
  EXPECT_NEAR(cross_entropy(tape, big, {1}).value()[0], 1000.0f, 1e-2f);
  EXPECT_THROW(cross_entropy(tape, logits, {3, 0}), std::invalid_argument);
  EXPECT_EQ(argmax_rows(logits.value()), (std::vector<int>{2, 0}));
}

TEST(OpsBasic, SoftmaxLogSoftmaxCrossEntropyGradients) {
  std::mt19937_64 rng(12);
  Var x = make_parameter(Tensor::randn({3, 5}, rng));
  Var v = make_parameter(Tensor::randn({8}, rng));
  EXPECT_EQ(check_gradients([&](Tape& t) { return softmax(t, x); }, {x}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return softmax(t, v); }, {v}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return log_softmax(t, x); }, {x}), 0);
  EXPECT_EQ(check_gradients([&](Tape& t) { return cross_entropy(t, x, {4, 0, 2}); }, {x}), 0);
}

TEST(OpsBasic, DropoutAndDropPathMasksAndGradients) {
  std::mt19937_64 rng(13);
  Var x = make_parameter(Tensor::full({64, 2, 2, 2}, 1.0f));
  Tape tape;
  std::mt19937_64 r1(77);
  Var y = drop_path(tape, x, 0.25f, r1, true);
  int kept = 0;
  for (int n = 0; n < 64; ++n) {
    const float first = y.value().at(n, 0, 0, 0);
    EXPECT_TRUE(first == 0.0f || std::fabs(first - 1.0f / 0.75f) < 1e-6f);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(y.value()[n * 8 + i], first);  // one draw per sample
    kept += first != 0.0f;
  }
  EXPECT_GT(kept, 32);  // Binomial(64, 0.75): mean 48, sd 3.5
  EXPECT_LT(kept, 64);
  tape.backward(sum(tape, y));
  for (std::int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(x.grad()[i], y.value()[i]);  // dy/dx = mask

  std::mt19937_64 r2(77), r3(77);
  Tape t2;
  Var d1 = dropout(t2, x, 0.5f, r2, true), d2 = dropout(t2, x, 0.5f, r3, true);
  EXPECT_EQ(max_abs_diff(d1.value(), d2.value()), 0.0f);  // same seed, same mask
  EXPECT_TRUE(dropout(t2, x, 0.5f, r2, false).same_node(x));
  EXPECT_TRUE(drop_path(t2, x, 0.3f, r2, false).same_node(x));
}

}  // namespace
}  // namespace hwnas::nas

namespace hwnas::nas {
namespace {

// Direct window scans, straight from the definitions, against the separable fast pools.
TEST(OpsBasic, SeparablePoolsMatchDirectWindowScan) {
  std::mt19937_64 rng(21);
  for (const auto& [h, w, k, s, p] : {std::tuple{7, 6, 3, 1, 1}, std::tuple{9, 8, 3, 2, 1}, std::tuple{5, 5, 3, 2, 0},
                                      std::tuple{8, 7, 5, 2, 2}, std::tuple{33, 33, 3, 2, 1}}) {
    Var x = make_constant(Tensor::randn({3, 2, h, w}, rng));
    Tape tape(false);
    const Tensor mx = max_pool2d(tape, x, k, s, p).value();
    const Tensor av = avg_pool2d(tape, x, k, s, p).value();
    const int ho = conv_output_size(h, k, s, p, 1), wo = conv_output_size(w, k, s, p, 1);
    ASSERT_EQ(mx.shape(), (Shape{3, 2, ho, wo}));
    for (int n = 0; n < 3; ++n)
      for (int c = 0; c < 2; ++c)
        for (int oh = 0; oh < ho; ++oh)
          for (int ow = 0; ow < wo; ++ow) {
            float best = -1e30f;
            double sum = 0.0;
            int cnt = 0;
            for (int i = oh * s - p; i < oh * s - p + k; ++i)
              for (int j = ow * s - p; j < ow * s - p + k; ++j) {
                if (i < 0 || i >= h || j < 0 || j >= w) continue;
                best = std::max(best, x.value().at(n, c, i, j));
                sum += x.value().at(n, c, i, j);
                ++cnt;
              }
            EXPECT_EQ(mx.at(n, c, oh, ow), best);
            EXPECT_NEAR(av.at(n, c, oh, ow), sum / cnt, 1e-6);
          }
  }
}

}  // namespace
}  // namespace hwnas::nas
