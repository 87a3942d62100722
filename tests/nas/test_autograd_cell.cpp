// A small DARTS-like cell built from the ops, its whole gradient checked by finite differences:
// ReLUConvBN preprocessing, MixedOps (none, max/avg pool + BN, skip, sep-conv chain, dil-conv)
// weighted by softmax(alpha), two intermediate nodes, concat, FactorizedReduce, classifier head.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hwnas/nas/ops.hpp"
#include "test_autograd_gradcheck.hpp"

namespace hwnas::nas {
namespace {

constexpr int kC = 4;

struct SepConv {
  Var dw1, pw1, dw2, pw2;
  BatchNormState bn1, bn2;
};
struct DilConv {
  Var dw, pw;
  BatchNormState bn;
};
struct Edge {
  SepConv sep;
  DilConv dil;
  BatchNormState max_bn, avg_bn;
};

struct TinyCell {
  Var pre0_w;  // 1x1, 6 -> C
  BatchNormState pre0_bn;
  std::vector<Edge> edges;  // node 2: edges 0,1; node 3: edges 2,3,4
  Var alpha;                // [5 edges, 6 ops]
  Var fr_w1, fr_w2;         // FactorizedReduce 2C -> C
  BatchNormState fr_bn;
  Var fc_w, fc_b;

  explicit TinyCell(std::mt19937_64& rng) {
    auto w = [&](Shape s) { return make_parameter(Tensor::randn(std::move(s), rng, 0.4f)); };
    pre0_w = w({kC, 6, 1, 1});
    pre0_bn = BatchNormState::make(kC, false);
    for (int e = 0; e < 5; ++e) {
      Edge ed;
      ed.sep = {w({kC, 1, 3, 3}), w({kC, kC, 1, 1}), w({kC, 1, 3, 3}), w({kC, kC, 1, 1}),
                BatchNormState::make(kC, false), BatchNormState::make(kC, false)};
      ed.dil = {w({kC, 1, 3, 3}), w({kC, kC, 1, 1}), BatchNormState::make(kC, false)};
      ed.max_bn = BatchNormState::make(kC, false);
      ed.avg_bn = BatchNormState::make(kC, false);
      edges.push_back(std::move(ed));
    }
    alpha = make_parameter(Tensor::randn({5, 6}, rng, 0.5f));
    fr_w1 = w({kC / 2, 2 * kC, 1, 1});
    fr_w2 = w({kC / 2, 2 * kC, 1, 1});
    fr_bn = BatchNormState::make(kC, true);
    fc_w = w({3, kC});
    fc_b = w({3});
  }

  Var mixed(Tape& t, const Var& x, int e) {
    Edge& ed = edges[static_cast<std::size_t>(e)];
    const Conv2dParams dw3{1, 1, 1, kC}, dil3{1, 2, 2, kC}, pw{1, 0, 1, 1};
    Var sep = batch_norm(t, conv2d(t, conv2d(t, relu(t, x), ed.sep.dw1, dw3), ed.sep.pw1, pw), ed.sep.bn1, true);
    sep = batch_norm(t, conv2d(t, conv2d(t, relu(t, sep), ed.sep.dw2, dw3), ed.sep.pw2, pw), ed.sep.bn2, true);
    Var dil = batch_norm(t, conv2d(t, conv2d(t, relu(t, x), ed.dil.dw, dil3), ed.dil.pw, pw), ed.dil.bn, true);
    std::vector<Var> ops{zero(t, x, 1),
                         batch_norm(t, max_pool2d(t, x, 3, 1, 1), ed.max_bn, true),
                         batch_norm(t, avg_pool2d(t, x, 3, 1, 1), ed.avg_bn, true),
                         x,
                         sep,
                         dil};
    return weighted_sum(t, ops, softmax(t, row(t, alpha, e)));
  }

  Var forward(Tape& t, const Var& x0, const Var& x1) {
    Var s0 = batch_norm(t, conv2d(t, relu(t, x0), pre0_w, {1, 0, 1, 1}), pre0_bn, true);
    Var s1 = x1;
    Var n2 = add(t, mixed(t, s0, 0), mixed(t, s1, 1));
    Var n3 = add_n(t, {mixed(t, s0, 2), mixed(t, s1, 3), mixed(t, n2, 4)});
    Var out = concat_channels(t, {n2, n3});
    Var r = relu(t, out);
    Var fr = concat_channels(t, {conv2d(t, r, fr_w1, {2, 0, 1, 1}), conv2d(t, shift_crop(t, r), fr_w2, {2, 0, 1, 1})});
    fr = batch_norm(t, fr, fr_bn, true);
    return linear(t, global_avg_pool(t, fr), fc_w, fc_b);
  }

  std::vector<Var> parameters() {
    std::vector<Var> p{pre0_w, alpha, fr_w1, fr_w2, fr_bn.gamma, fr_bn.beta, fc_w, fc_b};
    for (Edge& e : edges) {
      for (const Var& v : {e.sep.dw1, e.sep.pw1, e.sep.dw2, e.sep.pw2, e.dil.dw, e.dil.pw}) p.push_back(v);
    }
    return p;
  }
};

TEST(AutogradCell, WholeCellGradientMatchesFiniteDifferences) {
  std::mt19937_64 rng(2024);
  TinyCell cell(rng);
  // x0 feeds a ReLU, x1 a ReLU and the pools directly: keep them off kinks and ties.
  Var x0 = make_parameter(testing::away_from_zero({2, 6, 4, 4}, rng));
  Var x1 = make_parameter(testing::distinct_values({2, kC, 4, 4}, rng));
  std::vector<Var> leaves = cell.parameters();
  leaves.push_back(x0);
  leaves.push_back(x1);
  testing::GradCheckOptions opt;
  // A smaller step than the single-op tests: the cell has ~2000 ReLU and max-pool inputs whose
  // values come out of BN, and a step that carries one of them across its kink makes the
  // central difference average two slopes (seen at 1e-3 and 2e-3: the numeric value drifts
  // with the step while the analytic one stays put). At 5e-4 no input of this cell crosses;
  // float rounding of the projected logits (|sum| ~ 1, error ~1e-7) over 1e-3 stays ~1e-4.
  opt.eps = 5e-4f;
  EXPECT_EQ(testing::check_gradients([&](Tape& t) { return cell.forward(t, x0, x1); }, leaves, opt), 0);
}

TEST(AutogradCell, CrossEntropyLossBackwardReachesAlphaAndWeights) {
  std::mt19937_64 rng(7);
  TinyCell cell(rng);
  Var x0 = make_constant(Tensor::randn({2, 6, 4, 4}, rng));
  Var x1 = make_constant(Tensor::randn({2, kC, 4, 4}, rng));
  Tape tape;
  Var loss = cross_entropy(tape, cell.forward(tape, x0, x1), {0, 2});
  tape.backward(loss);
  for (const Var& p : cell.parameters()) {
    ASSERT_TRUE(p.has_grad());
    EXPECT_GT(p.grad().max_abs(), 0.0f);
  }
  // The `none` column of alpha only gets gradient through the softmax normalisation.
  EXPECT_NE(cell.alpha.grad()[0], 0.0f);
  tape.clear();
  // Architecture step: weights frozen, only alpha receives gradient.
  for (Var p : cell.parameters()) {
    p.zero_grad();
    if (!p.same_node(cell.alpha)) p.set_requires_grad(false);
  }
  Var loss2 = cross_entropy(tape, cell.forward(tape, x0, x1), {0, 2});
  tape.backward(loss2);
  EXPECT_GT(cell.alpha.grad().max_abs(), 0.0f);
  EXPECT_EQ(cell.pre0_w.grad().max_abs(), 0.0f);
  EXPECT_EQ(cell.fc_w.grad().max_abs(), 0.0f);
}

}  // namespace
}  // namespace hwnas::nas
