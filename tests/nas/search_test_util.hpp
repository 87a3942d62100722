#pragma once
// Hand-written cost tables for the search tests: the format of docs/cost-table-format.md, built
// from a cost function the test chooses, so expected values are known independently of costgen.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/nas/search_space.hpp"

namespace hwnas::nas::testutil {

// cost(cell, edge, op_index) -> latency_cycles; other metrics are latency * 2 (energy) and
// op_index (macs) so a test can tell metrics apart.
inline nlohmann::json make_table(const SearchGeometry& g, const std::vector<std::string>& ops,
                                 const std::function<double(std::int64_t, std::int64_t, std::size_t)>& cost,
                                 double stem = 0, double classifier = 0, double cell_fixed = 0) {
  nlohmann::json cells = nlohmann::json::array();
  const auto shapes = g.cell_shapes();
  const auto edges = cell_edges(g.nodes);
  for (const auto& s : shapes) {
    nlohmann::json ej = nlohmann::json::array();
    for (const auto& e : edges) {
      std::vector<double> lat, energy, macs;
      for (std::size_t k = 0; k < ops.size(); ++k) {
        lat.push_back(cost(s.index, e.index, k));
        energy.push_back(2 * cost(s.index, e.index, k));
        macs.push_back(static_cast<double>(k));
      }
      ej.push_back({{"index", e.index}, {"from", e.from}, {"to", e.to},
                    {"stride", (s.type == CellType::kReduce && e.from < 2) ? 2 : 1},
                    {"costs", {{"latency_cycles", lat}, {"energy_pj", energy}, {"macs", macs}}}});
    }
    cells.push_back({{"index", s.index}, {"type", cell_type_name(s.type)}, {"channels", s.channels},
                     {"in_height", s.in_height}, {"in_width", s.in_width}, {"edges", ej},
                     {"fixed", {{"latency_cycles", cell_fixed}}}});
  }
  return {{"schema", "hwnas-cost-table"},
          {"schema_version", 1},
          {"generator", {{"tool", "hand"}, {"fidelity", "hardware"}}},
          {"geometry", g.to_json()},
          {"ops", ops},
          {"metrics", {"latency_cycles", "energy_pj", "macs"}},
          {"cells", cells},
          {"fixed", {{"stem", {{"latency_cycles", stem}}}, {"classifier", {{"latency_cycles", classifier}}}}}};
}

// DARTS-like costs: parameter-free ops cheap, convs expensive, scaled by the cell's channels.
inline std::function<double(std::int64_t, std::int64_t, std::size_t)> darts_like_costs(
    const SearchGeometry& g, const std::vector<std::string>& ops) {
  const auto shapes = g.cell_shapes();
  return [shapes, ops](std::int64_t cell, std::int64_t, std::size_t k) {
    const std::string& n = ops[k];
    const double c = static_cast<double>(shapes[static_cast<std::size_t>(cell)].channels);
    if (n == "none") return 0.0;
    if (n == "skip_connect") return 1.0 * c;
    if (n.find("pool") != std::string::npos) return 2.0 * c;
    if (n == "sep_conv_3x3") return 40.0 * c;
    if (n == "sep_conv_5x5") return 60.0 * c;
    if (n == "dil_conv_3x3") return 20.0 * c;
    if (n == "dil_conv_5x5") return 30.0 * c;
    return 50.0 * c;
  };
}

}  // namespace hwnas::nas::testutil
