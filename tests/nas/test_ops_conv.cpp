// Convolution: finite-difference gradients for every path, and each fast path (direct
// depthwise, 1x1 GEMM, im2col + GEMM, all OpenMP-parallel) against the naive reference loops.
#include <gtest/gtest.h>
#include <omp.h>

#include <limits>
#include <random>

#include "hwnas/nas/ops.hpp"
#include "test_autograd_gradcheck.hpp"

namespace hwnas::nas {
namespace {

using testing::check_gradients;

struct ConvCase {
  int n, cin, h, w, cout, k;
  Conv2dParams p;
};

void expect_matches_reference(const ConvCase& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Tensor x = Tensor::randn({c.n, c.cin, c.h, c.w}, rng);
  const Tensor w = Tensor::randn({c.cout, c.cin / c.p.groups, c.k, c.k}, rng);
  Workspace ws;
  Tensor y_fast, y_ref;
  kernels::conv2d_forward(x, w, c.p, y_fast, ws);
  reference::conv2d_forward(x, w, c.p, y_ref);
  ASSERT_EQ(y_fast.shape(), y_ref.shape());
  // Both sum k*k*cin_g products of N(0,1) values; float accumulation-order differences stay
  // around 1e-6 * sqrt(terms) relative to the ~sqrt(terms) sized outputs.
  EXPECT_LT(max_abs_diff(y_fast, y_ref), 1e-4f);

  const Tensor dy = Tensor::randn(y_ref.shape(), rng);
  // Start the gradients from a non-zero value to check the kernels ADD into them.
  Tensor dx_fast = Tensor::full(x.shape(), 0.5f), dw_fast = Tensor::full(w.shape(), -0.25f);
  Tensor dx_ref = dx_fast, dw_ref = dw_fast;
  kernels::conv2d_backward(x, w, dy, c.p, &dx_fast, &dw_fast, ws);
  reference::conv2d_backward(x, w, dy, c.p, &dx_ref, &dw_ref);
  EXPECT_LT(max_abs_diff(dx_fast, dx_ref), 1e-4f);
  // dw sums over n*h*w positions, so its magnitude (and rounding) is larger.
  EXPECT_LT(max_abs_diff(dw_fast, dw_ref), 1e-3f);

  // Only one of the two gradients requested.
  Tensor dx_only = Tensor::zeros(x.shape()), dw_only = Tensor::zeros(w.shape());
  kernels::conv2d_backward(x, w, dy, c.p, &dx_only, nullptr, ws);
  kernels::conv2d_backward(x, w, dy, c.p, nullptr, &dw_only, ws);
  Tensor dx0 = Tensor::zeros(x.shape()), dw0 = Tensor::zeros(w.shape());
  reference::conv2d_backward(x, w, dy, c.p, &dx0, &dw0);
  EXPECT_LT(max_abs_diff(dx_only, dx0), 1e-4f);
  EXPECT_LT(max_abs_diff(dw_only, dw0), 1e-3f);

  // overwrite_dx ignores the old contents: NaNs left anywhere would show in the difference.
  Tensor dx_over = Tensor::full(x.shape(), std::numeric_limits<float>::quiet_NaN());
  kernels::conv2d_backward(x, w, dy, c.p, &dx_over, nullptr, ws, /*overwrite_dx=*/true);
  EXPECT_LT(max_abs_diff(dx_over, dx0), 1e-4f);
  EXPECT_TRUE(dx_over.vec().allFinite());
}

TEST(OpsConv, OutputSizeMatchesPyTorchFormula) {
  EXPECT_EQ(conv_output_size(32, 3, 1, 1, 1), 32);
  EXPECT_EQ(conv_output_size(32, 3, 2, 1, 1), 16);
  EXPECT_EQ(conv_output_size(33, 3, 2, 1, 1), 17);
  EXPECT_EQ(conv_output_size(32, 5, 1, 4, 2), 32);  // dil_conv_5x5
  EXPECT_EQ(conv_output_size(32, 1, 2, 0, 1), 16);  // FactorizedReduce path 1
  EXPECT_EQ(conv_output_size(31, 1, 2, 0, 1), 16);  // FR path 2 on x[:,:,1:,1:] of a 32 input
  EXPECT_EQ(conv_output_size(7, 3, 2, 1, 1), 4);
}

TEST(OpsConv, DenseIm2colMatchesReference) {
  expect_matches_reference({2, 3, 7, 6, 5, 3, {1, 1, 1, 1}}, 1);
  expect_matches_reference({3, 4, 9, 8, 6, 3, {2, 1, 1, 1}}, 2);   // stride 2, odd height
  expect_matches_reference({2, 4, 9, 9, 4, 3, {1, 2, 2, 1}}, 3);   // dilation 2
  expect_matches_reference({2, 4, 8, 8, 6, 3, {1, 1, 1, 2}}, 4);   // groups 2
  expect_matches_reference({2, 4, 9, 7, 6, 5, {2, 2, 1, 1}}, 5);   // 5x5 stride 2
  expect_matches_reference({2, 4, 8, 8, 6, 1, {2, 0, 1, 1}}, 6);   // 1x1 stride 2 (FR)
  expect_matches_reference({5, 3, 6, 6, 4, 3, {1, 0, 1, 1}}, 7);   // no padding, odd batch
  expect_matches_reference({5, 8, 12, 12, 8, 3, {1, 1, 1, 1}}, 8);  // parallel over the batch
}

TEST(OpsConv, PointwiseGemmMatchesReference) {
  expect_matches_reference({3, 8, 5, 7, 6, 1, {1, 0, 1, 1}}, 11);
  expect_matches_reference({4, 16, 8, 8, 16, 1, {1, 0, 1, 1}}, 12);
}

TEST(OpsConv, DepthwiseDirectMatchesReference) {
  expect_matches_reference({3, 5, 8, 7, 5, 3, {1, 1, 1, 5}}, 21);   // sep_conv_3x3
  expect_matches_reference({2, 4, 9, 8, 4, 3, {2, 1, 1, 4}}, 22);   // stride 2, odd height
  expect_matches_reference({2, 4, 8, 8, 4, 5, {1, 2, 1, 4}}, 23);   // sep_conv_5x5
  expect_matches_reference({2, 4, 9, 9, 4, 3, {2, 2, 2, 4}}, 24);   // dil_conv_3x3, stride 2
  expect_matches_reference({2, 3, 8, 8, 3, 5, {1, 4, 2, 3}}, 25);   // dil_conv_5x5
  expect_matches_reference({2, 3, 4, 4, 3, 5, {1, 4, 2, 3}}, 26);   // kernel wider than the input
  // Stride-1 register-blocked loops: no padding, padding beyond half the kernel, planes whose
  // widened length is not a multiple of the block, the largest blocked kernel (7x7) and one
  // beyond it (9x9, per-row fallback).
  expect_matches_reference({3, 4, 7, 9, 4, 3, {1, 0, 1, 4}}, 31);
  expect_matches_reference({2, 3, 6, 5, 3, 3, {1, 2, 1, 3}}, 32);
  expect_matches_reference({2, 3, 33, 31, 3, 3, {1, 1, 1, 3}}, 33);
  expect_matches_reference({2, 2, 11, 10, 2, 7, {1, 3, 1, 2}}, 34);
  expect_matches_reference({2, 2, 11, 12, 2, 9, {1, 4, 1, 2}}, 35);
  // Stride-2 polyphase loops: no padding with odd sizes, odd padding, 7x7, and 9x9 (fallback).
  expect_matches_reference({3, 4, 9, 7, 4, 3, {2, 0, 1, 4}}, 36);
  expect_matches_reference({2, 3, 10, 11, 3, 5, {2, 1, 1, 3}}, 37);
  expect_matches_reference({2, 3, 13, 12, 3, 7, {2, 3, 1, 3}}, 38);
  expect_matches_reference({2, 2, 12, 13, 2, 9, {2, 4, 1, 2}}, 39);
  expect_matches_reference({2, 3, 8, 9, 3, 3, {3, 1, 1, 3}}, 40);  // stride 3: per-row loops
  // Large enough (> detail::kParallelMinWork) to run the OpenMP-parallel loops.
  expect_matches_reference({4, 8, 16, 16, 8, 3, {1, 1, 1, 8}}, 27);
  expect_matches_reference({4, 8, 17, 16, 8, 5, {2, 4, 2, 8}}, 28);
}

TEST(OpsConv, ParallelResultsIndependentOfThreadCount) {
  std::mt19937_64 rng(31);
  // Sizes above detail::kParallelMinWork, so two threads really split the loops.
  const Tensor x = Tensor::randn({6, 8, 16, 16}, rng);
  const Tensor wd = Tensor::randn({6, 8, 3, 3}, rng);
  const Tensor wdw = Tensor::randn({8, 1, 3, 3}, rng);
  const Tensor wdw5 = Tensor::randn({8, 1, 5, 5}, rng);
  const int saved = omp_get_max_threads();
  for (const auto& [w, p] : {std::pair<Tensor, Conv2dParams>{wd, {1, 1, 1, 1}},
                             std::pair<Tensor, Conv2dParams>{wdw, {1, 1, 1, 8}},
                             std::pair<Tensor, Conv2dParams>{wdw, {2, 1, 1, 8}},
                             std::pair<Tensor, Conv2dParams>{wdw5, {2, 4, 2, 8}}}) {
    Workspace ws;
    Tensor y1, y2;
    omp_set_num_threads(1);
    kernels::conv2d_forward(x, w, p, y1, ws);
    Tensor dy = Tensor::randn(y1.shape(), rng);
    Tensor dx1 = Tensor::zeros(x.shape()), dw1 = Tensor::zeros(w.shape());
    kernels::conv2d_backward(x, w, dy, p, &dx1, &dw1, ws);
    omp_set_num_threads(2);
    kernels::conv2d_forward(x, w, p, y2, ws);
    Tensor dx2 = Tensor::zeros(x.shape()), dw2 = Tensor::zeros(w.shape());
    kernels::conv2d_backward(x, w, dy, p, &dx2, &dw2, ws);
    EXPECT_EQ(max_abs_diff(y1, y2), 0.0f);
    EXPECT_EQ(max_abs_diff(dx1, dx2), 0.0f);
    // dW sums per-thread partials, so the summation order (not the terms) changes.
    EXPECT_LT(max_abs_diff(dw1, dw2), 1e-4f);
  }
  omp_set_num_threads(saved);
}

void gradcheck_conv(int n, int cin, int h, int w, int cout, int k, Conv2dParams p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Var x = make_parameter(Tensor::randn({n, cin, h, w}, rng));
  Var wt = make_parameter(Tensor::randn({cout, cin / p.groups, k, k}, rng, 0.5f));
  EXPECT_EQ(check_gradients([&](Tape& t) { return conv2d(t, x, wt, p); }, {x, wt}), 0);
}

TEST(OpsConv, GradientsDense) {
  gradcheck_conv(2, 3, 5, 5, 4, 3, {1, 1, 1, 1}, 41);
  gradcheck_conv(2, 2, 7, 6, 3, 3, {2, 1, 2, 1}, 42);
  gradcheck_conv(2, 4, 5, 5, 4, 3, {1, 1, 1, 2}, 43);
}

TEST(OpsConv, GradientsPointwiseAndStridedPointwise) {
  gradcheck_conv(2, 4, 4, 5, 3, 1, {1, 0, 1, 1}, 51);
  gradcheck_conv(2, 4, 6, 6, 2, 1, {2, 0, 1, 1}, 52);
}

TEST(OpsConv, GradientsDepthwise) {
  gradcheck_conv(2, 3, 6, 6, 3, 3, {1, 1, 1, 3}, 61);
  gradcheck_conv(2, 3, 7, 7, 3, 5, {2, 2, 1, 3}, 62);
  gradcheck_conv(2, 2, 7, 7, 2, 3, {1, 2, 2, 2}, 63);
}

TEST(OpsConv, FrozenWeightGetsNoGradientAndInputStillDoes) {
  std::mt19937_64 rng(71);
  Var x = make_parameter(Tensor::randn({1, 2, 4, 4}, rng));
  Var w = make_parameter(Tensor::randn({2, 2, 3, 3}, rng));
  w.set_requires_grad(false);
  Tape tape;
  Var y = conv2d(tape, x, w, {1, 1, 1, 1});
  tape.backward(sum(tape, y));
  EXPECT_FALSE(w.has_grad());
  EXPECT_TRUE(x.has_grad());
}

TEST(OpsConv, RejectsMismatchedShapes) {
  Tape tape;
  Var x = make_constant(Tensor::zeros({1, 3, 4, 4}));
  EXPECT_THROW(conv2d(tape, x, make_constant(Tensor::zeros({2, 2, 3, 3})), {1, 1, 1, 1}), std::invalid_argument);
  EXPECT_THROW(conv2d(tape, x, make_constant(Tensor::zeros({2, 3, 7, 7})), {1, 0, 1, 1}), std::invalid_argument);
  EXPECT_THROW(conv2d(tape, x, make_constant(Tensor::zeros({4, 3, 3, 3})), {1, 1, 1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace hwnas::nas
