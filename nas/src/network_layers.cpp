#include <cmath>

#include "hwnas/nas/network.hpp"

namespace hwnas::nas {

Var ParameterRegistry::conv_weight(const std::string& name, int c_out, int c_in_per_group, int kernel) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(c_in_per_group * kernel * kernel));
  Var v = make_parameter(Tensor::uniform({c_out, c_in_per_group, kernel, kernel}, *rng, -bound, bound), name);
  params.push_back({name, v});
  return v;
}

std::shared_ptr<BatchNormState> ParameterRegistry::batch_norm(const std::string& name, int channels, bool affine) {
  auto bn = std::make_shared<BatchNormState>(BatchNormState::make(channels, affine));
  if (affine) {
    params.push_back({name + ".weight", bn->gamma});
    params.push_back({name + ".bias", bn->beta});
  }
  batch_norms.push_back({name, bn});
  return bn;
}

std::vector<Var> ParameterRegistry::vars() const {
  std::vector<Var> out;
  for (const auto& p : params) out.push_back(p.var);
  return out;
}

std::int64_t ParameterRegistry::count() const {
  std::int64_t n = 0;
  for (const auto& p : params) n += p.var.numel();
  return n;
}

Layer factorized_reduce(int c_in, int c_out, bool affine, ParameterRegistry& reg, const std::string& prefix) {
  Layer l;
  l.kind = Layer::Kind::kFactorizedReduce;
  l.weight = reg.conv_weight(prefix + ".conv_1", c_out / 2, c_in, 1);
  l.weight2 = reg.conv_weight(prefix + ".conv_2", c_out / 2, c_in, 1);
  l.conv.stride = 2;
  l.bn = reg.batch_norm(prefix + ".bn", c_out, affine);
  return l;
}

std::vector<Layer> relu_conv_bn(int c_in, int c_out, bool affine, ParameterRegistry& reg, const std::string& prefix) {
  std::vector<Layer> out(3);
  out[0].kind = Layer::Kind::kRelu;
  out[1].kind = Layer::Kind::kConv;
  out[1].weight = reg.conv_weight(prefix + ".conv", c_out, c_in, 1);
  out[2].kind = Layer::Kind::kBatchNorm;
  out[2].bn = reg.batch_norm(prefix + ".bn", c_out, affine);
  return out;
}

CompiledOp compile_op(const OpDef& op, int channels, int stride, bool affine, bool search,
                      ParameterRegistry& reg, const std::string& prefix) {
  CompiledOp out;
  out.name = op.name;
  for (std::size_t i = 0; i < op.primitives.size(); ++i) {
    const Primitive& p = op.primitives[i];
    const std::string name = prefix + "." + std::to_string(i);
    const int s = p.takes_edge_stride ? stride : 1;
    Layer l;
    switch (p.kind) {
      case PrimitiveKind::kZero:
        out.zero = true;
        out.layers.clear();
        return out;
      case PrimitiveKind::kSkip:
        if (s != 1) out.layers.push_back(factorized_reduce(channels, channels, affine, reg, name));
        continue;
      case PrimitiveKind::kRelu:
        l.kind = Layer::Kind::kRelu;
        break;
      case PrimitiveKind::kConv: {
        l.kind = Layer::Kind::kConv;
        const int k = static_cast<int>(p.kernel), d = static_cast<int>(p.dilation);
        l.conv.stride = s;
        l.conv.dilation = d;
        l.conv.padding = d * (k - 1) / 2;
        l.conv.groups = p.depthwise ? channels : 1;
        l.weight = reg.conv_weight(name + ".weight", channels, p.depthwise ? 1 : channels, k);
        break;
      }
      case PrimitiveKind::kBatchNorm:
        if (p.search_only && !search) continue;
        l.kind = Layer::Kind::kBatchNorm;
        // Search-only BN (after pools) is affine=False in DARTS even in an affine network.
        l.bn = reg.batch_norm(name, channels, affine && !p.search_only);
        break;
      case PrimitiveKind::kMaxPool:
      case PrimitiveKind::kAvgPool:
        l.kind = p.kind == PrimitiveKind::kMaxPool ? Layer::Kind::kMaxPool : Layer::Kind::kAvgPool;
        l.kernel = static_cast<int>(p.kernel);
        l.stride = s;
        l.padding = static_cast<int>(p.kernel / 2);
        break;
    }
    out.layers.push_back(l);
  }
  out.identity = out.layers.empty();
  return out;
}

bool starts_with_relu(const std::vector<Layer>& layers) {
  return !layers.empty() &&
         (layers[0].kind == Layer::Kind::kRelu || layers[0].kind == Layer::Kind::kFactorizedReduce);
}

Var run_layers(Tape& tape, const std::vector<Layer>& layers, Var x, bool training, const Var* relu_x) {
  const bool shared = relu_x != nullptr && starts_with_relu(layers);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (i == 0 && shared && l.kind == Layer::Kind::kRelu) {
      x = *relu_x;
      continue;
    }
    switch (l.kind) {
      case Layer::Kind::kRelu: x = relu(tape, x); break;
      case Layer::Kind::kConv: x = conv2d(tape, x, l.weight, l.conv); break;
      case Layer::Kind::kBatchNorm: x = batch_norm(tape, x, *l.bn, training); break;
      case Layer::Kind::kMaxPool: x = max_pool2d(tape, x, l.kernel, l.stride, l.padding); break;
      case Layer::Kind::kAvgPool: x = avg_pool2d(tape, x, l.kernel, l.stride, l.padding); break;
      case Layer::Kind::kFactorizedReduce: {
        const Var r = (i == 0 && shared) ? *relu_x : relu(tape, x);
        const Var a = conv2d(tape, r, l.weight, l.conv);
        const Var b = conv2d(tape, shift_crop(tape, r), l.weight2, l.conv);
        x = batch_norm(tape, concat_channels(tape, {a, b}), *l.bn, training);
        break;
      }
    }
  }
  return x;
}

std::int64_t layers_activation_floats(const std::vector<Layer>& layers, std::int64_t n, std::int64_t& c,
                                      std::int64_t& h, std::int64_t& w, bool shared_relu) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const bool skip_relu = shared_relu && i == 0;
    switch (l.kind) {
      case Layer::Kind::kRelu:
        if (!skip_relu) total += n * c * h * w;
        break;
      case Layer::Kind::kConv:
        c = l.weight.shape()[0];
        h = conv_output_size(static_cast<int>(h), l.weight.shape()[2], l.conv.stride, l.conv.padding, l.conv.dilation);
        w = conv_output_size(static_cast<int>(w), l.weight.shape()[3], l.conv.stride, l.conv.padding, l.conv.dilation);
        total += n * c * h * w;
        break;
      case Layer::Kind::kBatchNorm: total += 2 * n * c * h * w; break;  // output + normalised input
      case Layer::Kind::kMaxPool:
      case Layer::Kind::kAvgPool:
        h = conv_output_size(static_cast<int>(h), l.kernel, l.stride, l.padding, 1);
        w = conv_output_size(static_cast<int>(w), l.kernel, l.stride, l.padding, 1);
        total += n * c * h * w;
        break;
      case Layer::Kind::kFactorizedReduce: {
        const std::int64_t in = n * c * h * w;
        c = 2 * l.weight.shape()[0];
        h = (h + 1) / 2;
        w = (w + 1) / 2;
        // relu (unless shared), shifted crop, two half outputs, concat, BN (2x)
        total += (skip_relu ? 1 : 2) * in + 4 * n * c * h * w;
        break;
      }
    }
  }
  return total;
}

}  // namespace hwnas::nas
