#include "hwnas/nas/cost_table.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas::nas {

namespace {

constexpr std::int64_t kSchemaVersion = 1;

struct MetricName {
  CostMetric metric;
  const char* key;
  const char* short_name;
};
constexpr MetricName kMetrics[] = {
    {CostMetric::kLatencyCycles, "latency_cycles", "latency"},
    {CostMetric::kEnergyPj, "energy_pj", "energy"},
    {CostMetric::kDramBytes, "dram_bytes", "dram"},
    {CostMetric::kSramBytes, "sram_bytes", "sram"},
    {CostMetric::kParamBytes, "param_bytes", "params"},
    {CostMetric::kMacs, "macs", "macs"},
};
// Keys a table may carry that the search never penalises (not additive over edges).
constexpr const char* kNonAdditive[] = {"utilization_pct"};

bool known_metric_key(const std::string& k) {
  for (const auto& m : kMetrics)
    if (k == m.key) return true;
  for (const char* n : kNonAdditive)
    if (k == n) return true;
  return false;
}

std::string json_value_text(const nlohmann::json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

double cost_value(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number())
    throw InputError(where, "expected a number, got " + json_value_text(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0)
    throw InputError(where, "cost " + json_value_text(v) + " must be finite and >= 0");
  return x;
}

std::map<std::string, double> read_metric_object(const nlohmann::json& v, const std::string& file,
                                                 const std::string& path) {
  if (!v.is_object())
    throw InputError(file + ": " + path, "expected an object of metric -> number, got " + json_value_text(v));
  std::map<std::string, double> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string where = file + ": " + path + "/" + it.key();
    if (!known_metric_key(it.key()))
      throw InputError(where, "unknown metric \"" + it.key() + "\"");
    out[it.key()] = cost_value(it.value(), where);
  }
  return out;
}

}  // namespace

const char* metric_key(CostMetric m) {
  for (const auto& x : kMetrics)
    if (x.metric == m) return x.key;
  return "?";
}

CostMetric parse_metric(const std::string& text, const std::string& where) {
  for (const auto& x : kMetrics)
    if (text == x.key || text == x.short_name) return x.metric;
  throw InputError(where, "unknown metric \"" + text +
                              "\" (known: latency, energy, dram, sram, params, macs, or the table "
                              "keys latency_cycles, energy_pj, dram_bytes, sram_bytes, param_bytes)");
}

const char* normalization_name(CostNormalization n) {
  switch (n) {
    case CostNormalization::kNone: return "none";
    case CostNormalization::kPerEdgeMax: return "per_edge_max";
    case CostNormalization::kNetworkMax: return "network_max";
  }
  return "?";
}

CostNormalization parse_normalization(const std::string& text, const std::string& where) {
  for (CostNormalization n : {CostNormalization::kNone, CostNormalization::kPerEdgeMax,
                              CostNormalization::kNetworkMax})
    if (text == normalization_name(n)) return n;
  throw InputError(where, "unknown normalization \"" + text + "\" (known: none, per_edge_max, network_max)");
}

CostTable CostTable::load(const std::string& path) { return parse(parse_json_file(path), path); }

CostTable CostTable::parse(const nlohmann::json& doc, const std::string& file) {
  CostTable t;
  t.source_ = file;
  t.doc_ = doc;
  if (!doc.is_object()) throw InputError(file, "a cost table must be a JSON object");
  JsonObjectReader root(doc, file, "");
  const std::string schema = root.required_string("schema");
  if (schema != "hwnas-cost-table")
    throw InputError(root.where("schema"), "expected \"hwnas-cost-table\", got \"" + schema + "\"");
  const std::int64_t version = root.required_int("schema_version", 0);
  if (version != kSchemaVersion)
    throw InputError(root.where("schema_version"),
                     "unsupported version " + std::to_string(version) + " (this hwnas reads version " +
                         std::to_string(kSchemaVersion) + ")");
  // Provenance: accepted as written; the search does not read it.
  for (const char* k : {"generator", "arch", "arch_hash", "op_definitions"})
    if (root.has(k)) root.required_value(k);

  // ops
  const auto& ops = root.required_value("ops");
  if (!ops.is_array() || ops.empty())
    throw InputError(root.where("ops"), "expected a non-empty array of op names, got " + json_value_text(ops));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string where = root.where("ops") + "/" + std::to_string(i);
    if (!ops[i].is_string()) throw InputError(where, "expected an op name, got " + json_value_text(ops[i]));
    const std::string name = ops[i].get<std::string>();
    if (std::find(t.ops_.begin(), t.ops_.end(), name) != t.ops_.end())
      throw InputError(where, "op \"" + name + "\" is listed twice");
    t.ops_.push_back(name);
  }

  // metrics (optional list; every name must be known)
  if (root.has("metrics")) {
    const auto& m = root.required_value("metrics");
    if (!m.is_array()) throw InputError(root.where("metrics"), "expected an array, got " + json_value_text(m));
    for (std::size_t i = 0; i < m.size(); ++i) {
      const std::string where = root.where("metrics") + "/" + std::to_string(i);
      if (!m[i].is_string() || !known_metric_key(m[i].get<std::string>()))
        throw InputError(where, "unknown metric " + json_value_text(m[i]));
      t.metrics_.push_back(m[i].get<std::string>());
    }
  }
  if (root.has("normalization")) {
    JsonObjectReader n = root.required_object("normalization");
    t.recommended_normalization_ = n.required_enum("method", {"none", "per_edge_max", "network_max"});
    n.reject_unknown_keys();
  }

  // geometry
  {
    JsonObjectReader g = root.required_object("geometry");
    t.geometry_.input_channels = g.required_int("input_channels", 1, 4096);
    t.geometry_.input_height = g.required_int("input_height", 1, 1 << 16);
    t.geometry_.input_width = g.required_int("input_width", 1, 1 << 16);
    t.geometry_.num_classes = g.required_int("num_classes", 1, 1 << 20);
    t.geometry_.cells = g.required_int("cells", 1, 1000);
    t.geometry_.channels = g.required_int("channels", 1, 1 << 16);
    t.geometry_.nodes = g.required_int("nodes", 1, 16);
    t.geometry_.stem_multiplier = g.optional_int("stem_multiplier", 3, 1, 64);
    if (g.has("reduction_cells")) {
      const auto& r = g.required_value("reduction_cells");
      if (!r.is_array()) throw InputError(g.where("reduction_cells"), "expected an array, got " + json_value_text(r));
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (!r[i].is_number_integer())
          throw InputError(g.where("reduction_cells") + "/" + std::to_string(i),
                           "expected a cell index, got " + json_value_text(r[i]));
        t.reduction_cells_.push_back(r[i].get<std::int64_t>());
      }
      if (t.reduction_cells_ != t.geometry_.reduction_cells())
        throw InputError(g.where("reduction_cells"),
                         json_value_text(r) + " differs from DARTS's cells L//3 and 2L//3 = " +
                             nlohmann::json(t.geometry_.reduction_cells()).dump());
    }
    g.reject_unknown_keys();
  }

  // cells
  const auto& cells = root.required_value("cells");
  const std::string cells_where = root.where("cells");
  if (!cells.is_array()) throw InputError(cells_where, "expected an array of cells, got " + json_value_text(cells));
  if (static_cast<std::int64_t>(cells.size()) != t.geometry_.cells)
    throw InputError(cells_where, "has " + std::to_string(cells.size()) + " cells but geometry/cells is " +
                                      std::to_string(t.geometry_.cells));
  const std::vector<Edge> edges = cell_edges(t.geometry_.nodes);
  for (std::size_t ci = 0; ci < cells.size(); ++ci) {
    const std::string cpath = "/cells/" + std::to_string(ci);
    JsonObjectReader c(cells[ci], file, cpath);
    CostTableCell cell;
    cell.index = c.required_int("index", 0);
    if (cell.index != static_cast<std::int64_t>(ci))
      throw InputError(c.where("index"), "is " + std::to_string(cell.index) + ", expected " + std::to_string(ci) +
                                             " (cells in network order)");
    const std::string type = c.required_enum("type", {"normal", "reduce"});
    cell.type = type == "reduce" ? CellType::kReduce : CellType::kNormal;
    const bool expect_reduce = t.geometry_.is_reduction(cell.index);
    if (expect_reduce != (cell.type == CellType::kReduce))
      throw InputError(c.where("type"), "\"" + type + "\" but cell " + std::to_string(ci) + " is a " +
                                            (expect_reduce ? "reduction" : "normal") + " cell in this geometry");
    cell.channels = c.optional_int("channels", 0, 0);
    cell.in_height = c.optional_int("in_height", 0, 0);
    cell.in_width = c.optional_int("in_width", 0, 0);
    if (c.has("fixed")) cell.fixed = read_metric_object(c.required_value("fixed"), file, cpath + "/fixed");
    const auto& ej = c.required_value("edges");
    c.reject_unknown_keys();
    if (!ej.is_array() || ej.size() != edges.size())
      throw InputError(c.where("edges"), "expected " + std::to_string(edges.size()) + " edges for " +
                                             std::to_string(t.geometry_.nodes) + " nodes, got " +
                                             (ej.is_array() ? std::to_string(ej.size()) : json_value_text(ej)));
    for (std::size_t ei = 0; ei < ej.size(); ++ei) {
      const std::string epath = cpath + "/edges/" + std::to_string(ei);
      JsonObjectReader e(ej[ei], file, epath);
      CostTableEdge edge;
      edge.index = e.optional_int("index", static_cast<std::int64_t>(ei), 0);
      edge.from = e.optional_int("from", edges[ei].from, 0);
      edge.to = e.optional_int("to", edges[ei].to, 0);
      const std::int64_t want_stride = (cell.type == CellType::kReduce && edges[ei].from < 2) ? 2 : 1;
      edge.stride = e.optional_int("stride", want_stride, 1, 2);
      if (edge.index != static_cast<std::int64_t>(ei) || edge.from != edges[ei].from || edge.to != edges[ei].to)
        throw InputError(file + ": " + epath, "edge (index " + std::to_string(edge.index) + ", " +
                                                  std::to_string(edge.from) + " -> " + std::to_string(edge.to) +
                                                  ") out of order; expected index " + std::to_string(ei) + ", " +
                                                  std::to_string(edges[ei].from) + " -> " +
                                                  std::to_string(edges[ei].to));
      if (edge.stride != want_stride)
        throw InputError(e.where("stride"), "is " + std::to_string(edge.stride) + ", expected " +
                                                std::to_string(want_stride));
      const auto& costs = e.required_value("costs");
      e.reject_unknown_keys();
      if (!costs.is_object())
        throw InputError(e.where("costs"), "expected an object of metric -> per-op array, got " + json_value_text(costs));
      for (auto it = costs.begin(); it != costs.end(); ++it) {
        const std::string mwhere = e.where("costs") + "/" + it.key();
        if (!known_metric_key(it.key())) throw InputError(mwhere, "unknown metric \"" + it.key() + "\"");
        const auto& arr = it.value();
        if (!arr.is_array() || arr.size() != t.ops_.size())
          throw InputError(mwhere, "expected an array of " + std::to_string(t.ops_.size()) +
                                       " values (one per op), got " + json_value_text(arr));
        std::vector<double> v;
        for (std::size_t k = 0; k < arr.size(); ++k) v.push_back(cost_value(arr[k], mwhere + "/" + std::to_string(k)));
        edge.costs[it.key()] = std::move(v);
      }
      cell.edges.push_back(std::move(edge));
    }
    t.cells_.push_back(std::move(cell));
  }

  if (root.has("fixed")) {
    JsonObjectReader f = root.required_object("fixed");
    for (const char* part : {"stem", "classifier"})
      if (f.has(part)) t.fixed_[part] = read_metric_object(f.required_value(part), file, std::string("/fixed/") + part);
    f.reject_unknown_keys();
  }
  root.reject_unknown_keys();
  return t;
}

void CostTable::check_geometry(const SearchGeometry& s) const {
  const SearchGeometry& g = geometry_;
  auto cmp = [&](const char* field, std::int64_t table_value, std::int64_t search_value) {
    if (table_value != search_value)
      throw InputError(source_ + ": /geometry/" + field,
                       "table was built for " + std::string(field) + " = " + std::to_string(table_value) +
                           " but the search uses " + std::to_string(search_value) +
                           " (regenerate the table or change the search options)");
  };
  cmp("input_channels", g.input_channels, s.input_channels);
  cmp("input_height", g.input_height, s.input_height);
  cmp("input_width", g.input_width, s.input_width);
  cmp("num_classes", g.num_classes, s.num_classes);
  cmp("cells", g.cells, s.cells);
  cmp("channels", g.channels, s.channels);
  cmp("nodes", g.nodes, s.nodes);
  cmp("stem_multiplier", g.stem_multiplier, s.stem_multiplier);
}

std::vector<std::size_t> CostTable::op_columns(const std::vector<std::string>& search_ops) const {
  std::vector<std::size_t> cols;
  for (const auto& op : search_ops) {
    auto it = std::find(ops_.begin(), ops_.end(), op);
    if (it == ops_.end()) {
      std::string known;
      for (const auto& o : ops_) known += (known.empty() ? "" : ", ") + o;
      throw InputError(source_ + ": /ops", "the search uses op \"" + op + "\" but the table has no column for it (table ops: " + known + ")");
    }
    cols.push_back(static_cast<std::size_t>(it - ops_.begin()));
  }
  return cols;
}

double CostTable::fixed_cost(CostMetric metric) const {
  const std::string key = metric_key(metric);
  double sum = 0;
  for (const auto& [part, m] : fixed_) {
    auto it = m.find(key);
    if (it != m.end()) sum += it->second;
  }
  for (const auto& c : cells_) {
    auto it = c.fixed.find(key);
    if (it != c.fixed.end()) sum += it->second;
  }
  return sum;
}

EdgeCosts CostTable::edge_costs(CostMetric metric, const std::vector<std::string>& search_ops,
                                CostNormalization normalization) const {
  const std::vector<std::size_t> cols = op_columns(search_ops);
  const std::string key = metric_key(metric);
  const Eigen::Index n_edges = static_cast<Eigen::Index>(edges_per_cell(geometry_.nodes));
  const Eigen::Index n_ops = static_cast<Eigen::Index>(search_ops.size());
  EdgeCosts out;
  out.metric = metric;
  out.normalization = normalization;
  for (auto& m : out.raw) m = Eigen::MatrixXd::Zero(n_edges, n_ops);
  for (auto& m : out.normalized) m = Eigen::MatrixXd::Zero(n_edges, n_ops);
  out.fixed_raw = fixed_cost(metric);
  double max_network = out.fixed_raw;
  for (std::size_t ci = 0; ci < cells_.size(); ++ci) {
    const auto& cell = cells_[ci];
    const int type = static_cast<int>(cell.type);
    for (std::size_t ei = 0; ei < cell.edges.size(); ++ei) {
      auto it = cell.edges[ei].costs.find(key);
      if (it == cell.edges[ei].costs.end())
        throw InputError(source_ + ": /cells/" + std::to_string(ci) + "/edges/" + std::to_string(ei) + "/costs",
                         "has no \"" + key + "\" costs, the metric the search penalises");
      double edge_max = 0;
      for (Eigen::Index k = 0; k < n_ops; ++k) {
        const double c = it->second[cols[static_cast<std::size_t>(k)]];
        out.raw[type](static_cast<Eigen::Index>(ei), k) += c;
        edge_max = std::max(edge_max, c);
      }
      max_network += edge_max;
      if (normalization == CostNormalization::kPerEdgeMax && edge_max > 0)
        for (Eigen::Index k = 0; k < n_ops; ++k)
          out.normalized[type](static_cast<Eigen::Index>(ei), k) += it->second[cols[static_cast<std::size_t>(k)]] / edge_max;
    }
  }
  out.network_max_raw = max_network;
  if (normalization == CostNormalization::kNone) {
    out.normalized = out.raw;
    out.normalized_offset = out.fixed_raw;
  } else if (normalization == CostNormalization::kNetworkMax) {
    const double scale = max_network > 0 ? 1.0 / max_network : 0.0;
    for (int t = 0; t < 2; ++t) out.normalized[t] = out.raw[t] * scale;
    out.normalized_offset = out.fixed_raw * scale;
  }
  return out;
}

}  // namespace hwnas::nas
