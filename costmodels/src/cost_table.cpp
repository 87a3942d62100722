#include "hwnas/costmodels/cost_table.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <set>

#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas::costmodels {

Cost& Cost::operator+=(const Cost& o) {
  latency_cycles += o.latency_cycles;
  energy_pj += o.energy_pj;
  macs += o.macs;
  dram_bytes += o.dram_bytes;
  sram_bytes += o.sram_bytes;
  param_bytes += o.param_bytes;
  mapped_macs += o.mapped_macs;
  return *this;
}

double Cost::utilization_pct(const sim::ArchConfig& arch) const {
  const double slots = static_cast<double>(latency_cycles) * static_cast<double>(arch.array_rows) *
                       static_cast<double>(arch.array_cols);
  return slots > 0 ? 100.0 * static_cast<double>(mapped_macs) / slots : 0.0;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"latency_cycles", "energy_pj",   "macs",
                                                 "dram_bytes",     "sram_bytes",  "param_bytes",
                                                 "utilization_pct"};
  return names;
}

double metric_value(const Cost& c, const std::string& m, const sim::ArchConfig& arch) {
  if (m == "latency_cycles") return static_cast<double>(c.latency_cycles);
  if (m == "energy_pj") return c.energy_pj;
  if (m == "macs") return static_cast<double>(c.macs);
  if (m == "dram_bytes") return static_cast<double>(c.dram_bytes);
  if (m == "sram_bytes") return static_cast<double>(c.sram_bytes);
  if (m == "param_bytes") return static_cast<double>(c.param_bytes);
  if (m == "utilization_pct") return c.utilization_pct(arch);
  throw std::logic_error("unknown metric " + m);
}

nlohmann::json cost_to_json(const Cost& c, const sim::ArchConfig& arch) {
  return {{"latency_cycles", c.latency_cycles}, {"energy_pj", c.energy_pj},
          {"macs", c.macs},                     {"dram_bytes", c.dram_bytes},
          {"sram_bytes", c.sram_bytes},         {"param_bytes", c.param_bytes},
          {"utilization_pct", c.utilization_pct(arch)}};
}

Cost aggregate_cost(const std::vector<HwLayer>& layers, const std::vector<sim::LayerStats>& stats,
                    std::size_t first, const sim::ArchConfig& arch) {
  Cost c;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& s = stats.at(first + i);
    c.latency_cycles += s.total_cycles;
    c.energy_pj += s.energy_total_pj();
    c.macs += layers[i].macs;
    c.dram_bytes += (s.dram_ifmap_reads + s.dram_filter_reads + s.dram_ofmap_writes) * arch.word_bytes;
    c.sram_bytes += (s.sram_ifmap_reads + s.sram_filter_reads + s.sram_ofmap_writes + s.sram_ofmap_reads) *
                    arch.word_bytes;
    c.param_bytes += layers[i].params * arch.word_bytes;
    c.mapped_macs += s.mapped_macs;
  }
  return c;
}

const char* normalization_name(Normalization n) {
  switch (n) {
    case Normalization::kNone: return "none";
    case Normalization::kPerEdgeMax: return "per_edge_max";
    case Normalization::kNetworkMax: return "network_max";
  }
  return "?";
}

Normalization parse_normalization(const std::string& s, const std::string& where) {
  for (Normalization n : {Normalization::kNone, Normalization::kPerEdgeMax, Normalization::kNetworkMax})
    if (s == normalization_name(n)) return n;
  throw InputError(where, "unknown normalization \"" + s + "\" (known: none, per_edge_max, network_max)");
}

namespace {

// Layers of every part of a network, flattened for one deduplicated simulation.
class Plan {
 public:
  std::size_t add(std::vector<HwLayer> layers) {
    const std::size_t id = parts_.size();
    parts_.push_back({all_.size(), layers.size()});
    for (auto& l : layers) all_.push_back(std::move(l));
    return id;
  }
  std::vector<sim::Layer> sim_layers() const {
    std::vector<sim::Layer> out;
    out.reserve(all_.size());
    for (const auto& l : all_) out.push_back(l.layer);
    return out;
  }
  Cost cost(std::size_t part, const std::vector<sim::LayerStats>& stats, const sim::ArchConfig& arch) const {
    const auto [first, count] = parts_.at(part);
    std::vector<HwLayer> ls(all_.begin() + static_cast<std::ptrdiff_t>(first),
                            all_.begin() + static_cast<std::ptrdiff_t>(first + count));
    return aggregate_cost(ls, stats, first, arch);
  }
  std::size_t layers_in(std::size_t part) const { return parts_.at(part).second; }

 private:
  std::vector<HwLayer> all_;
  std::vector<std::pair<std::size_t, std::size_t>> parts_;
};

Shape edge_input(const CellGeometry& cell, const EdgeGeometry& e) {
  return e.from < 2 ? Shape{cell.channels, cell.in_height, cell.in_width}
                    : Shape{cell.channels, cell.out_height, cell.out_width};
}

std::string edge_prefix(const CellGeometry& cell, const EdgeGeometry& e, const std::string& op) {
  return "cell" + std::to_string(cell.index) + ".edge" + std::to_string(e.index) + "." + op;
}

}  // namespace

CostTableResult build_cost_table(const CostTableRequest& req) {
  if (req.ops.empty()) throw InputError("cost table", "no ops to cost");
  const NetworkGeometry g = resolve_geometry(req.geometry);
  Plan plan;
  const std::size_t stem = plan.add(stem_layers(g, req.variant));
  const std::size_t classifier = plan.add(classifier_layers(g, req.variant));
  struct CellParts {
    std::size_t pre0, pre1, adds;
    std::vector<std::vector<std::size_t>> edge_op;  // [edge][op]
  };
  std::vector<CellParts> cells;
  for (const auto& cell : g.cells) {
    CellParts cp;
    auto pre = preprocess_layers(cell, req.variant);
    // preprocess_layers returns preprocess0 then preprocess1; split by name for the breakdown.
    std::vector<HwLayer> p0, p1;
    for (auto& l : pre) (l.layer.name.find(".preprocess0") != std::string::npos ? p0 : p1).push_back(l);
    cp.pre0 = plan.add(p0);
    cp.pre1 = plan.add(p1);
    cp.adds = plan.add(node_add_layers(cell, g.spec.nodes));
    for (const auto& e : cell.edges) {
      std::vector<std::size_t> per_op;
      for (const auto& op : req.ops)
        per_op.push_back(plan.add(op_layers(op, edge_input(cell, e), e.stride, req.variant,
                                            edge_prefix(cell, e, op.name))));
      cp.edge_op.push_back(per_op);
    }
    cells.push_back(cp);
  }

  CostTableResult result;
  const auto stats = simulate_layers_deduplicated(req.arch, plan.sim_layers(), req.simulation, &result.report);
  const auto& arch = req.arch;

  for (const auto& op : req.ops) result.summary.push_back({op.name, {}, 0});
  nlohmann::json cells_json = nlohmann::json::array();
  nlohmann::json fixed_parts = nlohmann::json::array();  // provenance: each cell's fixed, split
  Cost network_max;
  const Cost stem_cost = plan.cost(stem, stats, arch);
  const Cost classifier_cost = plan.cost(classifier, stats, arch);
  network_max += stem_cost;
  network_max += classifier_cost;
  for (std::size_t ci = 0; ci < g.cells.size(); ++ci) {
    const auto& cell = g.cells[ci];
    const auto& cp = cells[ci];
    const Cost pre0 = plan.cost(cp.pre0, stats, arch), pre1 = plan.cost(cp.pre1, stats, arch),
               adds = plan.cost(cp.adds, stats, arch);
    Cost fixed = pre0;
    fixed += pre1;
    fixed += adds;
    network_max += fixed;
    nlohmann::json edges = nlohmann::json::array();
    for (std::size_t ei = 0; ei < cell.edges.size(); ++ei) {
      const auto& e = cell.edges[ei];
      std::vector<Cost> per_op;
      for (std::size_t oi = 0; oi < req.ops.size(); ++oi) {
        per_op.push_back(plan.cost(cp.edge_op[ei][oi], stats, arch));
        result.summary[oi].total += per_op.back();
        result.summary[oi].edges += 1;
      }
      nlohmann::json costs = nlohmann::json::object();
      for (const auto& m : metric_names()) {
        nlohmann::json col = nlohmann::json::array();
        for (const auto& c : per_op) {
          if (m == "energy_pj") col.push_back(c.energy_pj);
          else if (m == "utilization_pct") col.push_back(c.utilization_pct(arch));
          else col.push_back(static_cast<std::int64_t>(metric_value(c, m, arch)));
        }
        costs[m] = col;
      }
      // The most expensive op per additive metric (network_max reference, one metric at a time).
      Cost edge_max;
      for (const auto& c : per_op) {
        edge_max.latency_cycles = std::max(edge_max.latency_cycles, c.latency_cycles);
        edge_max.energy_pj = std::max(edge_max.energy_pj, c.energy_pj);
        edge_max.macs = std::max(edge_max.macs, c.macs);
        edge_max.dram_bytes = std::max(edge_max.dram_bytes, c.dram_bytes);
        edge_max.sram_bytes = std::max(edge_max.sram_bytes, c.sram_bytes);
        edge_max.param_bytes = std::max(edge_max.param_bytes, c.param_bytes);
      }
      network_max += edge_max;
      edges.push_back({{"index", e.index}, {"from", e.from}, {"to", e.to}, {"stride", e.stride}, {"costs", costs}});
    }
    cells_json.push_back({{"index", cell.index},
                          {"type", cell.reduction ? "reduce" : "normal"},
                          {"channels", cell.channels},
                          {"in_height", cell.in_height},
                          {"in_width", cell.in_width},
                          {"edges", edges},
                          {"fixed", cost_to_json(fixed, arch)}});
    fixed_parts.push_back({{"preprocess0", cost_to_json(pre0, arch)},
                           {"preprocess1", cost_to_json(pre1, arch)},
                           {"node_adds", cost_to_json(adds, arch)}});
  }

  nlohmann::json ops = nlohmann::json::array(), defs = nlohmann::json::array();
  for (const auto& op : req.ops) {
    ops.push_back(op.name);
    defs.push_back(op_def_to_json(op));
  }
  nlohmann::json max_json = nlohmann::json::object();
  for (const auto& m : metric_names())
    if (m != "utilization_pct") max_json[m] = metric_value(network_max, m, arch);

  // Only the documented keys at the levels the search reads (its reader rejects unknown keys);
  // everything else is provenance inside "generator".
  nlohmann::json& t = result.table;
  t["schema"] = "hwnas-cost-table";
  t["schema_version"] = kCostTableSchemaVersion;
  t["generator"] = {
      {"tool", "hwnas"},
      {"version", HWNAS_VERSION},
      {"fidelity", fidelity_name(req.simulation.fidelity)},
      {"simulator_version", req.simulation.simulator_version.empty() ? default_simulator_version()
                                                                     : req.simulation.simulator_version},
      {"op_variant",
       {{"search_only_primitives", req.variant.include_search_only},
        {"affine_bn", req.variant.affine_bn},
        {"fuse_elementwise", req.variant.fuse_elementwise}}},
      {"macs", "conventional: every kernel tap of every output pixel, padding included"},
      {"cell_fixed_parts", fixed_parts},
      {"network_max", max_json},
      {"simulation",
       {{"layers", result.report.layers},
        {"distinct_layers", result.report.distinct},
        {"cache_hits", result.report.cache_hits},
        {"simulated", result.report.simulated}}}};
  t["arch"] = sim::arch_config_to_json(arch);
  t["arch_hash"] = sim::arch_config_hash(arch);
  t["geometry"] = geometry_to_json(g);
  t["ops"] = ops;
  t["op_definitions"] = defs;
  t["metrics"] = metric_names();
  t["normalization"] = {{"method", normalization_name(req.normalization)}};
  t["cells"] = cells_json;
  t["fixed"] = {{"stem", cost_to_json(stem_cost, arch)}, {"classifier", cost_to_json(classifier_cost, arch)}};
  return result;
}

std::string format_summary(const std::vector<OpSummary>& summary, const sim::ArchConfig& arch) {
  // Cheapest op that does real work: the reference for the relative columns.
  double ref_cycles = 0, ref_energy = 0;
  for (const auto& s : summary)
    if (s.total.latency_cycles > 0 &&
        (ref_cycles == 0 || static_cast<double>(s.total.latency_cycles) < ref_cycles)) {
      ref_cycles = static_cast<double>(s.total.latency_cycles);
      ref_energy = s.total.energy_pj;
    }
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %12s %11s %12s %10s %10s %7s %7s %7s\n", "op", "cycles",
                "energy_uJ", "MACs", "params_B", "cyc/kMAC", "util%", "x_cyc", "x_energy");
  out += line;
  for (const auto& s : summary) {
    const auto& c = s.total;
    const double cpm = c.macs > 0 ? 1000.0 * static_cast<double>(c.latency_cycles) / static_cast<double>(c.macs) : 0;
    char cpm_s[32], xc[32], xe[32];
    if (c.macs > 0) std::snprintf(cpm_s, sizeof cpm_s, "%.2f", cpm);
    else std::snprintf(cpm_s, sizeof cpm_s, "-");
    if (ref_cycles > 0 && c.latency_cycles > 0) {
      std::snprintf(xc, sizeof xc, "%.2f", static_cast<double>(c.latency_cycles) / ref_cycles);
      std::snprintf(xe, sizeof xe, "%.2f", ref_energy > 0 ? c.energy_pj / ref_energy : 0.0);
    } else {
      std::snprintf(xc, sizeof xc, "free");
      std::snprintf(xe, sizeof xe, "free");
    }
    std::snprintf(line, sizeof line, "%-14s %12" PRId64 " %11.3f %12" PRId64 " %10" PRId64 " %10s %7.2f %7s %7s\n",
                  s.name.c_str(), c.latency_cycles, c.energy_pj * 1e-6, c.macs, c.param_bytes, cpm_s,
                  c.utilization_pct(arch), xc, xe);
    out += line;
  }
  return out;
}

Genotype parse_genotype(const nlohmann::json& doc, const std::string& source, const OpCatalog& catalog) {
  JsonObjectReader r(doc, source, "");
  Genotype g;
  auto read_pairs = [&](const char* key, std::vector<std::pair<std::string, std::int64_t>>& out) {
    const auto& v = r.required_value(key);
    const std::string path = std::string("/") + key;
    if (!v.is_array() || v.empty() || v.size() % 2 != 0)
      throw InputError(source + ": " + path, "expected a non-empty array of [op, input] pairs, two per node, got " + v.dump());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto& p = v[i];
      const std::string where = source + ": " + path + "/" + std::to_string(i);
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number_integer())
        throw InputError(where, "expected [\"op_name\", input_node], got " + p.dump());
      const std::string op = p[0].get<std::string>();
      const std::int64_t input = p[1].get<std::int64_t>();
      const std::int64_t node = 2 + static_cast<std::int64_t>(i / 2);
      if (!catalog.contains(op)) {
        try {
          catalog.get(op);
        } catch (const InputError& e) {
          throw InputError(where, e.what());
        }
      }
      if (input < 0 || input >= node)
        throw InputError(where, "node " + std::to_string(node) + " cannot take input " + std::to_string(input) +
                                    " (inputs are 0.." + std::to_string(node - 1) + ")");
      out.emplace_back(op, input);
    }
  };
  auto read_concat = [&](const char* key, std::size_t nodes, std::vector<std::int64_t>& out) {
    const auto& v = r.required_value(key);
    const std::string where = source + ": /" + key;
    if (!v.is_array() || v.empty()) throw InputError(where, "expected a non-empty array of node indices, got " + v.dump());
    std::set<std::int64_t> seen;
    for (const auto& x : v) {
      if (!x.is_number_integer()) throw InputError(where, "expected node indices, got " + x.dump());
      const std::int64_t n = x.get<std::int64_t>();
      if (n < 2 || n >= static_cast<std::int64_t>(nodes) + 2 || !seen.insert(n).second)
        throw InputError(where, "node " + std::to_string(n) + " is not a distinct intermediate node (2.." +
                                    std::to_string(nodes + 1) + ")");
      out.push_back(n);
    }
  };
  read_pairs("normal", g.normal);
  read_pairs("reduce", g.reduce);
  if (g.normal.size() != g.reduce.size())
    throw InputError(source, "normal has " + std::to_string(g.normal.size()) + " pairs but reduce has " +
                                 std::to_string(g.reduce.size()));
  read_concat("normal_concat", g.normal.size() / 2, g.normal_concat);
  read_concat("reduce_concat", g.reduce.size() / 2, g.reduce_concat);
  r.reject_unknown_keys();
  return g;
}

Genotype load_genotype(const std::string& path, const OpCatalog& catalog) {
  return parse_genotype(parse_json_file(path), path, catalog);
}

NetworkCostResult network_cost(const sim::ArchConfig& arch, const SearchGeometry& geometry,
                               const Genotype& genotype, const OpCatalog& catalog,
                               const NetVariant& variant, const SimulationOptions& simulation) {
  const std::int64_t nodes = static_cast<std::int64_t>(genotype.normal.size() / 2);
  if (nodes != geometry.nodes)
    throw InputError("genotype", "has " + std::to_string(nodes) + " nodes per cell but the geometry has " +
                                     std::to_string(geometry.nodes) + " (--nodes)");
  const NetworkGeometry g = resolve_geometry(geometry, static_cast<std::int64_t>(genotype.normal_concat.size()),
                                             static_cast<std::int64_t>(genotype.reduce_concat.size()));
  Plan plan;
  std::vector<std::pair<std::string, std::size_t>> parts;
  parts.emplace_back("stem", plan.add(stem_layers(g, variant)));
  for (const auto& cell : g.cells) {
    std::vector<HwLayer> layers = preprocess_layers(cell, variant);
    const auto& pairs = cell.reduction ? genotype.reduce : genotype.normal;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const std::int64_t to = 2 + static_cast<std::int64_t>(i / 2);
      const EdgeGeometry& e = cell.edges.at(static_cast<std::size_t>(edge_index(pairs[i].second, to)));
      auto ol = op_layers(catalog.get(pairs[i].first), edge_input(cell, e), e.stride, variant,
                          edge_prefix(cell, e, pairs[i].first));
      layers.insert(layers.end(), ol.begin(), ol.end());
    }
    auto adds = node_add_layers(cell, nodes);
    layers.insert(layers.end(), adds.begin(), adds.end());
    parts.emplace_back("cell" + std::to_string(cell.index) + (cell.reduction ? " (reduce)" : " (normal)"),
                       plan.add(layers));
  }
  parts.emplace_back("classifier", plan.add(classifier_layers(g, variant)));
  NetworkCostResult res;
  const auto stats = simulate_layers_deduplicated(arch, plan.sim_layers(), simulation, &res.report);
  for (const auto& [name, id] : parts) {
    NetworkPart p{name, plan.cost(id, stats, arch), static_cast<std::int64_t>(plan.layers_in(id))};
    res.total += p.cost;
    res.parts.push_back(p);
  }
  return res;
}

NetworkCostResult layers_cost(const sim::ArchConfig& arch, const std::vector<sim::Layer>& layers,
                              const SimulationOptions& simulation) {
  Plan plan;
  std::vector<std::size_t> ids;
  for (const auto& l : layers) ids.push_back(plan.add({HwLayer{l, sim::layer_param_count(l), conventional_macs(l)}}));
  NetworkCostResult res;
  const auto stats = simulate_layers_deduplicated(arch, plan.sim_layers(), simulation, &res.report);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    NetworkPart p{layers[i].name, plan.cost(ids[i], stats, arch), 1};
    res.total += p.cost;
    res.parts.push_back(p);
  }
  return res;
}

}  // namespace hwnas::costmodels
