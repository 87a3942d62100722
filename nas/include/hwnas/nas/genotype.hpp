#pragma once
// A derived architecture: per cell type, two (op, input node) pairs per intermediate node and the
// nodes concatenated as output. Derivation follows DARTS (model_search.py genotype()): for each
// node keep the 2 incoming edges whose strongest non-`none` op is strongest, and on each take the
// argmax over non-`none` ops; softmax includes `none`. Optionally PDARTS's skip budget on the
// normal cell: while it has more than M skip_connects, zero the weakest chosen skip and derive
// again.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "hwnas/nas/cost_table.hpp"
#include "hwnas/nas/search_space.hpp"

namespace hwnas::nas {

struct GenotypeEdge {
  std::string op;
  std::int64_t from = 0;  // input node: 0, 1 = cell inputs, 2.. = intermediate nodes
  bool operator==(const GenotypeEdge& o) const { return op == o.op && from == o.from; }
};

struct Genotype {
  std::vector<GenotypeEdge> normal;  // 2 per node, node by node
  std::vector<std::int64_t> normal_concat;
  std::vector<GenotypeEdge> reduce;
  std::vector<std::int64_t> reduce_concat;

  std::int64_t nodes() const { return static_cast<std::int64_t>(normal.size() / 2); }
  const std::vector<GenotypeEdge>& cell(CellType t) const { return t == CellType::kNormal ? normal : reduce; }
  bool operator==(const Genotype& o) const {
    return normal == o.normal && normal_concat == o.normal_concat && reduce == o.reduce &&
           reduce_concat == o.reduce_concat;
  }

  nlohmann::json to_json() const;
  static Genotype from_json(const nlohmann::json& j, const std::string& source);
  static Genotype load(const std::string& path);
  // Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), reduce=[...], ...)
  std::string darts_string() const;
  // A graphviz digraph of one cell type (inputs c_{k-2}, c_{k-1}, nodes, output c_{k}).
  std::string dot(CellType t) const;
  // The edge index (alpha row) of each chosen edge of a cell type, in genotype order.
  std::vector<std::int64_t> edge_indices(CellType t) const;
  void validate(const std::vector<std::string>& known_ops, const std::string& where) const;
};

struct DeriveOptions {
  std::optional<std::int64_t> max_normal_skips;  // PDARTS M (2 in the paper); none = unlimited
  std::string none_op = "none";
  std::string skip_op = "skip_connect";
};

// Per-cell-type derivation from alpha (rows = edges, cols = ops).
std::vector<GenotypeEdge> derive_cell(const Eigen::MatrixXd& alpha, const std::vector<std::string>& ops,
                                      std::int64_t nodes, const std::string& none_op = "none");
// The same from probabilities (rows already softmaxed); the skip budget edits probabilities.
std::vector<GenotypeEdge> derive_cell_from_probs(const Eigen::MatrixXd& probs, const std::vector<std::string>& ops,
                                                 std::int64_t nodes, const std::string& none_op);
Genotype derive_genotype(const Eigen::MatrixXd& alpha_normal, const Eigen::MatrixXd& alpha_reduce,
                         const std::vector<std::string>& ops, std::int64_t nodes,
                         const DeriveOptions& options = {});

// Whole-network cost of a genotype from a table: fixed parts + every cell's chosen edges.
double genotype_cost(const CostTable& table, const Genotype& g, CostMetric metric);

}  // namespace hwnas::nas
