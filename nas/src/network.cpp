#include <cmath>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/network.hpp"

namespace hwnas::nas {

DerivedNetwork::DerivedNetwork(const SearchGeometry& g, const Genotype& genotype, const OpCatalog& catalog,
                               std::uint64_t seed)
    : geometry_(g), genotype_(genotype), init_rng_(seed) {
  reg_.rng = &init_rng_;
  g.validate("network geometry");
  if (genotype.nodes() != g.nodes)
    throw InputError("genotype", "has " + std::to_string(genotype.nodes()) + " nodes but the network uses " +
                                     std::to_string(g.nodes));
  genotype.validate(catalog.names(), "genotype");
  const int c_stem = static_cast<int>(g.stem_multiplier * g.channels);
  stem_w_ = reg_.conv_weight("stem.conv", c_stem, static_cast<int>(g.input_channels), 3);
  stem_bn_ = reg_.batch_norm("stem.bn", c_stem, true);
  for (const CellShape& s : g.cell_shapes()) {
    Cell cell;
    cell.reduction = s.type == CellType::kReduce;
    const std::string p = "cells." + std::to_string(s.index);
    const int c = static_cast<int>(s.channels);
    if (s.prev_reduction)
      cell.pre0 = {factorized_reduce(static_cast<int>(s.c_prev_prev), c, true, reg_, p + ".preprocess0")};
    else
      cell.pre0 = relu_conv_bn(static_cast<int>(s.c_prev_prev), c, true, reg_, p + ".preprocess0");
    cell.pre1 = relu_conv_bn(static_cast<int>(s.c_prev), c, true, reg_, p + ".preprocess1");
    const auto& edges = genotype.cell(s.type);
    for (std::size_t m = 0; m < edges.size(); ++m) {
      const int stride = (cell.reduction && edges[m].from < 2) ? 2 : 1;
      cell.ops.push_back(compile_op(catalog.get(edges[m].op), c, stride, true, false, reg_,
                                    p + ".ops." + std::to_string(m)));
    }
    cells_.push_back(std::move(cell));
  }
  const int features = static_cast<int>(
      static_cast<std::int64_t>(genotype.normal_concat.size()) * g.cell_shapes().back().channels);
  const float bound = 1.0f / std::sqrt(static_cast<float>(features));
  fc_w_ = make_parameter(Tensor::uniform({static_cast<int>(g.num_classes), features}, init_rng_, -bound, bound), "classifier.weight");
  fc_b_ = make_parameter(Tensor::uniform({static_cast<int>(g.num_classes)}, init_rng_, -bound, bound), "classifier.bias");
  reg_.params.push_back({"classifier.weight", fc_w_});
  reg_.params.push_back({"classifier.bias", fc_b_});
}

Var DerivedNetwork::forward(Tape& tape, const Var& x, bool training, float drop_path_prob, std::mt19937_64* rng) {
  Var s = batch_norm(tape, conv2d(tape, x, stem_w_, Conv2dParams{1, 1, 1, 1}), *stem_bn_, training);
  Var s0 = s, s1 = s;
  for (std::size_t ci = 0; ci < cells_.size(); ++ci) {
    const Cell& cell = cells_[ci];
    const auto& concat = cell.reduction ? genotype_.reduce_concat : genotype_.normal_concat;
    const auto& edges = genotype_.cell(cell.reduction ? CellType::kReduce : CellType::kNormal);
    std::vector<Var> states = {run_layers(tape, cell.pre0, s0, training), run_layers(tape, cell.pre1, s1, training)};
    for (std::size_t node = 0; node * 2 < edges.size(); ++node) {
      Var h[2];
      for (int k = 0; k < 2; ++k) {
        const std::size_t m = node * 2 + static_cast<std::size_t>(k);
        const CompiledOp& op = cell.ops[m];
        const Var& in = states[static_cast<std::size_t>(edges[m].from)];
        const int stride = (cell.reduction && edges[m].from < 2) ? 2 : 1;
        h[k] = op.zero ? zero(tape, in, stride) : run_layers(tape, op.layers, in, training);
        if (training && drop_path_prob > 0 && !op.identity && rng) h[k] = drop_path(tape, h[k], drop_path_prob, *rng, training);
      }
      states.push_back(add(tape, h[0], h[1]));
    }
    std::vector<Var> out;
    for (std::int64_t n : concat) out.push_back(states[static_cast<std::size_t>(n)]);
    s0 = s1;
    s1 = concat_channels(tape, out);
  }
  return linear(tape, global_avg_pool(tape, s1), fc_w_, fc_b_);
}

}  // namespace hwnas::nas
