#pragma once
// The search's view of a cost table (docs/cost-table-format.md): JSON in, per (cell type, edge,
// op) costs out. This is the "small interface" through which nas/ sees hardware: it never links
// the simulator, so a table written by hand, measured on a board or made by `hwnas costgen`
// drives the search the same way.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "hwnas/nas/search_space.hpp"

namespace hwnas::nas {

enum class CostMetric { kLatencyCycles, kEnergyPj, kDramBytes, kSramBytes, kParamBytes, kMacs };
const char* metric_key(CostMetric m);  // the table's key: "latency_cycles", "energy_pj", ...
// Accepts the short CLI names (latency, energy, dram, sram, params, macs) and the table keys.
CostMetric parse_metric(const std::string& text, const std::string& where);

enum class CostNormalization { kNone, kPerEdgeMax, kNetworkMax };
const char* normalization_name(CostNormalization n);  // "none", "per_edge_max", "network_max"
CostNormalization parse_normalization(const std::string& text, const std::string& where);

struct CostTableEdge {
  std::int64_t index = 0, from = 0, to = 0, stride = 1;
  std::map<std::string, std::vector<double>> costs;  // metric key -> one value per table op
};

struct CostTableCell {
  std::int64_t index = 0;
  CellType type = CellType::kNormal;
  std::int64_t channels = 0, in_height = 0, in_width = 0;
  std::vector<CostTableEdge> edges;
  std::map<std::string, double> fixed;  // preprocessing of this cell
};

// Costs ready for the hardware term: rows = edges, columns = the search's ops (in the search's
// order), one matrix per cell type, each entry summed over all cells of that type.
struct EdgeCosts {
  CostMetric metric = CostMetric::kLatencyCycles;
  CostNormalization normalization = CostNormalization::kNone;
  std::array<Eigen::MatrixXd, 2> raw;         // [CellType] raw metric units
  std::array<Eigen::MatrixXd, 2> normalized;  // [CellType] what the loss uses
  double fixed_raw = 0;        // stem + classifier + every cell's preprocessing (not searchable)
  double network_max_raw = 0;  // costliest network: priciest op on every edge, plus fixed parts
  // The constant added to the normalised expectation so it reads as documented: fixed_raw for
  // none, 0 for per_edge_max, fixed_raw / network_max_raw for network_max.
  double normalized_offset = 0;
};

class CostTable {
 public:
  static CostTable load(const std::string& path);  // InputError names file + JSON path + value
  static CostTable parse(const nlohmann::json& doc, const std::string& source);

  const std::string& source() const { return source_; }
  const std::vector<std::string>& ops() const { return ops_; }
  const SearchGeometry& geometry() const { return geometry_; }
  const std::vector<CostTableCell>& cells() const { return cells_; }
  const std::vector<std::string>& metrics() const { return metrics_; }
  const std::string& recommended_normalization() const { return recommended_normalization_; }
  const nlohmann::json& document() const { return doc_; }

  // Throws InputError naming the first geometry field that differs from the search's.
  void check_geometry(const SearchGeometry& search) const;
  // Table column of each search op; a missing op is an InputError listing the table's ops.
  std::vector<std::size_t> op_columns(const std::vector<std::string>& search_ops) const;
  EdgeCosts edge_costs(CostMetric metric, const std::vector<std::string>& search_ops,
                       CostNormalization normalization) const;
  double fixed_cost(CostMetric metric) const;  // stem + classifier + all cells' preprocessing

 private:
  std::string source_;
  nlohmann::json doc_;
  std::vector<std::string> ops_;
  std::vector<std::string> metrics_;
  std::string recommended_normalization_ = "none";
  SearchGeometry geometry_;
  std::vector<std::int64_t> reduction_cells_;
  std::vector<CostTableCell> cells_;
  std::map<std::string, std::map<std::string, double>> fixed_;  // "stem"/"classifier" -> metric
};

}  // namespace hwnas::nas
