#pragma once
// Search-space ops and the fixed parts of a DARTS network as the hardware layers they run:
// convolutions on the systolic array, ReLU / BN / pools / adds on the vector unit. Ops are
// decomposed by interpreting the primitives of their hwnas::OpDef (common/op_catalog.hpp), never
// by name, so an op added to the catalogue (or with --ops) is costed with no code change.
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/costmodels/geometry.hpp"
#include "hwnas/sim/layer.hpp"

namespace hwnas::costmodels {

// Which network the layers belong to.
struct NetVariant {
  // Keep primitives marked search_only (DARTS's BN after pools). Off: the ops as they run in the
  // derived network, which is what a cost table predicts.
  bool include_search_only = false;
  // BN holds 2 affine parameters per channel (derived / final net, model.py); the search net
  // builds every op BN with affine=False (model_search.py) and so holds none there.
  bool affine_bn = true;
  // ReLU and BN cost nothing: BN folded into the conv weights and ReLU applied in the array's
  // output path (an activation pipeline, as in TPU v1). Pools and adds still run on the vector
  // unit. Parameters are counted either way (they are the model's size).
  bool fuse_elementwise = false;
};

// A layer plus what the cost table needs that the simulator does not report in this form.
struct HwLayer {
  sim::Layer layer;
  std::int64_t params = 0;  // weights (+ BN affine, + classifier bias)
  std::int64_t macs = 0;    // conventional MACs: every kernel tap of every output (field notes 6.1)
};

// Shapes flowing through a primitive chain (channels x height x width).
struct Shape {
  std::int64_t channels = 0, height = 0, width = 0;
};

std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation);

// Closed forms for one layer (independent of the simulator).
std::int64_t conventional_macs(const sim::Layer& layer);

// Layers of one op on an edge with C channels at H x W and the edge's stride. `prefix` names the
// layers. Throws InputError when the op cannot run there (odd channels or size for
// FactorizedReduce, a kernel larger than the padded input, a shape-changing op).
std::vector<HwLayer> op_layers(const OpDef& op, const Shape& in, std::int64_t stride,
                               const NetVariant& v, const std::string& prefix);
Shape op_output_shape(const OpDef& op, const Shape& in, std::int64_t stride);

// ReLU -> conv kxk (C_in -> C_out, stride, same padding) -> BN. DARTS's ReLUConvBN.
std::vector<HwLayer> relu_conv_bn_layers(const Shape& in, std::int64_t out_channels,
                                         std::int64_t kernel, std::int64_t stride,
                                         const NetVariant& v, const std::string& prefix);
// ReLU -> two 1x1 stride-2 convs to C_out/2 (the second on the input shifted by one pixel)
// -> concat -> BN(C_out).
std::vector<HwLayer> factorized_reduce_layers(const Shape& in, std::int64_t out_channels,
                                              const NetVariant& v, const std::string& prefix);

// The parts the search does not choose.
std::vector<HwLayer> stem_layers(const NetworkGeometry& g, const NetVariant& v);
std::vector<HwLayer> preprocess_layers(const CellGeometry& cell, const NetVariant& v);
// One element-wise add of two C x H' x W' tensors per intermediate node (each node of a derived
// cell sums its two chosen edges).
std::vector<HwLayer> node_add_layers(const CellGeometry& cell, std::int64_t count);
std::vector<HwLayer> classifier_layers(const NetworkGeometry& g, const NetVariant& v);

}  // namespace hwnas::costmodels
