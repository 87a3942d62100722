#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/nas/cost_table.hpp"
#include "hwnas/nas/hardware_term.hpp"
#include "search_test_util.hpp"

namespace fs = std::filesystem;
using namespace hwnas::nas;

namespace {

// 3 cells (0 normal, 1 and 2 reduce), 1 node (2 edges per cell), 3 ops; values chosen by hand.
const char* kSmallTable = R"({
  "schema": "hwnas-cost-table", "schema_version": 1,
  "generator": {"tool": "hand", "fidelity": "hardware"},
  "geometry": {"input_channels": 1, "input_height": 16, "input_width": 16, "num_classes": 4,
               "cells": 3, "channels": 4, "nodes": 1, "stem_multiplier": 3, "reduction_cells": [1, 2]},
  "ops": ["none", "skip_connect", "sep_conv_3x3"],
  "metrics": ["latency_cycles", "energy_pj"],
  "normalization": {"method": "per_edge_max"},
  "cells": [
    {"index": 0, "type": "normal", "edges": [
       {"index": 0, "from": 0, "to": 2, "stride": 1, "costs": {"latency_cycles": [0, 10, 100], "energy_pj": [1, 2, 3]}},
       {"index": 1, "from": 1, "to": 2, "stride": 1, "costs": {"latency_cycles": [0, 20, 200], "energy_pj": [1, 2, 3]}}],
     "fixed": {"latency_cycles": 11}},
    {"index": 1, "type": "reduce", "edges": [
       {"index": 0, "from": 0, "to": 2, "stride": 2, "costs": {"latency_cycles": [0, 5, 50], "energy_pj": [1, 2, 3]}},
       {"index": 1, "from": 1, "to": 2, "stride": 2, "costs": {"latency_cycles": [0, 6, 60], "energy_pj": [1, 2, 3]}}],
     "fixed": {"latency_cycles": 12}},
    {"index": 2, "type": "reduce", "edges": [
       {"index": 0, "from": 0, "to": 2, "stride": 2, "costs": {"latency_cycles": [0, 1, 40], "energy_pj": [1, 2, 3]}},
       {"index": 1, "from": 1, "to": 2, "stride": 2, "costs": {"latency_cycles": [0, 2, 80], "energy_pj": [1, 2, 3]}}],
     "fixed": {"latency_cycles": 13}}
  ],
  "fixed": {"stem": {"latency_cycles": 7}, "classifier": {"latency_cycles": 3}}
})";

CostTable small_table() { return CostTable::parse(nlohmann::json::parse(kSmallTable), "small.json"); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const hwnas::InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace

TEST(CostTable, SumsEachCellTypeOverCellsInSearchOpOrder) {
  const CostTable t = small_table();
  EXPECT_EQ(t.geometry().cells, 3);
  EXPECT_EQ(t.recommended_normalization(), "per_edge_max");
  // Search order differs from table order: columns are remapped.
  const EdgeCosts c = t.edge_costs(CostMetric::kLatencyCycles, {"sep_conv_3x3", "none", "skip_connect"},
                                   CostNormalization::kNone);
  ASSERT_EQ(c.raw[0].rows(), 2);
  ASSERT_EQ(c.raw[0].cols(), 3);
  EXPECT_DOUBLE_EQ(c.raw[0](0, 0), 100);
  EXPECT_DOUBLE_EQ(c.raw[0](1, 2), 20);
  EXPECT_DOUBLE_EQ(c.raw[1](0, 0), 90);   // 50 + 40
  EXPECT_DOUBLE_EQ(c.raw[1](1, 0), 140);  // 60 + 80
  EXPECT_DOUBLE_EQ(c.raw[1](1, 2), 8);    // 6 + 2
  EXPECT_DOUBLE_EQ(c.fixed_raw, 46);      // 7 + 3 + 11 + 12 + 13
  EXPECT_DOUBLE_EQ(c.network_max_raw, 576);  // 46 + 100 + 200 + 50 + 60 + 40 + 80
  EXPECT_DOUBLE_EQ(c.normalized_offset, 46);
  EXPECT_DOUBLE_EQ(t.fixed_cost(CostMetric::kEnergyPj), 0);
}

TEST(CostTable, PerEdgeMaxDividesEachCellsEdgeBeforeSumming) {
  const EdgeCosts c = small_table().edge_costs(CostMetric::kLatencyCycles, {"none", "skip_connect", "sep_conv_3x3"},
                                               CostNormalization::kPerEdgeMax);
  EXPECT_DOUBLE_EQ(c.normalized[0](0, 1), 0.1);
  EXPECT_DOUBLE_EQ(c.normalized[0](1, 2), 1.0);
  EXPECT_DOUBLE_EQ(c.normalized[1](0, 1), 5.0 / 50 + 1.0 / 40);
  EXPECT_DOUBLE_EQ(c.normalized[1](1, 2), 2.0);
  EXPECT_DOUBLE_EQ(c.normalized_offset, 0);
}

TEST(CostTable, NetworkMaxMakesTheCostliestNetworkOne) {
  const EdgeCosts c = small_table().edge_costs(CostMetric::kLatencyCycles, {"none", "skip_connect", "sep_conv_3x3"},
                                               CostNormalization::kNetworkMax);
  EXPECT_DOUBLE_EQ(c.normalized[1](0, 2), 90.0 / 576);
  // All alpha mass on the priciest op of every edge: E_n = 1.
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(2, 3);
  a.col(2).setConstant(60.0);  // softmax ~ one-hot
  HardwareTerm term(c, 1.0, std::nullopt);
  EXPECT_NEAR(term.evaluate(a, a).expected_normalized, 1.0, 1e-12);
  EXPECT_NEAR(term.evaluate(a, a).expected_raw, 576, 1e-9);
}

TEST(CostTable, ErrorsNameFilePathAndValue) {
  auto with = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = nlohmann::json::parse(kSmallTable);
    edit(j);
    return error_of([&] { CostTable::parse(j, "t.json"); });
  };
  EXPECT_NE(with([](auto& j) { j["schema_version"] = 2; }).find("t.json: /schema_version"), std::string::npos);
  EXPECT_NE(with([](auto& j) { j["schema"] = "x"; }).find("\"x\""), std::string::npos);
  const std::string neg = with([](auto& j) { j["cells"][1]["edges"][0]["costs"]["latency_cycles"][2] = -4; });
  EXPECT_NE(neg.find("t.json: /cells/1/edges/0/costs/latency_cycles/2"), std::string::npos) << neg;
  EXPECT_NE(neg.find("-4"), std::string::npos) << neg;
  const std::string len = with([](auto& j) { j["cells"][0]["edges"][1]["costs"]["energy_pj"] = {1, 2}; });
  EXPECT_NE(len.find("/cells/0/edges/1/costs/energy_pj"), std::string::npos) << len;
  const std::string type = with([](auto& j) { j["cells"][0]["type"] = "reduce"; });
  EXPECT_NE(type.find("/cells/0/type"), std::string::npos) << type;
  const std::string unknown = with([](auto& j) { j["cells"][0]["edges"][0]["cost"] = 1; });
  EXPECT_NE(unknown.find("/cells/0/edges/0/cost"), std::string::npos) << unknown;
  const std::string count = with([](auto& j) { j["cells"][2]["edges"].erase(1); });
  EXPECT_NE(count.find("/cells/2/edges"), std::string::npos) << count;
  const std::string stride = with([](auto& j) { j["cells"][1]["edges"][1]["stride"] = 1; });
  EXPECT_NE(stride.find("/cells/1/edges/1/stride"), std::string::npos) << stride;
}

TEST(CostTable, MissingSearchOpOrMetricIsAnInputError) {
  const CostTable t = small_table();
  const std::string op = error_of([&] { t.op_columns({"none", "dil_conv_3x3"}); });
  EXPECT_NE(op.find("dil_conv_3x3"), std::string::npos) << op;
  EXPECT_NE(op.find("small.json"), std::string::npos) << op;
  const std::string metric = error_of([&] { t.edge_costs(CostMetric::kMacs, {"none"}, CostNormalization::kNone); });
  EXPECT_NE(metric.find("macs"), std::string::npos) << metric;
  EXPECT_NE(metric.find("/cells/0/edges/0/costs"), std::string::npos) << metric;
}

TEST(CostTable, GeometryMismatchNamesTheField) {
  SearchGeometry g = small_table().geometry();
  EXPECT_NO_THROW(small_table().check_geometry(g));
  g.channels = 8;
  const std::string e = error_of([&] { small_table().check_geometry(g); });
  EXPECT_NE(e.find("/geometry/channels"), std::string::npos) << e;
}

TEST(CostTable, LoadsAHandWrittenFileFromDisk) {
  const fs::path p = fs::temp_directory_path() / "hwnas_test_cost_table_small.json";
  hwnas::write_file_atomically(p, kSmallTable);
  EXPECT_EQ(CostTable::load(p.string()).ops().size(), 3u);
  hwnas::write_file_atomically(p, "{\"schema\": ");
  EXPECT_NE(error_of([&] { CostTable::load(p.string()); }).find(p.string()), std::string::npos);
  fs::remove(p);
}

TEST(CostTable, GeneratedTableMatchesSearchGeometry) {
  SearchGeometry g;
  g.input_channels = 1;
  g.input_height = g.input_width = 8;
  g.cells = 3;
  g.channels = 4;
  g.nodes = 2;
  const std::vector<std::string> ops = {"none", "skip_connect", "sep_conv_3x3"};
  const CostTable t = CostTable::parse(testutil::make_table(g, ops, testutil::darts_like_costs(g, ops)), "gen");
  EXPECT_NO_THROW(t.check_geometry(g));
  EXPECT_EQ(t.cells().at(1).edges.size(), 5u);
}

TEST(HardwareTerm, GradientMatchesFiniteDifferences) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> nd(0.0, 1.0);
  Eigen::MatrixXd cost(5, 4), alpha(5, 4);
  for (Eigen::Index i = 0; i < cost.size(); ++i) {
    cost.data()[i] = std::abs(nd(rng)) * 10;
    alpha.data()[i] = nd(rng);
  }
  Eigen::MatrixXd grad;
  expected_cost(alpha, cost, &grad);
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < alpha.size(); ++i) {
    Eigen::MatrixXd ap = alpha, am = alpha;
    ap.data()[i] += h;
    am.data()[i] -= h;
    const double fd = (expected_cost(ap, cost, nullptr) - expected_cost(am, cost, nullptr)) / (2 * h);
    EXPECT_NEAR(grad.data()[i], fd, 1e-6 * std::max(1.0, std::abs(fd)));
  }
}

TEST(HardwareTerm, UniformAlphaGivesTheMeanCostAndGammaScales) {
  const EdgeCosts c = small_table().edge_costs(CostMetric::kLatencyCycles, {"none", "skip_connect", "sep_conv_3x3"},
                                               CostNormalization::kNone);
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(2, 3);
  // Mean of each edge's three costs, plus the fixed 46.
  const double expect = 46 + (110 + 220 + 96 + 148) / 3.0;
  const HardwareTermValue v = HardwareTerm(c, 0.5, std::nullopt).evaluate(zero, zero);
  EXPECT_NEAR(v.expected_raw, expect, 1e-9);
  EXPECT_NEAR(v.expected_normalized, expect, 1e-9);
  EXPECT_NEAR(v.penalty, 0.5 * expect, 1e-9);
  // d/dalpha of edge 0 normal, op sep: p(c - E) = 1/3 * (100 - 110/3), times gamma.
  EXPECT_NEAR(v.grad[0](0, 2), 0.5 * (100 - 110 / 3.0) / 3.0, 1e-12);
}

TEST(HardwareTerm, BudgetPenalisesOnlyTheExcess) {
  const EdgeCosts c = small_table().edge_costs(CostMetric::kLatencyCycles, {"none", "skip_connect", "sep_conv_3x3"},
                                               CostNormalization::kNetworkMax);
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(2, 3);
  const double e_raw = 46 + (110 + 220 + 96 + 148) / 3.0;  // 237.33
  const HardwareTermValue under = HardwareTerm(c, 2.0, 300.0).evaluate(zero, zero);
  EXPECT_EQ(under.penalty, 0.0);
  EXPECT_EQ(under.grad[0].cwiseAbs().maxCoeff(), 0.0);
  const HardwareTermValue over = HardwareTerm(c, 2.0, 200.0).evaluate(zero, zero);
  EXPECT_NEAR(over.penalty, 2.0 * (e_raw - 200.0) / 576, 1e-12);
  const HardwareTermValue plain = HardwareTerm(c, 2.0, std::nullopt).evaluate(zero, zero);
  EXPECT_NEAR((over.grad[1] - plain.grad[1]).cwiseAbs().maxCoeff(), 0.0, 1e-15);
  // per_edge_max has no raw-unit budget.
  const EdgeCosts pe = small_table().edge_costs(CostMetric::kLatencyCycles, {"none"}, CostNormalization::kPerEdgeMax);
  EXPECT_THROW(HardwareTerm(pe, 1.0, 10.0), hwnas::InputError);
}
