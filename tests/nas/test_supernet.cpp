#include <gtest/gtest.h>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/network.hpp"
#include "hwnas/nas/supernet.hpp"

using namespace hwnas::nas;

namespace {

std::vector<hwnas::OpDef> darts_ops() { return hwnas::OpCatalog::builtin().select("darts"); }

Genotype darts_v2() {
  Genotype g;
  g.normal = {{"sep_conv_3x3", 0}, {"sep_conv_3x3", 1}, {"sep_conv_3x3", 0}, {"sep_conv_3x3", 1},
              {"sep_conv_3x3", 1}, {"skip_connect", 0}, {"skip_connect", 0}, {"dil_conv_3x3", 2}};
  g.reduce = {{"max_pool_3x3", 0}, {"max_pool_3x3", 1}, {"skip_connect", 2}, {"max_pool_3x3", 1},
              {"max_pool_3x3", 0}, {"skip_connect", 2}, {"skip_connect", 2}, {"max_pool_3x3", 1}};
  g.normal_concat = g.reduce_concat = {2, 3, 4, 5};
  return g;
}

// chenxin061/pdarts genotypes.py PDARTS.
Genotype pdarts() {
  Genotype g;
  g.normal = {{"skip_connect", 0}, {"dil_conv_3x3", 1}, {"skip_connect", 0}, {"sep_conv_3x3", 1},
              {"sep_conv_3x3", 1}, {"sep_conv_3x3", 3}, {"sep_conv_3x3", 0}, {"dil_conv_5x5", 4}};
  g.reduce = {{"avg_pool_3x3", 0}, {"sep_conv_5x5", 1}, {"sep_conv_3x3", 0}, {"dil_conv_5x5", 2},
              {"max_pool_3x3", 0}, {"dil_conv_3x3", 1}, {"dil_conv_3x3", 1}, {"dil_conv_5x5", 3}};
  g.normal_concat = g.reduce_concat = {2, 3, 4, 5};
  return g;
}

}  // namespace

// Golden values: field notes 6.2 (an analytic counter that reproduces PDARTS's logged 1,275,834).
TEST(Supernet, ParameterCountMatchesDartsSearchNet) {
  SearchGeometry g;  // 3x32x32, 10 classes, L=8, C=16, 4 nodes
  EXPECT_EQ(Supernet(g, darts_ops(), 1).weight_count(), 1930618);
  g.input_channels = 1;
  EXPECT_EQ(Supernet(g, darts_ops(), 1).weight_count(), 1930618 - 864);
  g.input_channels = 3;
  g.cells = 5;
  EXPECT_EQ(Supernet(g, darts_ops(), 1).weight_count(), 1275834);
}

TEST(Supernet, AlphasAreSmallPerCellTypeAndNotWeights) {
  SearchGeometry g;
  g.cells = 3;
  g.channels = 4;
  g.input_height = g.input_width = 8;
  Supernet net(g, darts_ops(), 3);
  EXPECT_EQ(net.alpha(CellType::kNormal).shape(), (Shape{14, 8}));
  EXPECT_LT(net.alpha(CellType::kReduce).value().max_abs(), 1e-2f);
  EXPECT_GT(net.alpha(CellType::kReduce).value().max_abs(), 0.0f);
  for (const auto& p : net.registry().params) EXPECT_EQ(p.name.find("alpha"), std::string::npos);
}

TEST(DerivedNetwork, ParameterCountsMatchDartsV2AndPdarts) {
  SearchGeometry g;
  const auto cat = hwnas::OpCatalog::builtin();
  EXPECT_EQ(DerivedNetwork(g, darts_v2(), cat, 1).parameter_count(), 246106);
  EXPECT_EQ(DerivedNetwork(g, pdarts(), cat, 1).parameter_count(), 292026);
  g.channels = 36;
  g.cells = 20;
  EXPECT_EQ(DerivedNetwork(g, darts_v2(), cat, 1).parameter_count(), 3349342);
  EXPECT_EQ(DerivedNetwork(g, pdarts(), cat, 1).parameter_count(), 3433798);
  g = SearchGeometry();
  g.input_channels = 1;
  EXPECT_EQ(DerivedNetwork(g, darts_v2(), cat, 1).parameter_count(), 246106 - 864);
}

// The whole supernet's d loss / d alpha (autograd through every MixedOp, softmax, cell and the
// classifier) against central finite differences of the loss itself.
TEST(Supernet, AlphaGradientMatchesFiniteDifferences) {
  SearchGeometry g;
  g.input_channels = 1;
  g.input_height = g.input_width = 4;
  g.num_classes = 3;
  g.cells = 3;
  g.channels = 2;
  g.nodes = 2;
  Supernet net(g, darts_ops(), 11);
  std::mt19937_64 rng(5);
  const Tensor x = Tensor::randn({4, 1, 4, 4}, rng);
  const std::vector<int> labels = {0, 1, 2, 1};
  // Spread the alphas so the softmax is not flat (a flat softmax hides wiring mistakes).
  for (CellType t : {CellType::kNormal, CellType::kReduce}) {
    Var a = net.alpha(t);
    a.value() = Tensor::randn(a.shape(), rng, 1.0f);
  }
  auto loss_value = [&]() {
    Tape tape(false);
    return static_cast<double>(cross_entropy(tape, net.forward(tape, make_constant(x), true), labels).value()[0]);
  };
  Tape tape;
  const Var loss = cross_entropy(tape, net.forward(tape, make_constant(x), true), labels);
  tape.backward(loss);
  int checked = 0;
  for (CellType t : {CellType::kNormal, CellType::kReduce}) {
    Var a = net.alpha(t);
    const Tensor grad = a.grad();
    for (std::int64_t i = 0; i < a.numel(); i += 3) {
      const float keep = a.value()[i];
      const float h = 1e-2f;
      a.value()[i] = keep + h;
      const double up = loss_value();
      a.value()[i] = keep - h;
      const double down = loss_value();
      a.value()[i] = keep;
      const double fd = (up - down) / (2.0 * h);
      EXPECT_NEAR(grad[i], fd, 2e-4 + 0.05 * std::abs(fd)) << cell_type_name(t) << " alpha " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}
