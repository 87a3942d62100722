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
