#include "hwnas/costmodels/decompose.hpp"

#include "hwnas/common/error.hpp"

namespace hwnas::costmodels {

namespace {

sim::Layer conv_layer(const std::string& name, const Shape& in, std::int64_t out_channels,
                      std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                      std::int64_t groups) {
  sim::Layer l;
  l.name = name;
  l.kind = sim::LayerKind::kConv2d;
  l.in_h = in.height;
  l.in_w = in.width;
  l.in_channels = in.channels;
  l.out_channels = out_channels;
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = dilation * (kernel - 1) / 2;
  l.dilation_h = l.dilation_w = dilation;
  l.groups = groups;
  return l;
}

sim::Layer vector_layer(const std::string& name, sim::ElementwiseOp op, const Shape& in) {
  sim::Layer l;
  l.name = name;
  l.kind = sim::LayerKind::kElementwise;
  l.elementwise_op = op;
  l.in_h = in.height;
  l.in_w = in.width;
  l.in_channels = in.channels;
  l.out_channels = in.channels;
  return l;
}

// Same-padded stride-1 3x3: the spatial size is kept.
Shape in_shape_after(const Shape& in, std::int64_t channels) { return {channels, in.height, in.width}; }

HwLayer with_counts(const sim::Layer& l, std::int64_t params) {
  return {l, params, conventional_macs(l)};
}

void check_conv_fits(const Shape& in, std::int64_t kernel, std::int64_t dilation,
                     const std::string& name) {
  const std::int64_t span = dilation * (kernel - 1) + 1;
  const std::int64_t pad = dilation * (kernel - 1) / 2;
  if (span > in.height + 2 * pad || span > in.width + 2 * pad)
    throw InputError(name, "window " + std::to_string(span) + "x" + std::to_string(span) +
                               " is larger than the padded " + std::to_string(in.height) + "x" +
                               std::to_string(in.width) + " input");
}

void add_bn(std::vector<HwLayer>& out, const Shape& s, const NetVariant& v, bool search_only,
            const std::string& name) {
  if (search_only && !v.include_search_only) return;
  // A search-only BN is DARTS's affine=False BN after pools: never any parameters.
  const std::int64_t params = (v.affine_bn && !search_only) ? 2 * s.channels : 0;
  if (!v.fuse_elementwise) {
    out.push_back(with_counts(vector_layer(name, sim::ElementwiseOp::kBatchNorm, s), params));
  } else if (params > 0) {
    // Folded into the preceding conv: no layer runs, but the parameters are still the model's.
    if (out.empty()) throw InputError(name, "a fused BN needs a preceding layer to fold into");
    out.back().params += params;
  }
}

void add_relu(std::vector<HwLayer>& out, const Shape& s, const NetVariant& v, const std::string& name) {
  if (v.fuse_elementwise) return;
  out.push_back(with_counts(vector_layer(name, sim::ElementwiseOp::kRelu, s), 0));
}

// Interprets the primitive chain; `out` may be null to compute only the output shape.
Shape run_primitives(const OpDef& op, const Shape& in, std::int64_t stride, const NetVariant& v,
                     const std::string& prefix, std::vector<HwLayer>* out) {
  Shape s = in;
  std::vector<HwLayer> layers;
  int n = 0;
  for (const auto& p : op.primitives) {
    const std::int64_t st = p.takes_edge_stride ? stride : 1;
    const std::string name = prefix + "." + primitive_kind_name(p.kind) + std::to_string(n++);
    switch (p.kind) {
      case PrimitiveKind::kZero:
        // x[:, :, ::s, ::s].mul(0.): nothing runs in the derived net.
        s.height = (s.height + st - 1) / st;
        s.width = (s.width + st - 1) / st;
        break;
      case PrimitiveKind::kSkip:
        if (st != 1) {
          auto fr = factorized_reduce_layers(s, s.channels, v, name);
          layers.insert(layers.end(), fr.begin(), fr.end());
          s.height /= 2;
          s.width /= 2;
        }
        break;
      case PrimitiveKind::kRelu:
        add_relu(layers, s, v, name);
        break;
      case PrimitiveKind::kConv: {
        check_conv_fits(s, p.kernel, p.dilation, name);
        const std::int64_t groups = p.depthwise ? s.channels : 1;
        sim::Layer l = conv_layer(name, s, s.channels, p.kernel, st, p.dilation, groups);
        layers.push_back(with_counts(l, p.kernel * p.kernel * s.channels * s.channels / groups));
        s.height = conv_output_size(s.height, p.kernel, st, l.pad_h, p.dilation);
        s.width = conv_output_size(s.width, p.kernel, st, l.pad_w, p.dilation);
        break;
      }
      case PrimitiveKind::kBatchNorm:
        add_bn(layers, s, v, p.search_only, name);
        break;
      case PrimitiveKind::kMaxPool:
      case PrimitiveKind::kAvgPool: {
        check_conv_fits(s, p.kernel, 1, name);
        sim::Layer l = vector_layer(name,
                                    p.kind == PrimitiveKind::kMaxPool ? sim::ElementwiseOp::kMaxPool
                                                                      : sim::ElementwiseOp::kAvgPool,
                                    s);
        l.kernel_h = l.kernel_w = p.kernel;
        l.stride_h = l.stride_w = st;
        l.pad_h = l.pad_w = p.kernel / 2;
        layers.push_back(with_counts(l, 0));
        s.height = conv_output_size(s.height, p.kernel, st, p.kernel / 2, 1);
        s.width = conv_output_size(s.width, p.kernel, st, p.kernel / 2, 1);
        break;
      }
    }
  }
  if (out) *out = std::move(layers);
  return s;
}

}  // namespace

std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

std::int64_t conventional_macs(const sim::Layer& l) {
  switch (l.kind) {
    case sim::LayerKind::kConv2d: {
      const std::int64_t oh = conv_output_size(l.in_h, l.kernel_h, l.stride_h, l.pad_h, l.dilation_h);
      const std::int64_t ow = conv_output_size(l.in_w, l.kernel_w, l.stride_w, l.pad_w, l.dilation_w);
      return oh * ow * l.out_channels * l.kernel_h * l.kernel_w * (l.in_channels / l.groups);
    }
    case sim::LayerKind::kGemm:
      return l.gemm_m * l.gemm_n * l.gemm_k;
    case sim::LayerKind::kElementwise:
      return 0;
  }
  return 0;
}

std::vector<HwLayer> op_layers(const OpDef& op, const Shape& in, std::int64_t stride,
                               const NetVariant& v, const std::string& prefix) {
  std::vector<HwLayer> out;
  const Shape s = run_primitives(op, in, stride, v, prefix, &out);
  const std::int64_t want_h = (in.height + stride - 1) / stride;
  const std::int64_t want_w = (in.width + stride - 1) / stride;
  if (s.channels != in.channels || s.height != want_h || s.width != want_w)
    throw InputError(prefix, "op \"" + op.name + "\" turns " + std::to_string(in.channels) + "x" +
                                 std::to_string(in.height) + "x" + std::to_string(in.width) +
                                 " at stride " + std::to_string(stride) + " into " +
                                 std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" +
                                 std::to_string(s.width) + ", but every op of an edge must give " +
                                 std::to_string(in.channels) + "x" + std::to_string(want_h) + "x" +
                                 std::to_string(want_w));
  return out;
}

Shape op_output_shape(const OpDef& op, const Shape& in, std::int64_t stride) {
  return run_primitives(op, in, stride, NetVariant{}, op.name, nullptr);
}

std::vector<HwLayer> relu_conv_bn_layers(const Shape& in, std::int64_t out_channels,
                                         std::int64_t kernel, std::int64_t stride,
                                         const NetVariant& v, const std::string& prefix) {
  std::vector<HwLayer> out;
  add_relu(out, in, v, prefix + ".relu");
  check_conv_fits(in, kernel, 1, prefix + ".conv");
  sim::Layer c = conv_layer(prefix + ".conv", in, out_channels, kernel, stride, 1, 1);
  out.push_back(with_counts(c, kernel * kernel * in.channels * out_channels));
  add_bn(out, {out_channels, conv_output_size(in.height, kernel, stride, c.pad_h, 1),
              conv_output_size(in.width, kernel, stride, c.pad_w, 1)},
         v, false, prefix + ".bn");
  return out;
}

std::vector<HwLayer> factorized_reduce_layers(const Shape& in, std::int64_t out_channels,
                                              const NetVariant& v, const std::string& prefix) {
  if (out_channels % 2 != 0)
    throw InputError(prefix, "FactorizedReduce needs an even number of output channels, got " +
                                 std::to_string(out_channels));
  if (in.height < 2 || in.width < 2 || in.height % 2 != 0 || in.width % 2 != 0)
    throw InputError(prefix, "FactorizedReduce needs an even input size >= 2, got " +
                                 std::to_string(in.height) + "x" + std::to_string(in.width));
  std::vector<HwLayer> out;
  add_relu(out, in, v, prefix + ".relu");
  const std::int64_t half = out_channels / 2;
  sim::Layer c1 = conv_layer(prefix + ".conv1", in, half, 1, 2, 1, 1);
  // conv_2 reads x[:, :, 1:, 1:]: one row and column fewer, same output size for even inputs.
  sim::Layer c2 = conv_layer(prefix + ".conv2", {in.channels, in.height - 1, in.width - 1}, half, 1, 2, 1, 1);
  out.push_back(with_counts(c1, in.channels * half));
  out.push_back(with_counts(c2, in.channels * half));
  add_bn(out, {out_channels, in.height / 2, in.width / 2}, v, false, prefix + ".bn");
  return out;
}

std::vector<HwLayer> stem_layers(const NetworkGeometry& g, const NetVariant& v) {
  // Conv3x3(in -> 3C, pad 1) + BN, no ReLU; its BN is affine in the search net too.
  NetVariant stem_v = v;
  stem_v.affine_bn = true;
  const Shape in{g.spec.input_channels, g.spec.input_height, g.spec.input_width};
  std::vector<HwLayer> out;
  check_conv_fits(in, 3, 1, "stem");
  sim::Layer c = conv_layer("stem.conv", in, g.stem_channels, 3, 1, 1, 1);
  out.push_back(with_counts(c, 9 * in.channels * g.stem_channels));
  add_bn(out, in_shape_after(in, g.stem_channels), stem_v, false, "stem.bn");
  return out;
}

std::vector<HwLayer> preprocess_layers(const CellGeometry& cell, const NetVariant& v) {
  const std::string p = "cell" + std::to_string(cell.index);
  std::vector<HwLayer> out =
      cell.reduction_prev
          ? factorized_reduce_layers({cell.pp_channels, cell.pp_height, cell.pp_width}, cell.channels, v,
                                     p + ".preprocess0")
          : relu_conv_bn_layers({cell.pp_channels, cell.pp_height, cell.pp_width}, cell.channels, 1, 1, v,
                                p + ".preprocess0");
  auto p1 = relu_conv_bn_layers({cell.p_channels, cell.in_height, cell.in_width}, cell.channels, 1, 1, v,
                                p + ".preprocess1");
  out.insert(out.end(), p1.begin(), p1.end());
  return out;
}

std::vector<HwLayer> node_add_layers(const CellGeometry& cell, std::int64_t count) {
  std::vector<HwLayer> out;
  for (std::int64_t i = 0; i < count; ++i)
    out.push_back(with_counts(vector_layer("cell" + std::to_string(cell.index) + ".node" +
                                               std::to_string(i + 2) + ".add",
                                           sim::ElementwiseOp::kAdd,
                                           {cell.channels, cell.out_height, cell.out_width}),
                              0));
  return out;
}

std::vector<HwLayer> classifier_layers(const NetworkGeometry& g, const NetVariant&) {
  std::vector<HwLayer> out;
  out.push_back(with_counts(vector_layer("classifier.gap", sim::ElementwiseOp::kGlobalAvgPool,
                                         {g.classifier_channels, g.classifier_height, g.classifier_width}),
                            0));
  sim::Layer fc;
  fc.name = "classifier.linear";
  fc.kind = sim::LayerKind::kGemm;
  fc.gemm_m = 1;
  fc.gemm_k = g.classifier_channels;
  fc.gemm_n = g.spec.num_classes;
  out.push_back(with_counts(fc, g.classifier_channels * g.spec.num_classes + g.spec.num_classes));
  return out;
}

}  // namespace hwnas::costmodels
