#include <gtest/gtest.h>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/cost_table.hpp"
#include "hwnas/nas/genotype.hpp"
#include "search_test_util.hpp"

using namespace hwnas::nas;

namespace {

const std::vector<std::string> kDarts = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                         "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};

// quark0/darts genotypes.py DARTS_V2, as the DARTS code prints a derived genotype.
const char* kDartsV2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
    "reduce_concat=range(2, 6))";

std::int64_t col(const std::string& op) {
  return std::find(kDarts.begin(), kDarts.end(), op) - kDarts.begin();
}

// Alphas that make `cell` the derivation: the first pair of a node gets the larger alpha; `none`
// is the largest everywhere (it must be ignored).
Eigen::MatrixXd alphas_for(const std::vector<GenotypeEdge>& cell) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(14, 8);
  a.col(0).setConstant(9.0);
  for (std::size_t m = 0; m < cell.size(); ++m) {
    const std::int64_t node = 2 + static_cast<std::int64_t>(m / 2);
    const std::int64_t edge = (node - 2) * (node + 1) / 2 + cell[m].from;
    a(edge, col(cell[m].op)) = (m % 2 == 0) ? 5.0 : 4.0;
  }
  return a;
}

Genotype darts_v2() {
  Genotype g;
  g.normal = {{"sep_conv_3x3", 0}, {"sep_conv_3x3", 1}, {"sep_conv_3x3", 0}, {"sep_conv_3x3", 1},
              {"sep_conv_3x3", 1}, {"skip_connect", 0}, {"skip_connect", 0}, {"dil_conv_3x3", 2}};
  g.reduce = {{"max_pool_3x3", 0}, {"max_pool_3x3", 1}, {"skip_connect", 2}, {"max_pool_3x3", 1},
              {"max_pool_3x3", 0}, {"skip_connect", 2}, {"skip_connect", 2}, {"max_pool_3x3", 1}};
  g.normal_concat = g.reduce_concat = {2, 3, 4, 5};
  return g;
}

}  // namespace

TEST(Genotype, DerivationReproducesDartsV2AndItsPrintedForm) {
  const Genotype want = darts_v2();
  const Genotype got = derive_genotype(alphas_for(want.normal), alphas_for(want.reduce), kDarts, 4);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.darts_string(), kDartsV2);
}

TEST(Genotype, TiesKeepLowerEdgesAndFirstNonNoneOp) {
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(14, 8);
  const Genotype g = derive_genotype(zero, zero, kDarts, 4);
  for (std::size_t m = 0; m < g.normal.size(); ++m) {
    EXPECT_EQ(g.normal[m].op, "max_pool_3x3");
    EXPECT_EQ(g.normal[m].from, static_cast<std::int64_t>(m % 2));
  }
}

TEST(Genotype, SkipBudgetZeroesTheWeakestChosenSkipAndRederives) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(14, 8);
  a(0, col("skip_connect")) = 3;   // node 2 from 0
  a(1, col("sep_conv_3x3")) = 2;   // node 2 from 1
  a(2, col("skip_connect")) = 4;   // node 3 from 0
  a(4, col("skip_connect")) = 1;   // node 3 from 2 (weak: p = e/(7+e) = 0.28 > 1/8)
  a(5, col("sep_conv_5x5")) = 2;   // node 4
  a(6, col("dil_conv_3x3")) = 1.5;
  a(9, col("dil_conv_5x5")) = 2;   // node 5
  a(10, col("sep_conv_3x3")) = 1;
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(14, 8);
  const Genotype free = derive_genotype(a, zero, kDarts, 4);
  ASSERT_EQ(free.normal[2], (GenotypeEdge{"skip_connect", 0}));
  ASSERT_EQ(free.normal[3], (GenotypeEdge{"skip_connect", 2}));
  DeriveOptions two;
  two.max_normal_skips = 2;
  const Genotype g2 = derive_genotype(a, zero, kDarts, 4, two);
  // Edge 4 loses skip (p 0 now, others 1/(7+e) < 1/8), so node 3 takes edge 3 (uniform: max_pool).
  EXPECT_EQ(g2.normal[2], (GenotypeEdge{"skip_connect", 0}));
  EXPECT_EQ(g2.normal[3], (GenotypeEdge{"max_pool_3x3", 1}));
  EXPECT_EQ(g2.normal[0], free.normal[0]);
  DeriveOptions one;
  one.max_normal_skips = 1;
  const Genotype g1 = derive_genotype(a, zero, kDarts, 4, one);
  // Next weakest chosen skip is edge 0 (p = e^3/(7+e^3) < e^4/(7+e^4)).
  EXPECT_EQ(g1.normal[0], (GenotypeEdge{"sep_conv_3x3", 1}));
  EXPECT_EQ(g1.normal[1], (GenotypeEdge{"max_pool_3x3", 0}));
  EXPECT_EQ(g1.normal[2], (GenotypeEdge{"skip_connect", 0}));
  EXPECT_EQ(g1.reduce, free.reduce);  // budget applies to the normal cell only
}

TEST(Genotype, JsonRoundTripAndErrors) {
  const Genotype g = darts_v2();
  const nlohmann::json j = g.to_json();
  EXPECT_EQ(j["normal"][7], nlohmann::json::array({"dil_conv_3x3", 2}));
  EXPECT_EQ(j["normal_concat"], nlohmann::json::array({2, 3, 4, 5}));
  EXPECT_EQ(Genotype::from_json(j, "g.json"), g);
  nlohmann::json bad = j;
  bad["normal"][2] = nlohmann::json::array({"sep_conv_3x3", 3});  // node 3 cannot read node 3
  try {
    Genotype::from_json(bad, "g.json");
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("g.json: /normal/2"), std::string::npos) << e.what();
  }
  nlohmann::json unknown = j;
  unknown["normal"][0][0] = "conv_9x9";
  const Genotype u = Genotype::from_json(unknown, "g.json");
  EXPECT_THROW(u.validate(kDarts, "g.json"), hwnas::InputError);
}

TEST(Genotype, DotDrawsEveryChosenEdgeAndTheOutput) {
  const std::string d = darts_v2().dot(CellType::kNormal);
  EXPECT_NE(d.find("digraph normal"), std::string::npos);
  EXPECT_NE(d.find("\"0\" -> \"3\" [label=\"dil_conv_3x3\"]"), std::string::npos) << d;
  EXPECT_NE(d.find("\"c_{k-2}\" -> \"0\" [label=\"sep_conv_3x3\"]"), std::string::npos) << d;
  EXPECT_NE(d.find("\"3\" -> \"c_{k}\""), std::string::npos) << d;
  std::size_t arrows = 0;
  for (std::size_t p = d.find("->"); p != std::string::npos; p = d.find("->", p + 1)) ++arrows;
  EXPECT_EQ(arrows, 8u + 4u);
}

TEST(Genotype, EdgeIndicesFollowTheCellEdgeOrder) {
  const auto idx = darts_v2().edge_indices(CellType::kNormal);
  EXPECT_EQ(idx, (std::vector<std::int64_t>{0, 1, 2, 3, 6, 5, 9, 11}));
  const auto edges = cell_edges(4);
  for (std::size_t m = 0; m < idx.size(); ++m) EXPECT_EQ(edges[static_cast<std::size_t>(idx[m])].to, 2 + static_cast<std::int64_t>(m / 2));
}

TEST(Genotype, CostOfAGenotypeSumsFixedPartsAndChosenEdges) {
  SearchGeometry geo;
  geo.input_channels = 1;
  geo.input_height = geo.input_width = 8;
  geo.cells = 3;  // 0 normal, 1 and 2 reduce
  geo.channels = 4;
  geo.nodes = 1;
  const std::vector<std::string> ops = {"none", "skip_connect", "sep_conv_3x3"};
  // cost = 100*cell + 10*edge + op
  const CostTable t = CostTable::parse(
      testutil::make_table(geo, ops, [](std::int64_t c, std::int64_t e, std::size_t k) { return 100.0 * c + 10.0 * e + k; },
                           5, 6, 1),
      "t");
  Genotype g;
  g.normal = {{"sep_conv_3x3", 1}, {"skip_connect", 0}};
  g.reduce = {{"sep_conv_3x3", 0}, {"none", 1}};
  g.normal_concat = g.reduce_concat = {2};
  // fixed 5 + 6 + 3*1; cell 0: 12 + 1; cell 1: 102 + 110; cell 2: 202 + 210.
  EXPECT_DOUBLE_EQ(genotype_cost(t, g, CostMetric::kLatencyCycles), 14 + 13 + 212 + 412);
}
