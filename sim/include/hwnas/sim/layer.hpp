#pragma once
// One layer of work for the accelerator, batch 1. Convolutions (dense, strided, padded, dilated,
// grouped: depthwise is groups == in_channels) and GEMMs run on the systolic array; element-wise
// work (pooling, add, ReLU, BN) runs on the vector unit.
#include <cstdint>
#include <string>
#include <vector>

namespace hwnas::sim {

enum class LayerKind { kConv2d, kGemm, kElementwise };

enum class ElementwiseOp { kMaxPool, kAvgPool, kGlobalAvgPool, kAdd, kRelu, kBatchNorm };
const char* elementwise_op_name(
    ElementwiseOp op);  // "maxpool", "avgpool", "gap", "add", "relu", "bn"

// SCALE-Sim computes output sizes with ceil((H - R + s) / s) (its extra edge window reads past
// the ifmap); PyTorch and everything else use floor. Layers read from SCALE-Sim topologies use
// kCeil so counts match it one to one.
enum class OutputRounding { kFloor, kCeil };

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::kConv2d;

  // kConv2d (also used for the pooling window of kElementwise pools)
  std::int64_t in_h = 0, in_w = 0, in_channels = 0, out_channels = 0;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
  OutputRounding rounding = OutputRounding::kFloor;

  // kGemm: (M x K) * (K x N)
  std::int64_t gemm_m = 0, gemm_n = 0, gemm_k = 0;

  // kElementwise: op over an in_h x in_w x in_channels tensor (pools also use kernel/stride/pad)
  ElementwiseOp elementwise_op = ElementwiseOp::kRelu;

  // Output size: the conv/pool window formula (floor or ceil), in_h x in_w for relu/bn/add,
  // 1 x 1 for gap, and gemm_m x 1 for a GEMM.
  std::int64_t out_h() const;
  std::int64_t out_w() const;
};

// The im2col GEMM one group of a conv (or a GEMM layer) becomes, in SCALE-Sim's convention:
// rows = output pixels (M), columns = filters (N), reduction = R*S*C per group (K).
struct GemmShape {
  std::int64_t m = 0;       // output pixels per filter (E_h * E_w)
  std::int64_t n = 0;       // filters per group
  std::int64_t k = 0;       // window size per group (R * S * C / groups)
  std::int64_t groups = 1;  // independent GEMMs run one after another
};

GemmShape gemm_shape(const Layer& layer);  // kConv2d or kGemm only

// Useful multiply-accumulates (excludes taps that fall in padding or outside the ifmap).
std::int64_t layer_macs(const Layer& layer);
// Array MAC slots the mapping occupies (m*n*k*groups), SCALE-Sim's "num_compute".
std::int64_t layer_mapped_macs(const Layer& layer);
// Parameters (weights, no bias) the layer holds: conv k*(c/groups)*r*s, GEMM k*n; BN holds 2
// per channel (affine), other element-wise layers 0.
std::int64_t layer_param_count(const Layer& layer);
// Element-wise operations a vector-unit layer performs: output elements x window taps for pools,
// h*w*c for gap, add and relu, 2*h*w*c for bn; 0 for array layers.
std::int64_t layer_vector_ops(const Layer& layer);

// Throws std::invalid_argument with a message naming the field when shapes are impossible
// (non-positive sizes, channels not divisible by groups, window larger than padded input, ...).
void validate_layer(const Layer& layer);

// The text syntax of `hwnas sim --layer` (and of topology files): a kind, then key=value pairs
// in any order, separated by spaces or tabs. Values are decimal integers.
//   conv2d  h w c k r [s=r] [stride=1] [pad=0] [dilation=1] [groups=1]
//   dwconv  h w c r [s=r] [stride=1] [pad=0] [dilation=1]      depthwise: groups = k = c
//   gemm    m n k                                              (M x K) * (K x N)
//   maxpool|avgpool  h w c r [s=r] [stride=r] [pad=0]          pools default to stride = window
//   relu|bn|add|gap  h w c
// Every kind takes an optional name=<word>. Windowed kinds also take stride_h/stride_w,
// pad_h/pad_w (and convs dilation_h/dilation_w) instead of the square key, and
// rounding=floor|ceil (ceil = SCALE-Sim's output size). Examples:
//   "conv2d h=32 w=32 c=16 k=16 r=3 s=3 stride=1 pad=1 dilation=1 groups=1"
//   "gemm m=64 n=128 k=256"   "maxpool h=32 w=32 c=16 r=3 stride=1 pad=1"   "relu h=32 w=32 c=16"
// Unknown or repeated keys, missing required keys, non-integer or out-of-range values and
// impossible shapes throw hwnas::InputError naming `where`, the key and the value.
Layer parse_layer_spec(const std::string& spec, const std::string& where);
// Inverse of parse_layer_spec: always the conv2d form for convs (groups explicit), name= last
// when the layer has a name.
std::string layer_spec_string(const Layer& layer);

}  // namespace hwnas::sim
