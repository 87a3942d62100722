#pragma once
// The DARTS search network (quark0/darts cnn/model_search.py), parameterised by geometry and op
// list: stem conv3x3 in -> 3C + BN (no ReLU); cells with two inputs (preprocessed by ReLUConvBN
// 1x1, or FactorizedReduce after a reduction) and `nodes` intermediate nodes, each the sum of one
// MixedOp per earlier node; MixedOp = sum_i softmax(alpha_edge)_i * op_i(x) over all ops,
// `none` included; reductions at L//3 and 2L//3 double C; output = concat of the last `nodes`
// nodes; global average pool + linear. Search ops are affine=False with BN after pools; one alpha
// matrix [edges, ops] shared by all normal cells and one by all reduction cells, init 1e-3*randn.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/network.hpp"
#include "hwnas/nas/search_space.hpp"

namespace hwnas::nas {

struct MemoryEstimate {
  std::int64_t activation_bytes = 0;  // everything the tape keeps for backward (values)
  std::int64_t gradient_bytes = 0;    // gradients alive at once during backward (~ one cell)
  std::int64_t parameter_bytes = 0;   // weights + grads + SGD momentum + alphas/Adam
  std::int64_t input_bytes = 0;       // train + validation batches
  std::int64_t total_bytes() const { return activation_bytes + gradient_bytes + parameter_bytes + input_bytes; }
};

class Supernet {
 public:
  // Weights are drawn from `seed` in construction order, then the alphas (as DARTS does).
  Supernet(const SearchGeometry& geometry, const std::vector<OpDef>& ops, std::uint64_t seed);
  Supernet(const Supernet&) = delete;
  Supernet& operator=(const Supernet&) = delete;

  Var forward(Tape& tape, const Var& x, bool training);  // logits [N, classes]

  const SearchGeometry& geometry() const { return geometry_; }
  const std::vector<std::string>& op_names() const { return op_names_; }
  const ParameterRegistry& registry() const { return reg_; }
  std::vector<Var> weights() const { return reg_.vars(); }
  std::int64_t weight_count() const { return reg_.count(); }
  const Var& alpha(CellType t) const { return t == CellType::kNormal ? alpha_normal_ : alpha_reduce_; }
  std::vector<Var> alphas() const { return {alpha_normal_, alpha_reduce_}; }
  Eigen::MatrixXd alpha_matrix(CellType t) const;  // [edges, ops] as doubles
  void set_weights_trainable(bool on);             // freeze weights for the alpha step

  // Peak memory of one search step at `batch` (train batch for w, val batch for alpha).
  MemoryEstimate estimate_memory(std::int64_t batch) const;

 private:
  struct Cell {
    bool reduction = false;
    std::vector<Layer> pre0, pre1;
    std::vector<std::vector<CompiledOp>> edges;  // [edge][op]
  };
  SearchGeometry geometry_;
  std::vector<std::string> op_names_;
  std::mt19937_64 init_rng_;
  ParameterRegistry reg_;
  Var stem_w_;
  std::shared_ptr<BatchNormState> stem_bn_;
  std::vector<Cell> cells_;
  Var fc_w_, fc_b_;
  Var alpha_normal_, alpha_reduce_;
};

}  // namespace hwnas::nas
