#include "hwnas/nas/supernet.hpp"

#include <algorithm>
#include <cmath>

#include "hwnas/common/error.hpp"

namespace hwnas::nas {

Supernet::Supernet(const SearchGeometry& g, const std::vector<OpDef>& ops, std::uint64_t seed)
    : geometry_(g), init_rng_(seed) {
  reg_.rng = &init_rng_;
  g.validate("search geometry");
  if (ops.empty()) throw InputError("search space", "the op list is empty");
  for (const auto& op : ops) op_names_.push_back(op.name);
  const int c_stem = static_cast<int>(g.stem_multiplier * g.channels);
  stem_w_ = reg_.conv_weight("stem.conv", c_stem, static_cast<int>(g.input_channels), 3);
  stem_bn_ = reg_.batch_norm("stem.bn", c_stem, true);  // nn.BatchNorm2d default: affine
  const auto edges = cell_edges(g.nodes);
  for (const CellShape& s : g.cell_shapes()) {
    Cell cell;
    cell.reduction = s.type == CellType::kReduce;
    const std::string p = "cells." + std::to_string(s.index);
    const int c = static_cast<int>(s.channels);
    if (s.prev_reduction)
      cell.pre0 = {factorized_reduce(static_cast<int>(s.c_prev_prev), c, false, reg_, p + ".preprocess0")};
    else
      cell.pre0 = relu_conv_bn(static_cast<int>(s.c_prev_prev), c, false, reg_, p + ".preprocess0");
    cell.pre1 = relu_conv_bn(static_cast<int>(s.c_prev), c, false, reg_, p + ".preprocess1");
    for (const Edge& e : edges) {
      const int stride = (cell.reduction && e.from < 2) ? 2 : 1;
      std::vector<CompiledOp> mixed;
      for (std::size_t k = 0; k < ops.size(); ++k)
        mixed.push_back(compile_op(ops[k], c, stride, false, true, reg_,
                                   p + ".edges." + std::to_string(e.index) + "." + ops[k].name));
      cell.edges.push_back(std::move(mixed));
    }
    cells_.push_back(std::move(cell));
  }
  const int features = static_cast<int>(g.final_channels());
  const float bound = 1.0f / std::sqrt(static_cast<float>(features));
  fc_w_ = make_parameter(Tensor::uniform({static_cast<int>(g.num_classes), features}, init_rng_, -bound, bound),
                         "classifier.weight");
  fc_b_ = make_parameter(Tensor::uniform({static_cast<int>(g.num_classes)}, init_rng_, -bound, bound), "classifier.bias");
  reg_.params.push_back({"classifier.weight", fc_w_});
  reg_.params.push_back({"classifier.bias", fc_b_});
  const int n_edges = static_cast<int>(edges.size()), n_ops = static_cast<int>(ops.size());
  alpha_normal_ = make_parameter(Tensor::randn({n_edges, n_ops}, init_rng_, 1e-3f), "alphas_normal");
  alpha_reduce_ = make_parameter(Tensor::randn({n_edges, n_ops}, init_rng_, 1e-3f), "alphas_reduce");
}

Var Supernet::forward(Tape& tape, const Var& x, bool training) {
  Var s = batch_norm(tape, conv2d(tape, x, stem_w_, Conv2dParams{1, 1, 1, 1}), *stem_bn_, training);
  // One softmax per cell type and step: every cell of a type sees the same weights (DARTS
  // recomputes it per cell; the value and the gradient are the same).
  const Var w_normal = softmax(tape, alpha_normal_);
  const Var w_reduce = softmax(tape, alpha_reduce_);
  Var s0 = s, s1 = s;
  const std::int64_t nodes = geometry_.nodes;
  for (const Cell& cell : cells_) {
    const Var& wts = cell.reduction ? w_reduce : w_normal;
    std::vector<Var> states = {run_layers(tape, cell.pre0, s0, training), run_layers(tape, cell.pre1, s1, training)};
    // relu(state), computed once per state for all the ops (on all its edges) that start with it.
    std::vector<Var> relu_states;
    std::size_t e = 0;
    for (std::int64_t node = 0; node < nodes; ++node) {
      std::vector<Var> terms;
      for (std::size_t j = 0; j < states.size(); ++j, ++e) {
        if (relu_states.size() <= j) relu_states.push_back(relu(tape, states[j]));
        std::vector<Var> outs;
        for (const CompiledOp& op : cell.edges[e])
          outs.push_back(op.zero ? Var() : run_layers(tape, op.layers, states[j], training, &relu_states[j]));
        terms.push_back(weighted_sum(tape, outs, row(tape, wts, static_cast<int>(e))));
      }
      states.push_back(terms.size() == 1 ? terms[0] : add_n(tape, terms));
    }
    s0 = s1;
    s1 = concat_channels(tape, std::vector<Var>(states.end() - nodes, states.end()));
  }
  return linear(tape, global_avg_pool(tape, s1), fc_w_, fc_b_);
}

Eigen::MatrixXd Supernet::alpha_matrix(CellType t) const {
  const Tensor& a = alpha(t).value();
  return a.mat(a.dim(0), a.dim(1)).cast<double>();
}

void Supernet::set_weights_trainable(bool on) {
  for (auto& p : reg_.params) p.var.set_requires_grad(on);
}

MemoryEstimate Supernet::estimate_memory(std::int64_t n) const {
  const SearchGeometry& g = geometry_;
  std::int64_t floats = 0;
  std::int64_t c = g.stem_multiplier * g.channels, h = g.input_height, w = g.input_width;
  floats += 3 * n * c * h * w;  // stem conv + BN (output, normalised input)
  std::int64_t c_pp = c, h_pp = h, w_pp = w, c_p = c, h_p = h, w_p = w;
  std::int64_t max_cell_floats = floats;
  for (const Cell& cell : cells_) {
    const std::int64_t before = floats;
    std::int64_t c0 = c_pp, h0 = h_pp, w0 = w_pp, c1 = c_p, h1 = h_p, w1 = w_p;
    floats += layers_activation_floats(cell.pre0, n, c0, h0, w0);
    floats += layers_activation_floats(cell.pre1, n, c1, h1, w1);
    std::vector<std::int64_t> state_h = {h1, h1}, state_w = {w1, w1};
    floats += 2 * n * c1 * h1 * w1;  // relu of the two inputs, shared by their ops
    std::size_t e = 0;
    std::int64_t node_c = c1, node_h = 0, node_w = 0;
    for (std::int64_t node = 0; node < g.nodes; ++node) {
      const std::size_t inputs = state_h.size();
      for (std::size_t j = 0; j < inputs; ++j, ++e) {
        for (const CompiledOp& op : cell.edges[e]) {
          std::int64_t oc = node_c, oh = state_h[j], ow = state_w[j];
          if (!op.zero) floats += layers_activation_floats(op.layers, n, oc, oh, ow, true);
        }
        const int stride = (cell.reduction && j < 2) ? 2 : 1;
        node_h = (state_h[j] + stride - 1) / stride;
        node_w = (state_w[j] + stride - 1) / stride;
        floats += n * node_c * node_h * node_w;  // weighted sum
      }
      if (inputs > 1) floats += n * node_c * node_h * node_w;  // node sum
      if (node + 1 < g.nodes) floats += n * node_c * node_h * node_w;  // its shared relu
      state_h.push_back(node_h);
      state_w.push_back(node_w);
    }
    floats += n * g.nodes * node_c * node_h * node_w;  // concat
    max_cell_floats = std::max(max_cell_floats, floats - before);
    c_pp = c_p; h_pp = h_p; w_pp = w_p;
    c_p = g.nodes * node_c; h_p = node_h; w_p = node_w;
  }
  MemoryEstimate m;
  m.activation_bytes = floats * 4;
  // Backward consumes the tape from the end and frees each gradient once its closure has run,
  // so the gradients alive at once are bounded by about one cell's worth.
  m.gradient_bytes = max_cell_floats * 4;
  const std::int64_t alphas = alpha_normal_.numel() + alpha_reduce_.numel();
  m.parameter_bytes = weight_count() * 4 * 3 + alphas * 4 * 4;
  m.input_bytes = 2 * n * g.input_channels * g.input_height * g.input_width * 4;
  return m;
}

}  // namespace hwnas::nas
