#pragma once
// Presenting simulation results: the aligned per-layer table `hwnas sim` prints, and the
// layers.json / layers.csv files it writes. Formatting only; the numbers come from LayerStats.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"

namespace hwnas::sim {

// The network total: counts, cycles and energies summed. Overall util is recomputed over the
// whole run (sum of mapped MACs / (sum of total cycles * rows * cols)); mapping efficiency and
// compute util are the means over the array layers weighted by their compute cycles (vector-unit
// layers have no mapping).
LayerStats total_layer_stats(const std::vector<Layer>& layers, const std::vector<LayerStats>& stats,
                             const ArchConfig& arch);

// "1,234,567"
std::string group_thousands(std::int64_t v);

// One row per layer plus a TOTAL row, columns aligned, units in the header. "compute" is the
// busy time of the array or the vector unit (compute_cycles + vector_cycles), so that every row
// reads cycles = compute + stall; "util %" is the overall utilisation (stalls included).
std::string format_layer_table(const std::vector<LayerStats>& stats, const LayerStats& total);

// layers.csv: a header with units in the column names, then one row per layer (no total row).
std::string layers_csv(const std::vector<Layer>& layers, const std::vector<LayerStats>& stats);

// layers.json: {"tool", "version", "fidelity", "arch", "arch_hash", "source",
//               "layers": [{"name", "spec", "stats"}], "total": {...}}
nlohmann::json layers_json(const ArchConfig& arch, const std::vector<Layer>& layers,
                           const std::vector<LayerStats>& stats, const std::string& fidelity,
                           const std::string& source);

}  // namespace hwnas::sim
