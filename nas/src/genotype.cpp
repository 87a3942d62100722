#include "hwnas/nas/genotype.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"
#include "hwnas/nas/hardware_term.hpp"

namespace hwnas::nas {

namespace {

std::int64_t op_index(const std::vector<std::string>& ops, const std::string& name) {
  auto it = std::find(ops.begin(), ops.end(), name);
  return it == ops.end() ? -1 : static_cast<std::int64_t>(it - ops.begin());
}

std::vector<std::int64_t> default_concat(std::int64_t nodes) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(nodes));
  std::iota(c.begin(), c.end(), 2);
  return c;
}

nlohmann::json cell_to_json(const std::vector<GenotypeEdge>& cell) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : cell) a.push_back(nlohmann::json::array({e.op, e.from}));
  return a;
}

std::vector<GenotypeEdge> cell_from_json(const nlohmann::json& a, const std::string& where) {
  if (!a.is_array() || a.empty() || a.size() % 2 != 0)
    throw InputError(where, "expected an even, non-empty list of [op, input] pairs, got " + a.dump());
  std::vector<GenotypeEdge> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& p = a[i];
    const std::string w = where + "/" + std::to_string(i);
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number_integer())
      throw InputError(w, "expected [\"op_name\", input_node], got " + p.dump());
    const std::int64_t from = p[1].get<std::int64_t>();
    const std::int64_t node = 2 + static_cast<std::int64_t>(i / 2);
    if (from < 0 || from >= node)
      throw InputError(w, "input node " + std::to_string(from) + " of node " + std::to_string(node) +
                              " must be in 0.." + std::to_string(node - 1));
    out.push_back({p[0].get<std::string>(), from});
  }
  return out;
}

std::vector<std::int64_t> concat_from_json(const nlohmann::json& a, const std::string& where, std::int64_t nodes) {
  if (!a.is_array() || a.empty()) throw InputError(where, "expected a list of node numbers, got " + a.dump());
  std::vector<std::int64_t> out;
  for (const auto& v : a) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 2 || v.get<std::int64_t>() >= nodes + 2)
      throw InputError(where, "node " + v.dump() + " must be an intermediate node 2.." + std::to_string(nodes + 1));
    out.push_back(v.get<std::int64_t>());
  }
  return out;
}

std::string python_list(const std::vector<GenotypeEdge>& cell) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < cell.size(); ++i)
    os << (i ? ", " : "") << "('" << cell[i].op << "', " << cell[i].from << ")";
  os << "]";
  return os.str();
}

std::string python_concat(const std::vector<std::int64_t>& c) {
  bool contiguous = !c.empty();
  for (std::size_t i = 1; i < c.size(); ++i) contiguous = contiguous && c[i] == c[i - 1] + 1;
  std::ostringstream os;
  if (contiguous) {
    os << "range(" << c.front() << ", " << c.back() + 1 << ")";
  } else {
    os << "[";
    for (std::size_t i = 0; i < c.size(); ++i) os << (i ? ", " : "") << c[i];
    os << "]";
  }
  return os.str();
}

}  // namespace

std::vector<GenotypeEdge> derive_cell_from_probs(const Eigen::MatrixXd& w, const std::vector<std::string>& ops,
                                                 std::int64_t nodes, const std::string& none_op) {
  if (w.rows() != edges_per_cell(nodes) || w.cols() != static_cast<Eigen::Index>(ops.size()))
    throw std::invalid_argument("derive_cell: alpha is " + std::to_string(w.rows()) + "x" +
                                std::to_string(w.cols()) + ", expected " + std::to_string(edges_per_cell(nodes)) +
                                "x" + std::to_string(ops.size()));
  const std::int64_t none = op_index(ops, none_op);
  if (none >= 0 && ops.size() < 2) throw InputError("derive_cell: the op list has only `none`");
  std::vector<GenotypeEdge> gene;
  Eigen::Index start = 0;
  for (std::int64_t i = 0; i < nodes; ++i) {
    const std::int64_t n_in = i + 2;
    auto strength = [&](std::int64_t j) {
      double best = -1;
      for (Eigen::Index k = 0; k < w.cols(); ++k)
        if (k != none) best = std::max(best, w(start + j, k));
      return best;
    };
    std::vector<std::int64_t> order(static_cast<std::size_t>(n_in));
    std::iota(order.begin(), order.end(), 0);
    // Stable: equal strengths keep the lower input first, as Python's sorted does.
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return strength(a) > strength(b); });
    for (std::size_t m = 0; m < 2 && m < order.size(); ++m) {
      const std::int64_t j = order[m];
      Eigen::Index best = -1;
      for (Eigen::Index k = 0; k < w.cols(); ++k)
        if (k != none && (best < 0 || w(start + j, k) > w(start + j, best))) best = k;
      gene.push_back({ops[static_cast<std::size_t>(best)], j});
    }
    start += n_in;
  }
  return gene;
}

std::vector<GenotypeEdge> derive_cell(const Eigen::MatrixXd& alpha, const std::vector<std::string>& ops,
                                      std::int64_t nodes, const std::string& none_op) {
  return derive_cell_from_probs(softmax_rows(alpha), ops, nodes, none_op);
}

Genotype derive_genotype(const Eigen::MatrixXd& alpha_normal, const Eigen::MatrixXd& alpha_reduce,
                         const std::vector<std::string>& ops, std::int64_t nodes, const DeriveOptions& opt) {
  Genotype g;
  Eigen::MatrixXd pn = softmax_rows(alpha_normal);
  g.normal = derive_cell_from_probs(pn, ops, nodes, opt.none_op);
  const std::int64_t skip = op_index(ops, opt.skip_op);
  if (opt.max_normal_skips && skip >= 0) {
    Genotype probe;
    probe.normal = g.normal;
    for (;;) {
      const auto chosen = probe.edge_indices(CellType::kNormal);
      std::int64_t count = 0;
      Eigen::Index weakest = -1;
      for (std::size_t m = 0; m < probe.normal.size(); ++m) {
        if (probe.normal[m].op != opt.skip_op) continue;
        ++count;
        const Eigen::Index e = static_cast<Eigen::Index>(chosen[m]);
        if (weakest < 0 || pn(e, skip) < pn(weakest, skip)) weakest = e;
      }
      if (count <= *opt.max_normal_skips) break;
      pn(weakest, skip) = 0;  // PDARTS delete_min_sk_prob, then re-pick ops and edges
      probe.normal = derive_cell_from_probs(pn, ops, nodes, opt.none_op);
    }
    g.normal = probe.normal;
  }
  g.reduce = derive_cell(alpha_reduce, ops, nodes, opt.none_op);
  g.normal_concat = default_concat(nodes);
  g.reduce_concat = default_concat(nodes);
  return g;
}

std::vector<std::int64_t> Genotype::edge_indices(CellType t) const {
  const auto& c = cell(t);
  std::vector<std::int64_t> out;
  for (std::size_t m = 0; m < c.size(); ++m) {
    const std::int64_t node = 2 + static_cast<std::int64_t>(m / 2);
    // Edges into node i start after the (2 + 3 + ... + (i-1)) edges of earlier nodes.
    const std::int64_t first = (node - 2) * (node + 1) / 2;
    out.push_back(first + c[m].from);
  }
  return out;
}

nlohmann::json Genotype::to_json() const {
  return {{"normal", cell_to_json(normal)},
          {"normal_concat", normal_concat},
          {"reduce", cell_to_json(reduce)},
          {"reduce_concat", reduce_concat}};
}

Genotype Genotype::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source, "a genotype must be a JSON object");
  JsonObjectReader r(j, source, "");
  Genotype g;
  g.normal = cell_from_json(r.required_value("normal"), r.where("normal"));
  g.reduce = cell_from_json(r.required_value("reduce"), r.where("reduce"));
  if (g.normal.size() != g.reduce.size())
    throw InputError(r.where("reduce"), "has " + std::to_string(g.reduce.size()) + " edges but normal has " +
                                            std::to_string(g.normal.size()) + " (same node count expected)");
  const std::int64_t nodes = g.nodes();
  g.normal_concat = r.has("normal_concat") ? concat_from_json(r.required_value("normal_concat"), r.where("normal_concat"), nodes)
                                           : default_concat(nodes);
  g.reduce_concat = r.has("reduce_concat") ? concat_from_json(r.required_value("reduce_concat"), r.where("reduce_concat"), nodes)
                                           : default_concat(nodes);
  r.reject_unknown_keys();
  return g;
}

Genotype Genotype::load(const std::string& path) { return from_json(parse_json_file(path), path); }

void Genotype::validate(const std::vector<std::string>& known_ops, const std::string& where) const {
  for (CellType t : {CellType::kNormal, CellType::kReduce}) {
    const auto& c = cell(t);
    for (std::size_t m = 0; m < c.size(); ++m)
      if (std::find(known_ops.begin(), known_ops.end(), c[m].op) == known_ops.end()) {
        std::string known;
        for (const auto& o : known_ops) known += (known.empty() ? "" : ", ") + o;
        throw InputError(where + ": /" + cell_type_name(t) + "/" + std::to_string(m),
                         "unknown op \"" + c[m].op + "\" (known: " + known + ")");
      }
  }
}

std::string Genotype::darts_string() const {
  return "Genotype(normal=" + python_list(normal) + ", normal_concat=" + python_concat(normal_concat) +
         ", reduce=" + python_list(reduce) + ", reduce_concat=" + python_concat(reduce_concat) + ")";
}

std::string Genotype::dot(CellType t) const {
  const auto& c = cell(t);
  const auto& concat = t == CellType::kNormal ? normal_concat : reduce_concat;
  auto name = [](std::int64_t node) -> std::string {
    if (node == 0) return "\"c_{k-2}\"";
    if (node == 1) return "\"c_{k-1}\"";
    return "\"" + std::to_string(node - 2) + "\"";
  };
  std::ostringstream os;
  os << "digraph " << cell_type_name(t) << " {\n"
     << "  rankdir=LR;\n"
     << "  node [style=filled, shape=rect, fontsize=20, height=0.5, width=0.5, penwidth=2];\n"
     << "  edge [fontsize=16];\n"
     << "  " << name(0) << " [fillcolor=darkseagreen2];\n"
     << "  " << name(1) << " [fillcolor=darkseagreen2];\n";
  for (std::int64_t n = 0; n < nodes(); ++n) os << "  " << name(n + 2) << " [fillcolor=lightblue];\n";
  os << "  \"c_{k}\" [fillcolor=palegoldenrod];\n";
  for (std::size_t m = 0; m < c.size(); ++m)
    os << "  " << name(c[m].from) << " -> " << name(2 + static_cast<std::int64_t>(m / 2)) << " [label=\"" << c[m].op
       << "\"];\n";
  for (std::int64_t n : concat) os << "  " << name(n) << " -> \"c_{k}\" [color=gray];\n";
  os << "}\n";
  return os.str();
}

double genotype_cost(const CostTable& table, const Genotype& g, CostMetric metric) {
  const std::string key = metric_key(metric);
  double total = table.fixed_cost(metric);
  for (std::size_t ci = 0; ci < table.cells().size(); ++ci) {
    const auto& cell = table.cells()[ci];
    const auto& chosen = g.cell(cell.type);
    const auto idx = g.edge_indices(cell.type);
    for (std::size_t m = 0; m < chosen.size(); ++m) {
      const auto cols = table.op_columns({chosen[m].op});
      if (idx[m] >= static_cast<std::int64_t>(cell.edges.size()))
        throw InputError(table.source(), "genotype has more nodes than the table's cells");
      const auto& e = cell.edges[static_cast<std::size_t>(idx[m])];
      auto it = e.costs.find(key);
      if (it == e.costs.end())
        throw InputError(table.source() + ": /cells/" + std::to_string(ci) + "/edges/" + std::to_string(idx[m]) + "/costs",
                         "has no \"" + key + "\" costs");
      total += it->second[cols[0]];
    }
  }
  return total;
}

}  // namespace hwnas::nas
