#pragma once
// The candidate operations of a search space, as data. One catalogue drives the supernet
// (nas/), the genotype and the cost tables (costmodels/): adding an op is adding one entry
// (in code, or in a JSON file passed with --ops), never a switch in several places.
//
// Every op maps C channels to C channels on one edge of a cell; the edge's stride (1, or 2 on
// the edges leaving the inputs of a reduction cell) applies to the first spatial primitive.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

enum class PrimitiveKind {
  kZero,      // DARTS `none`: output zeros (strided when the edge strides)
  kSkip,      // identity at stride 1, FactorizedReduce at stride 2
  kRelu,
  kConv,      // kernel x kernel, "same" padding = dilation*(kernel-1)/2, no bias
  kBatchNorm,
  kMaxPool,   // kernel x kernel, padding kernel/2
  kAvgPool,   // kernel x kernel, padding kernel/2, count_include_pad = false
};

const char* primitive_kind_name(PrimitiveKind k);  // "zero", "skip", "relu", "conv", "bn", ...

struct Primitive {
  PrimitiveKind kind = PrimitiveKind::kRelu;
  std::int64_t kernel = 1;
  std::int64_t dilation = 1;
  bool depthwise = false;         // kConv: groups = channels
  bool takes_edge_stride = false; // this primitive runs at the edge's stride
  bool search_only = false;       // present in the supernet only (DARTS: BN after pools)
};

struct OpDef {
  std::string name;
  std::vector<Primitive> primitives;
  bool parameter_free() const;  // no conv and no affine BN in the derived network
};

class OpCatalog {
 public:
  // The 8 DARTS ops in DARTS's order (none, max_pool_3x3, avg_pool_3x3, skip_connect,
  // sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5), then conv_1x1 and conv_3x3
  // (ReLU-conv-BN), exactly as quark0/darts builds them.
  static OpCatalog builtin();
  // Reads {"ops": [{"name": ..., "primitives": [{"type": "conv", "kernel": 3, ...}, ...]}]}
  // and merges it over the built-in ops (same name replaces). Errors name file and JSON path.
  static OpCatalog from_json_file(const std::string& path);
  void merge_json(const nlohmann::json& doc, const std::string& source_name);

  const OpDef& get(const std::string& name) const;  // throws InputError listing known ops
  bool contains(const std::string& name) const;
  const std::vector<OpDef>& ops() const { return ops_; }
  std::vector<std::string> names() const;

  // The ops named in `names` (comma-separated list or "darts" / "darts+conv"), in that order.
  std::vector<OpDef> select(const std::string& names_or_space) const;

 private:
  std::vector<OpDef> ops_;
};

nlohmann::json op_def_to_json(const OpDef& op);

}  // namespace hwnas
