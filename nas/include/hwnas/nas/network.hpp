#pragma once
// Building blocks shared by the supernet and the derived (final) network, and the derived network
// itself. Candidate ops are built by interpreting the OpDef primitives of the op catalogue
// (common/op_catalog.hpp), never by switching on op names: adding an op to the catalogue adds it
// to the supernet, the derived network and the memory estimate at once.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/genotype.hpp"
#include "hwnas/nas/ops.hpp"
#include "hwnas/nas/search_space.hpp"

namespace hwnas::nas {

struct NamedParam {
  std::string name;
  Var var;
};
struct NamedBatchNorm {
  std::string name;
  std::shared_ptr<BatchNormState> bn;
};

// Every learnable tensor and every BN state of a network, in construction order (the order of
// checkpoints and of the optimisers' state).
struct ParameterRegistry {
  std::vector<NamedParam> params;
  std::vector<NamedBatchNorm> batch_norms;
  std::mt19937_64* rng = nullptr;  // draws the initial weights

  // PyTorch's default conv init (kaiming_uniform, a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  Var conv_weight(const std::string& name, int c_out, int c_in_per_group, int kernel);
  std::shared_ptr<BatchNormState> batch_norm(const std::string& name, int channels, bool affine);
  std::vector<Var> vars() const;
  std::int64_t count() const;  // learnable scalars
};

// One step of a compiled op. FactorizedReduce is ReLU -> two 1x1 stride-2 convs (the second on
// the input shifted by one pixel) -> concat -> BN.
struct Layer {
  enum class Kind { kRelu, kConv, kBatchNorm, kMaxPool, kAvgPool, kFactorizedReduce };
  Kind kind = Kind::kRelu;
  Var weight, weight2;
  Conv2dParams conv;
  std::shared_ptr<BatchNormState> bn;
  int kernel = 1, stride = 1, padding = 0;
};

struct CompiledOp {
  std::string name;
  bool zero = false;      // `none`: contributes nothing (MixedOp passes an undefined Var)
  bool identity = false;  // stride-1 skip: no layers (drop-path never applies to it)
  std::vector<Layer> layers;
};

// in_channels == channels for edge ops; affine chooses BN affine; search keeps search_only
// primitives (BN after pools).
CompiledOp compile_op(const OpDef& op, int channels, int stride, bool affine, bool search,
                      ParameterRegistry& reg, const std::string& prefix);
Layer factorized_reduce(int c_in, int c_out, bool affine, ParameterRegistry& reg, const std::string& prefix);
std::vector<Layer> relu_conv_bn(int c_in, int c_out, bool affine, ParameterRegistry& reg, const std::string& prefix);

// relu_x: relu(x) computed once by the caller and shared by every op that starts with a ReLU
// (sep/dil convs, FactorizedReduce): the same values, one tensor instead of one per op.
Var run_layers(Tape& tape, const std::vector<Layer>& layers, Var x, bool training, const Var* relu_x = nullptr);
// True if the op's first step is a ReLU of its input (it can use a shared relu_x).
bool starts_with_relu(const std::vector<Layer>& layers);

// Floats held for backward by run_layers on an input of shape [n, c, h, w] (outputs of every
// layer; BN also keeps its normalised input); updates c/h/w to the output shape. shared_relu:
// the leading ReLU is the caller's shared tensor and is not counted.
std::int64_t layers_activation_floats(const std::vector<Layer>& layers, std::int64_t n, std::int64_t& c,
                                      std::int64_t& h, std::int64_t& w, bool shared_relu = false);

// The network a genotype describes (quark0/darts model.py NetworkCIFAR without the auxiliary
// head): affine BN everywhere, no BN after pools, optional drop-path on non-identity ops.
class DerivedNetwork {
 public:
  DerivedNetwork(const SearchGeometry& geometry, const Genotype& genotype, const OpCatalog& catalog,
                 std::uint64_t seed);
  Var forward(Tape& tape, const Var& x, bool training, float drop_path_prob = 0.0f,
              std::mt19937_64* rng = nullptr);
  const ParameterRegistry& registry() const { return reg_; }
  std::vector<Var> parameters() const { return reg_.vars(); }
  std::int64_t parameter_count() const { return reg_.count(); }
  const SearchGeometry& geometry() const { return geometry_; }
  const Genotype& genotype() const { return genotype_; }

 private:
  struct Cell {
    bool reduction = false;
    std::vector<Layer> pre0, pre1;
    std::vector<CompiledOp> ops;  // 2 per node, genotype order
  };
  SearchGeometry geometry_;
  Genotype genotype_;
  std::mt19937_64 init_rng_;
  ParameterRegistry reg_;
  Var stem_w_;
  std::shared_ptr<BatchNormState> stem_bn_;
  std::vector<Cell> cells_;
  Var fc_w_, fc_b_;
};

}  // namespace hwnas::nas
