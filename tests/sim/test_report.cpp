// Result presentation: totals, the aligned table, layers.csv and layers.json.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hwnas/sim/report.hpp"

using namespace hwnas::sim;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::string l;
  std::istringstream in(text);
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string f;
  std::istringstream in(line);
  while (std::getline(in, f, sep)) out.push_back(f);
  return out;
}

ArchConfig arch_4x4() {
  ArchConfig a;
  a.name = "t";
  a.array_rows = 4;
  a.array_cols = 4;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 4;
  a.dram_bandwidth_words_per_cycle = 4;
  a.clock_mhz = 100;
  a.vector_lanes = 4;
  return a;
}

// Two array layers and one vector-unit layer with round numbers.
void sample(std::vector<Layer>& layers, std::vector<LayerStats>& stats) {
  layers = {parse_layer_spec("conv2d h=6 w=6 c=1 k=4 r=3", "t"),
            parse_layer_spec("gemm m=8 n=4 k=2", "t"), parse_layer_spec("relu h=4 w=4 c=4", "t")};
  layers[0].name = "conv";
  layers[1].name = "fc";
  layers[2].name = "act";
  stats.assign(3, LayerStats{});
  stats[0].layer_name = "conv";
  stats[0].total_cycles = 120;
  stats[0].compute_cycles = 100;
  stats[0].stall_cycles = 20;
  stats[0].macs = 576;
  stats[0].mapped_macs = 576;
  stats[0].mapping_efficiency_pct = 100;
  stats[0].compute_util_pct = 60;
  stats[0].sram_ifmap_reads = 1000;
  stats[0].sram_filter_reads = 200;
  stats[0].sram_ofmap_writes = 64;
  stats[0].dram_ifmap_reads = 36;
  stats[0].dram_filter_reads = 36;
  stats[0].dram_ofmap_writes = 64;
  stats[0].energy_mac_pj = 1000;
  stats[0].energy_sram_pj = 500;
  stats[1].layer_name = "fc";
  stats[1].total_cycles = 300;
  stats[1].compute_cycles = 300;
  stats[1].macs = 64;
  stats[1].mapped_macs = 64;
  stats[1].mapping_efficiency_pct = 50;
  stats[1].compute_util_pct = 20;
  stats[1].sram_ofmap_reads = 7;
  stats[1].dram_ofmap_reads = 5;
  stats[1].energy_dram_pj = 1234567;
  stats[2].layer_name = "act";
  stats[2].total_cycles = 16;
  stats[2].vector_ops = 64;
  stats[2].vector_cycles = 16;
  stats[2].energy_vector_pj = 6.4;
}

}  // namespace

TEST(Report, GroupThousands) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(1000), "1,000");
  EXPECT_EQ(group_thousands(925119), "925,119");
  EXPECT_EQ(group_thousands(7225344123LL), "7,225,344,123");
  EXPECT_EQ(group_thousands(-1234), "-1,234");
}

TEST(Report, TotalsSumCountsAndWeightUtilisationByComputeCycles) {
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;
  sample(layers, stats);
  const LayerStats t = total_layer_stats(layers, stats, arch_4x4());
  EXPECT_EQ(t.total_cycles, 436);
  EXPECT_EQ(t.compute_cycles, 400);
  EXPECT_EQ(t.stall_cycles, 20);
  EXPECT_EQ(t.macs, 640);
  EXPECT_EQ(t.vector_ops, 64);
  EXPECT_EQ(t.sram_ifmap_reads, 1000);
  EXPECT_EQ(t.dram_ofmap_reads, 5);
  // Mapping efficiency: (100*100 + 50*300) / 400; the relu layer has no mapping.
  EXPECT_DOUBLE_EQ(t.mapping_efficiency_pct, 62.5);
  EXPECT_DOUBLE_EQ(t.compute_util_pct, (60.0 * 100 + 20.0 * 300) / 400);
  // Overall: mapped MACs over all cycles x 16 PEs.
  EXPECT_DOUBLE_EQ(t.overall_util_pct, 100.0 * 640 / (436.0 * 16));
  EXPECT_DOUBLE_EQ(t.energy_total_pj(), 1000 + 500 + 1234567 + 6.4);
}

TEST(Report, TableIsAlignedWithATotalRow) {
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;
  sample(layers, stats);
  const std::string table = format_layer_table(stats, total_layer_stats(layers, stats, arch_4x4()));
  const auto l = lines(table);
  ASSERT_EQ(l.size(), 7u);  // header, rule, 3 layers, rule, total
  for (const auto& line : l) EXPECT_EQ(line.size(), l[0].size()) << line;
  EXPECT_EQ(l[0].rfind("layer", 0), 0u);
  EXPECT_NE(l[0].find("energy nJ"), std::string::npos);
  EXPECT_EQ(l[1].find_first_not_of('-'), std::string::npos);
  EXPECT_EQ(l[6].rfind("TOTAL", 0), 0u);
  EXPECT_NE(l[2].find("1,200"), std::string::npos);    // SRAM reads: ifmap 1000 + filter 200
  EXPECT_NE(l[3].find("1,234.6"), std::string::npos);  // energy in nJ
  EXPECT_NE(l[6].find("436"), std::string::npos);
  // compute = array or vector-unit busy cycles: 100 + 300 + 16, so cycles = compute + stall.
  EXPECT_NE(l[6].find("  416  "), std::string::npos) << l[6];
}

TEST(Report, LayersCsvHasUnitsInColumnNamesAndOneRowPerLayer) {
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;
  sample(layers, stats);
  const auto l = lines(layers_csv(layers, stats));
  ASSERT_EQ(l.size(), 4u);
  const auto header = split(l[0], ',');
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return std::size_t{0};
  };
  for (const auto& row : l) EXPECT_EQ(split(row, ',').size(), header.size()) << row;
  const auto conv = split(l[1], ',');
  EXPECT_EQ(conv[col("name")], "conv");
  EXPECT_EQ(conv[col("spec")], "conv2d h=6 w=6 c=1 k=4 r=3 s=3 stride=1 pad=0 dilation=1 groups=1");
  EXPECT_EQ(conv[col("total_cycles")], "120");
  EXPECT_EQ(conv[col("sram_ifmap_reads_words")], "1000");
  EXPECT_EQ(conv[col("energy_total_pj")], "1500");
  EXPECT_EQ(split(l[2], ',')[col("dram_ofmap_reads_words")], "5");
  EXPECT_EQ(split(l[3], ',')[col("vector_cycles")], "16");
  EXPECT_EQ(split(l[3], ',')[col("energy_vector_pj")], "6.4");
}

TEST(Report, LayersCsvQuotesNamesWithCommas) {
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;
  sample(layers, stats);
  layers[0].name = "conv \"a\", b";
  const auto l = lines(layers_csv(layers, stats));
  EXPECT_EQ(l.at(1).rfind("\"conv \"\"a\"\", b\",conv2d h=6", 0), 0u) << l.at(1);
}

TEST(Report, LayersJsonCarriesArchLayersAndTotal) {
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;
  sample(layers, stats);
  const ArchConfig a = arch_4x4();
  const nlohmann::json j = layers_json(a, layers, stats, "analytic", "net.csv");
  EXPECT_EQ(j.at("tool"), "hwnas");
  EXPECT_EQ(j.at("fidelity"), "analytic");
  EXPECT_EQ(j.at("source"), "net.csv");
  EXPECT_EQ(j.at("arch").at("array_rows"), 4);
  EXPECT_EQ(j.at("arch_hash"), arch_config_hash(a));
  ASSERT_EQ(j.at("layers").size(), 3u);
  EXPECT_EQ(j.at("layers")[1].at("name"), "fc");
  EXPECT_EQ(j.at("layers")[1].at("spec"), "gemm m=8 n=4 k=2");
  EXPECT_EQ(j.at("layers")[0].at("stats"), layer_stats_to_json(stats[0]));
  EXPECT_EQ(j.at("total"), layer_stats_to_json(total_layer_stats(layers, stats, a)));
}
