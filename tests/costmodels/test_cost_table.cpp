// Cost tables: deduplication, the disk cache, worker processes, the JSON schema, and the
// equality of a genotype's whole-network cost with the sum of its table entries.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/content_hash.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/costmodels/cost_table.hpp"
#include "hwnas/sim/analytic.hpp"

namespace hc = hwnas::costmodels;
namespace fs = std::filesystem;
using hwnas::sim::LayerKind;

namespace {

hwnas::sim::ArchConfig arch(const std::string& name = "tiny_radhard_8x8") {
  return hwnas::sim::load_arch_config(std::string(HWNAS_SOURCE_DIR) + "/arch_configs/" + name + ".json");
}

// A deterministic stand-in for the simulator: every field a simple function of the layer, so
// the table's aggregation can be checked by hand.
hwnas::sim::LayerStats fake(const hwnas::sim::Layer& l) {
  hwnas::sim::LayerStats s;
  s.layer_name = l.name;
  const std::int64_t macs = hc::conventional_macs(l);
  const std::int64_t elems = l.kind == LayerKind::kGemm ? l.gemm_k : l.in_h * l.in_w * l.in_channels;
  s.total_cycles = 1 + macs / 3 + elems / 2 + l.kernel_h;
  s.mapped_macs = macs;
  s.energy_mac_pj = 0.5 * static_cast<double>(macs);
  s.energy_vector_pj = 0.125 * static_cast<double>(elems);
  s.dram_ifmap_reads = elems;
  s.sram_ifmap_reads = 2 * elems;
  s.sram_filter_reads = l.out_channels;
  return s;
}

struct CountingSim {
  std::shared_ptr<std::size_t> layers = std::make_shared<std::size_t>(0);
  std::shared_ptr<std::vector<std::string>> keys = std::make_shared<std::vector<std::string>>();
  hc::BatchSimulator fn() const {
    auto n = layers;
    auto k = keys;
    return [n, k](const hwnas::sim::ArchConfig&, const std::vector<hwnas::sim::Layer>& ls) {
      std::vector<hwnas::sim::LayerStats> out;
      for (const auto& l : ls) {
        ++*n;
        k->push_back(hc::layer_shape_key(l));
        out.push_back(fake(l));
      }
      return out;
    };
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("hwnas_costmodels_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

hc::CostTableRequest small_request(const CountingSim& sim, const std::string& cache = "") {
  hc::CostTableRequest r;
  r.arch = arch();
  r.geometry.input_height = r.geometry.input_width = 16;
  r.geometry.cells = 3;  // reductions at 1 and 2
  r.geometry.channels = 8;
  r.ops = hwnas::OpCatalog::builtin().select("darts+conv");
  r.simulation.simulator = sim.fn();
  r.simulation.cache_dir = cache;
  return r;
}

}  // namespace

// One cell, one node, one op, everything element-wise fused: 14 layers of 7 distinct shapes
// (preprocess0 == preprocess1, and each sep_conv repeats its dw and pw shapes).
TEST(CostTable, DeduplicatesIdenticalShapes) {
  CountingSim sim;
  hc::CostTableRequest r;
  r.arch = arch();
  r.geometry.input_height = r.geometry.input_width = 8;
  r.geometry.cells = 1;
  r.geometry.nodes = 1;
  r.geometry.reduction_cells = std::vector<std::int64_t>{};
  r.ops = hwnas::OpCatalog::builtin().select("sep_conv_3x3");
  r.variant.fuse_elementwise = true;
  r.simulation.simulator = sim.fn();
  const auto res = hc::build_cost_table(r);
  EXPECT_EQ(res.report.layers, 14u);  // stem 1, classifier 2, preprocess 2, add 1, 2 edges x 4 convs
  EXPECT_EQ(res.report.distinct, 7u);
  EXPECT_EQ(*sim.layers, 7u);
  std::set<std::string> unique(sim.keys->begin(), sim.keys->end());
  EXPECT_EQ(unique.size(), sim.keys->size());  // nothing simulated twice
}

TEST(CostTable, SchemaFieldsAndShape) {
  CountingSim sim;
  auto r = small_request(sim);
  r.normalization = hc::Normalization::kNetworkMax;
  const auto t = hc::build_cost_table(r).table;
  EXPECT_EQ(t.at("schema"), "hwnas-cost-table");
  EXPECT_EQ(t.at("schema_version"), 1);
  EXPECT_EQ(t.at("generator").at("fidelity"), "analytic");
  EXPECT_EQ(t.at("arch_hash"), hwnas::sim::arch_config_hash(r.arch));
  EXPECT_EQ(t.at("arch"), hwnas::sim::arch_config_to_json(r.arch));
  const auto& g = t.at("geometry");
  EXPECT_EQ(g.at("cells"), 3);
  EXPECT_EQ(g.at("channels"), 8);
  EXPECT_EQ(g.at("nodes"), 4);
  EXPECT_EQ(g.at("stem_multiplier"), 3);
  EXPECT_EQ(g.at("input_height"), 16);
  EXPECT_EQ(g.at("reduction_cells"), nlohmann::json({1, 2}));
  EXPECT_EQ(t.at("ops").size(), 10u);
  EXPECT_EQ(t.at("ops")[4], "sep_conv_3x3");
  EXPECT_EQ(t.at("op_definitions").size(), 10u);
  EXPECT_EQ(t.at("metrics").size(), 7u);
  EXPECT_EQ(t.at("normalization").at("method"), "network_max");
  ASSERT_EQ(t.at("cells").size(), 3u);
  for (const auto& c : t.at("cells")) {
    ASSERT_EQ(c.at("edges").size(), 14u);
    for (const auto& e : c.at("edges"))
      for (const auto& m : t.at("metrics")) ASSERT_EQ(e.at("costs").at(m.get<std::string>()).size(), 10u);
    for (const auto& m : t.at("metrics")) EXPECT_TRUE(c.at("fixed").contains(m.get<std::string>()));
  }
  EXPECT_EQ(t.at("cells")[1].at("type"), "reduce");
  EXPECT_EQ(t.at("cells")[1].at("edges")[0].at("stride"), 2);
  EXPECT_EQ(t.at("cells")[1].at("edges")[4].at("stride"), 1);  // node 2 -> node 3
  EXPECT_TRUE(t.at("fixed").contains("stem"));
  EXPECT_TRUE(t.at("fixed").contains("classifier"));
}

// Each entry is the sum of its layers' results; checked against the fake simulator by hand.
TEST(CostTable, EntriesAggregateTheirLayers) {
  CountingSim sim;
  auto r = small_request(sim);
  const auto t = hc::build_cost_table(r).table;
  // cell 0, edge 0, sep_conv_3x3 (op 4): C=8 at 16x16, stride 1.
  const auto layers = hc::op_layers(hwnas::OpCatalog::builtin().get("sep_conv_3x3"), {8, 16, 16}, 1, {}, "x");
  std::int64_t cycles = 0, dram = 0, sram = 0;
  double energy = 0;
  for (const auto& l : layers) {
    const auto s = fake(l.layer);
    cycles += s.total_cycles;
    energy += s.energy_total_pj();
    dram += s.dram_ifmap_reads;
    sram += s.sram_ifmap_reads + s.sram_filter_reads;
  }
  const auto& costs = t.at("cells")[0].at("edges")[0].at("costs");
  EXPECT_EQ(costs.at("latency_cycles")[4], cycles);
  EXPECT_DOUBLE_EQ(costs.at("energy_pj")[4].get<double>(), energy);
  EXPECT_EQ(costs.at("dram_bytes")[4], dram);  // word_bytes = 1
  EXPECT_EQ(costs.at("sram_bytes")[4], sram);
  EXPECT_EQ(costs.at("macs")[4], 2 * 16 * 16 * 8 * (9 + 8));
  EXPECT_EQ(costs.at("param_bytes")[4], 2 * (8 * 9 + 8 * 8 + 16));
  EXPECT_EQ(costs.at("latency_cycles")[0], 0);  // none
  EXPECT_EQ(costs.at("latency_cycles")[3], 0);  // identity
  // utilisation = mapped MACs / (cycles x 64 PEs)
  EXPECT_NEAR(costs.at("utilization_pct")[4].get<double>(),
              100.0 * (2 * 16 * 16 * 8 * (9 + 8)) / (static_cast<double>(cycles) * 64), 1e-9);
}

TEST(CostTable, SecondBuildHitsTheCache) {
  TempDir dir;
  CountingSim sim;
  const auto first = hc::build_cost_table(small_request(sim, dir.path.string()));
  const std::size_t simulated = *sim.layers;
  EXPECT_EQ(simulated, first.report.distinct);
  EXPECT_EQ(first.report.cache_hits, 0u);
  const auto second = hc::build_cost_table(small_request(sim, dir.path.string()));
  EXPECT_EQ(*sim.layers, simulated);  // no simulation at all
  EXPECT_EQ(second.report.cache_hits, first.report.distinct);
  EXPECT_EQ(second.report.simulated, 0u);
  auto a = first.table, b = second.table;
  a["generator"].erase("simulation");
  b["generator"].erase("simulation");
  EXPECT_EQ(a, b);
}

TEST(CostTable, CacheInvalidation) {
  TempDir dir;
  CountingSim sim;
  const auto base = hc::build_cost_table(small_request(sim, dir.path.string()));
  const std::size_t distinct = base.report.distinct;

  // A changed accelerator shares no entries.
  auto r = small_request(sim, dir.path.string());
  r.arch.dram_bandwidth_words_per_cycle *= 2;
  *sim.layers = 0;
  hc::build_cost_table(r);
  EXPECT_EQ(*sim.layers, distinct);

  // Another simulator version shares no entries.
  r = small_request(sim, dir.path.string());
  r.simulation.simulator_version = "other-version";
  *sim.layers = 0;
  hc::build_cost_table(r);
  EXPECT_EQ(*sim.layers, distinct);

  // Corrupt one entry of the base set and make another claim a different version: both rebuilt.
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir.path))
    if (e.is_regular_file()) files.push_back(e.path());
  ASSERT_GE(files.size(), 3 * distinct);
  const auto base_arch_hash = hwnas::content_hash_hex(hwnas::sim::arch_config_to_json(arch()).dump());
  std::vector<fs::path> base_files;
  for (const auto& f : files) {
    const auto j = nlohmann::json::parse(hwnas::read_file(f));
    if (j.at("arch_hash") == base_arch_hash && j.at("simulator_version") == hc::default_simulator_version())
      base_files.push_back(f);
  }
  ASSERT_EQ(base_files.size(), distinct);
  { std::ofstream(base_files[0]) << "{\"format\": \"hwnas-layer-cache\", truncated"; }
  auto j = nlohmann::json::parse(hwnas::read_file(base_files[1]));
  j["simulator_version"] = "0.0.0/model-0";
  { std::ofstream(base_files[1]) << j.dump(); }
  auto j2 = nlohmann::json::parse(hwnas::read_file(base_files[2]));
  j2["stats"].erase("total_cycles");
  { std::ofstream(base_files[2]) << j2.dump(); }
  *sim.layers = 0;
  const auto rebuilt = hc::build_cost_table(small_request(sim, dir.path.string()));
  EXPECT_EQ(*sim.layers, 3u);
  EXPECT_EQ(rebuilt.report.cache_rejected, 3u);
  EXPECT_EQ(rebuilt.report.warnings.size(), 3u);
  auto a = base.table, b = rebuilt.table;
  a["generator"].erase("simulation");
  b["generator"].erase("simulation");
  EXPECT_EQ(a, b);
  // ... and repaired: the next build is all hits.
  *sim.layers = 0;
  hc::build_cost_table(small_request(sim, dir.path.string()));
  EXPECT_EQ(*sim.layers, 0u);
}

TEST(CostTable, WorkerProcessesReturnResultsInOrder) {
  CountingSim sim;
  auto r = small_request(sim);
  const auto in_process = hc::build_cost_table(r).table;
  r.simulation.force_workers = true;
  r.simulation.jobs = 3;
  const auto res = hc::build_cost_table(r);
  EXPECT_EQ(res.report.workers, 3);
  EXPECT_EQ(res.table, in_process);
}

TEST(CostTable, WorkerFailureIsReported) {
  std::vector<hwnas::sim::Layer> layers(4);
  for (int i = 0; i < 4; ++i) {
    layers[i].kind = LayerKind::kGemm;
    layers[i].gemm_m = layers[i].gemm_n = 1;
    layers[i].gemm_k = i + 1;
  }
  hc::BatchSimulator bad = [](const hwnas::sim::ArchConfig&, const std::vector<hwnas::sim::Layer>& ls) {
    if (ls.at(0).gemm_k == 3) throw hwnas::InputError("arch.json", "cannot hold a single tile");
    return std::vector<hwnas::sim::LayerStats>{fake(ls.at(0))};
  };
  try {
    hc::simulate_in_workers(arch(), layers, bad, 2, nullptr);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("single tile"), std::string::npos);
  }
}

// field-notes 6.2: DARTS_V2 at C=16, L=8, 10 classes with a 3-channel stem holds 246,106
// parameters (245,242 with a 1-channel stem).
const char* kDartsV2 = R"({
  "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
             ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
  "normal_concat": [2, 3, 4, 5],
  "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
             ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
  "reduce_concat": [2, 3, 4, 5]})";

TEST(NetworkCost, DartsV2ParameterCountMatchesGolden) {
  const auto cat = hwnas::OpCatalog::builtin();
  const auto geno = hc::parse_genotype(nlohmann::json::parse(kDartsV2), "g.json", cat);
  CountingSim sim;
  hc::SimulationOptions so;
  so.simulator = sim.fn();
  hc::SearchGeometry g;
  g.input_channels = 3;
  g.input_height = g.input_width = 32;
  EXPECT_EQ(hc::network_cost(arch(), g, geno, cat, {}, so).total.param_bytes, 246106);
  g.input_channels = 1;
  EXPECT_EQ(hc::network_cost(arch(), g, geno, cat, {}, so).total.param_bytes, 245242);
}

// Whole network = fixed parts + each cell's fixed + the chosen edges' entries (the real
// analytic twin, both sides).
TEST(NetworkCost, EqualsSumOfTableEntries) {
  const auto cat = hwnas::OpCatalog::builtin();
  const auto geno = hc::parse_genotype(nlohmann::json::parse(kDartsV2), "g.json", cat);
  for (bool fuse : {false, true}) {
    hc::CostTableRequest r;
    r.arch = arch();
    r.geometry.input_height = r.geometry.input_width = 32;
    r.ops = cat.select("darts");
    r.variant.fuse_elementwise = fuse;
    const auto t = hc::build_cost_table(r).table;
    const auto net = hc::network_cost(r.arch, r.geometry, geno, cat, r.variant, r.simulation);

    const auto ops = t.at("ops").get<std::vector<std::string>>();
    auto op_index = [&](const std::string& n) {
      return static_cast<std::size_t>(std::find(ops.begin(), ops.end(), n) - ops.begin());
    };
    for (const char* m : {"latency_cycles", "energy_pj", "macs", "dram_bytes", "sram_bytes", "param_bytes"}) {
      double sum = t.at("fixed").at("stem").at(m).get<double>() + t.at("fixed").at("classifier").at(m).get<double>();
      for (const auto& cell : t.at("cells")) {
        sum += cell.at("fixed").at(m).get<double>();
        const auto& pairs = cell.at("type") == "reduce" ? geno.reduce : geno.normal;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
          const auto e = hc::edge_index(pairs[i].second, 2 + static_cast<std::int64_t>(i / 2));
          sum += cell.at("edges")[static_cast<std::size_t>(e)].at("costs").at(m)[op_index(pairs[i].first)].get<double>();
        }
      }
      const double whole = hc::metric_value(net.total, m, r.arch);
      EXPECT_NEAR(whole, sum, 1e-9 * std::max(1.0, whole)) << m << " fuse=" << fuse;
      EXPECT_GT(whole, 0) << m;
    }
  }
}

TEST(NetworkCost, GenotypeErrorsNameThePlace) {
  const auto cat = hwnas::OpCatalog::builtin();
  auto j = nlohmann::json::parse(kDartsV2);
  j["normal"][3][0] = "sep_conv_9x9";
  try {
    hc::parse_genotype(j, "g.json", cat);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("g.json: /normal/3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sep_conv_9x9"), std::string::npos) << e.what();
  }
  j = nlohmann::json::parse(kDartsV2);
  j["reduce"][1][1] = 2;  // node 2 cannot read node 2
  EXPECT_THROW(hc::parse_genotype(j, "g.json", cat), hwnas::InputError);
  j = nlohmann::json::parse(kDartsV2);
  j["normal_concat"] = {2, 6};
  EXPECT_THROW(hc::parse_genotype(j, "g.json", cat), hwnas::InputError);
  j = nlohmann::json::parse(kDartsV2);
  j["extra"] = 1;
  EXPECT_THROW(hc::parse_genotype(j, "g.json", cat), hwnas::InputError);
  j = nlohmann::json::parse(kDartsV2);
  j["normal"].erase(7);
  EXPECT_THROW(hc::parse_genotype(j, "g.json", cat), hwnas::InputError);
}

TEST(CostTable, UnknownOpIsAnInputError) {
  EXPECT_THROW(hwnas::OpCatalog::builtin().select("sep_conv_3x3,warp_conv"), hwnas::InputError);
}
