#pragma once
// Cost tables (docs/cost-table-format.md) and whole-network cost of derived architectures.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/costmodels/decompose.hpp"
#include "hwnas/costmodels/geometry.hpp"
#include "hwnas/costmodels/layer_sim.hpp"
#include "hwnas/sim/arch_config.hpp"

namespace hwnas::costmodels {

inline constexpr int kCostTableSchemaVersion = 1;

// The metrics of a set of layers. All but utilisation add up across layers.
struct Cost {
  std::int64_t latency_cycles = 0;
  double energy_pj = 0;
  std::int64_t macs = 0;         // conventional MACs (see docs/cost-table-format.md)
  std::int64_t dram_bytes = 0;
  std::int64_t sram_bytes = 0;
  std::int64_t param_bytes = 0;
  std::int64_t mapped_macs = 0;  // array MAC slots, for utilisation
  Cost& operator+=(const Cost& o);
  // Array MAC slots used / (cycles x PEs), in percent; 0 for no cycles.
  double utilization_pct(const sim::ArchConfig& arch) const;
};

// The metric names, in table order.
const std::vector<std::string>& metric_names();
double metric_value(const Cost& c, const std::string& metric, const sim::ArchConfig& arch);
nlohmann::json cost_to_json(const Cost& c, const sim::ArchConfig& arch);

// Sum of the per-layer results.
Cost aggregate_cost(const std::vector<HwLayer>& layers, const std::vector<sim::LayerStats>& stats,
                    std::size_t first, const sim::ArchConfig& arch);

enum class Normalization { kNone, kPerEdgeMax, kNetworkMax };
const char* normalization_name(Normalization n);
Normalization parse_normalization(const std::string& s, const std::string& where);

struct CostTableRequest {
  sim::ArchConfig arch;
  SearchGeometry geometry;
  std::vector<OpDef> ops;
  Normalization normalization = Normalization::kPerEdgeMax;
  NetVariant variant;  // default: the ops as the derived network runs them
  SimulationOptions simulation;
};

// Per-op totals over every edge of every cell, for the summary printout.
struct OpSummary {
  std::string name;
  Cost total;
  std::int64_t edges = 0;
};

struct CostTableResult {
  nlohmann::json table;
  SimulationReport report;
  std::vector<OpSummary> summary;
};

CostTableResult build_cost_table(const CostTableRequest& request);

// The compact per-op summary (cycles, energy, MACs, params, cycles per MAC, relative cycles).
std::string format_summary(const std::vector<OpSummary>& summary, const sim::ArchConfig& arch);

// A DARTS genotype as JSON:
// {"normal": [["sep_conv_3x3", 0], ...], "normal_concat": [2,3,4,5], "reduce": [...], "reduce_concat": [...]}
struct Genotype {
  std::vector<std::pair<std::string, std::int64_t>> normal, reduce;
  std::vector<std::int64_t> normal_concat, reduce_concat;
};
Genotype parse_genotype(const nlohmann::json& doc, const std::string& source, const OpCatalog& catalog);
Genotype load_genotype(const std::string& path, const OpCatalog& catalog);

struct NetworkPart {
  std::string name;  // "stem", "cell3", "classifier"
  Cost cost;
  std::int64_t layers = 0;
};

struct NetworkCostResult {
  std::vector<NetworkPart> parts;
  Cost total;
  SimulationReport report;
};

// The derived network of `genotype` (only the chosen edges, no search-only primitives, affine
// BN), simulated layer by layer. `geometry.nodes` must match the genotype (2 edges per node).
NetworkCostResult network_cost(const sim::ArchConfig& arch, const SearchGeometry& geometry,
                               const Genotype& genotype, const OpCatalog& catalog,
                               const NetVariant& variant, const SimulationOptions& simulation);

// Any list of layers (e.g. a topology file), one part per layer.
NetworkCostResult layers_cost(const sim::ArchConfig& arch, const std::vector<sim::Layer>& layers,
                              const SimulationOptions& simulation);

}  // namespace hwnas::costmodels
