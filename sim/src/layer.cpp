#include "hwnas/sim/layer.hpp"

#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "hwnas/common/error.hpp"

namespace hwnas::sim {

namespace {

// Output positions along one axis. SCALE-Sim's ceil keeps the last, partial window.
std::int64_t axis_out(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad,
                      std::int64_t dilation, OutputRounding rounding) {
  const std::int64_t span = dilation * (k - 1) + 1;
  const std::int64_t room = in + 2 * pad - span;
  if (room < 0) return 0;
  if (rounding == OutputRounding::kCeil) return (room + stride - 1) / stride + 1;
  return room / stride + 1;
}

// Number of (output, tap) pairs along one axis whose input index lands inside [0, in):
// for tap r the outputs o with 0 <= o*stride - pad + r*dilation < in form one interval.
std::int64_t axis_valid_pairs(std::int64_t in, std::int64_t k, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation, std::int64_t out) {
  std::int64_t pairs = 0;
  for (std::int64_t r = 0; r < k; ++r) {
    const std::int64_t offset = r * dilation - pad;  // input index = o*stride + offset
    // smallest o with o*stride + offset >= 0
    std::int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    // largest o with o*stride + offset <= in - 1
    const std::int64_t top = in - 1 - offset;
    if (top < 0) continue;
    std::int64_t hi = top / stride;
    if (hi > out - 1) hi = out - 1;
    if (hi >= lo) pairs += hi - lo + 1;
  }
  return pairs;
}

bool is_pool(ElementwiseOp op) {
  return op == ElementwiseOp::kMaxPool || op == ElementwiseOp::kAvgPool;
}

std::int64_t ops_per_element(ElementwiseOp op) { return op == ElementwiseOp::kBatchNorm ? 2 : 1; }

[[noreturn]] void fail(const std::string& field, std::int64_t value, const std::string& why) {
  throw std::invalid_argument("layer field " + field + " = " + std::to_string(value) + ": " + why);
}

}  // namespace

const char* elementwise_op_name(ElementwiseOp op) {
  switch (op) {
    case ElementwiseOp::kMaxPool:
      return "maxpool";
    case ElementwiseOp::kAvgPool:
      return "avgpool";
    case ElementwiseOp::kGlobalAvgPool:
      return "gap";
    case ElementwiseOp::kAdd:
      return "add";
    case ElementwiseOp::kRelu:
      return "relu";
    case ElementwiseOp::kBatchNorm:
      return "bn";
  }
  return "?";
}

std::int64_t Layer::out_h() const {
  switch (kind) {
    case LayerKind::kGemm:
      return gemm_m;
    case LayerKind::kConv2d:
      return axis_out(in_h, kernel_h, stride_h, pad_h, dilation_h, rounding);
    case LayerKind::kElementwise:
      if (elementwise_op == ElementwiseOp::kGlobalAvgPool) return 1;
      if (is_pool(elementwise_op))
        return axis_out(in_h, kernel_h, stride_h, pad_h, dilation_h, rounding);
      return in_h;
  }
  return 0;
}

std::int64_t Layer::out_w() const {
  switch (kind) {
    case LayerKind::kGemm:
      return 1;
    case LayerKind::kConv2d:
      return axis_out(in_w, kernel_w, stride_w, pad_w, dilation_w, rounding);
    case LayerKind::kElementwise:
      if (elementwise_op == ElementwiseOp::kGlobalAvgPool) return 1;
      if (is_pool(elementwise_op))
        return axis_out(in_w, kernel_w, stride_w, pad_w, dilation_w, rounding);
      return in_w;
  }
  return 0;
}

GemmShape gemm_shape(const Layer& layer) {
  GemmShape g;
  if (layer.kind == LayerKind::kGemm) {
    g.m = layer.gemm_m;
    g.n = layer.gemm_n;
    g.k = layer.gemm_k;
    g.groups = 1;
    return g;
  }
  if (layer.kind != LayerKind::kConv2d)
    throw std::invalid_argument("gemm_shape: layer '" + layer.name +
                                "' is element-wise and does not run on the array");
  g.groups = layer.groups;
  g.m = layer.out_h() * layer.out_w();
  g.n = layer.out_channels / layer.groups;
  g.k = layer.kernel_h * layer.kernel_w * (layer.in_channels / layer.groups);
  return g;
}

std::int64_t layer_macs(const Layer& layer) {
  switch (layer.kind) {
    case LayerKind::kGemm:
      return layer.gemm_m * layer.gemm_n * layer.gemm_k;
    case LayerKind::kConv2d: {
      const std::int64_t pairs_h = axis_valid_pairs(layer.in_h, layer.kernel_h, layer.stride_h,
                                                    layer.pad_h, layer.dilation_h, layer.out_h());
      const std::int64_t pairs_w = axis_valid_pairs(layer.in_w, layer.kernel_w, layer.stride_w,
                                                    layer.pad_w, layer.dilation_w, layer.out_w());
      return pairs_h * pairs_w * (layer.in_channels / layer.groups) * layer.out_channels;
    }
    case LayerKind::kElementwise:
      return 0;
  }
  return 0;
}

std::int64_t layer_mapped_macs(const Layer& layer) {
  if (layer.kind == LayerKind::kElementwise) return 0;
  const GemmShape g = gemm_shape(layer);
  return g.m * g.n * g.k * g.groups;
}

std::int64_t layer_param_count(const Layer& layer) {
  switch (layer.kind) {
    case LayerKind::kGemm:
      return layer.gemm_k * layer.gemm_n;
    case LayerKind::kConv2d:
      return layer.out_channels * (layer.in_channels / layer.groups) * layer.kernel_h *
             layer.kernel_w;
    case LayerKind::kElementwise:
      return layer.elementwise_op == ElementwiseOp::kBatchNorm ? 2 * layer.in_channels : 0;
  }
  return 0;
}

std::int64_t layer_vector_ops(const Layer& layer) {
  if (layer.kind != LayerKind::kElementwise) return 0;
  const std::int64_t elems = layer.in_h * layer.in_w * layer.in_channels;
  switch (layer.elementwise_op) {
    case ElementwiseOp::kMaxPool:
    case ElementwiseOp::kAvgPool:
      return layer.out_h() * layer.out_w() * layer.in_channels * layer.kernel_h * layer.kernel_w;
    case ElementwiseOp::kGlobalAvgPool:
      return elems;
    default:
      return elems * ops_per_element(layer.elementwise_op);
  }
}

void validate_layer(const Layer& l) {
  // Per-dimension bound; the products are bounded by `work` below. Messages are only built on
  // failure: this runs once per simulated layer.
  constexpr std::int64_t kMaxDim = 1 << 20;
  auto dim = [&](const char* field, std::int64_t v) {
    if (v < 1 || v > kMaxDim) fail(field, v, "must be in [1, " + std::to_string(kMaxDim) + "]");
  };
  // Every count the simulator forms (mapped MACs, footprints, SRAM counts times folds) must stay
  // far inside int64; 1e15 MAC slots is ~10^4 times a large transformer layer.
  constexpr double kMaxWork = 1e15;
  auto work = [&](const char* field, std::int64_t v, double amount) {
    if (amount > kMaxWork)
      fail(field, v,
           "makes the layer too large to simulate (" + std::to_string(amount) +
               " > 1e15 MAC slots or elements)");
  };
  const auto d = [](std::int64_t x) { return static_cast<double>(x); };
  if (l.kind == LayerKind::kGemm) {
    dim("gemm_m", l.gemm_m);
    dim("gemm_n", l.gemm_n);
    dim("gemm_k", l.gemm_k);
    work("gemm_k", l.gemm_k, d(l.gemm_m) * d(l.gemm_n) * d(l.gemm_k));
    return;
  }
  dim("in_h", l.in_h);
  dim("in_w", l.in_w);
  dim("in_channels", l.in_channels);
  work("in_channels", l.in_channels, d(l.in_h) * d(l.in_w) * d(l.in_channels));
  const bool conv = l.kind == LayerKind::kConv2d;
  if (conv) {
    dim("out_channels", l.out_channels);
    dim("groups", l.groups);
    if (l.in_channels % l.groups != 0)
      fail("in_channels", l.in_channels,
           "must be divisible by groups (" + std::to_string(l.groups) + ")");
    if (l.out_channels % l.groups != 0)
      fail("out_channels", l.out_channels,
           "must be divisible by groups (" + std::to_string(l.groups) + ")");
  }
  if (!conv && !is_pool(l.elementwise_op)) return;
  dim("kernel_h", l.kernel_h);
  dim("kernel_w", l.kernel_w);
  dim("stride_h", l.stride_h);
  dim("stride_w", l.stride_w);
  dim("dilation_h", l.dilation_h);
  dim("dilation_w", l.dilation_w);
  if (l.pad_h < 0 || l.pad_h > kMaxDim) fail("pad_h", l.pad_h, "must be >= 0");
  if (l.pad_w < 0 || l.pad_w > kMaxDim) fail("pad_w", l.pad_w, "must be >= 0");
  const std::int64_t span_h = l.dilation_h * (l.kernel_h - 1) + 1;
  const std::int64_t span_w = l.dilation_w * (l.kernel_w - 1) + 1;
  if (span_h > l.in_h + 2 * l.pad_h)
    fail("kernel_h", l.kernel_h,
         "window span " + std::to_string(span_h) + " exceeds padded input height " +
             std::to_string(l.in_h + 2 * l.pad_h));
  if (span_w > l.in_w + 2 * l.pad_w)
    fail("kernel_w", l.kernel_w,
         "window span " + std::to_string(span_w) + " exceeds padded input width " +
             std::to_string(l.in_w + 2 * l.pad_w));
  // A pad as wide as the window would create windows made only of padding.
  if (l.pad_h >= span_h)
    fail("pad_h", l.pad_h, "must be smaller than the window span " + std::to_string(span_h));
  if (l.pad_w >= span_w)
    fail("pad_w", l.pad_w, "must be smaller than the window span " + std::to_string(span_w));
  // Conv MAC slots, or pool window taps (one input channel per output channel).
  const double slots = d(l.out_h()) * d(l.out_w()) * d(conv ? l.out_channels : l.in_channels) *
                       d(l.kernel_h) * d(l.kernel_w) * d(conv ? l.in_channels / l.groups : 1);
  work(conv ? "out_channels" : "kernel_h", conv ? l.out_channels : l.kernel_h, slots);
}

// ---------------------------------------------------------------------------------------------
// Layer-spec text syntax

namespace {

struct SpecKind {
  const char* word;
  LayerKind kind;
  ElementwiseOp op;
};

constexpr SpecKind kSpecKinds[] = {
    {"conv2d", LayerKind::kConv2d, ElementwiseOp::kRelu},
    {"dwconv", LayerKind::kConv2d, ElementwiseOp::kRelu},
    {"gemm", LayerKind::kGemm, ElementwiseOp::kRelu},
    {"maxpool", LayerKind::kElementwise, ElementwiseOp::kMaxPool},
    {"avgpool", LayerKind::kElementwise, ElementwiseOp::kAvgPool},
    {"gap", LayerKind::kElementwise, ElementwiseOp::kGlobalAvgPool},
    {"add", LayerKind::kElementwise, ElementwiseOp::kAdd},
    {"relu", LayerKind::kElementwise, ElementwiseOp::kRelu},
    {"bn", LayerKind::kElementwise, ElementwiseOp::kBatchNorm},
};

std::string kinds_list() {
  std::string s;
  for (const auto& k : kSpecKinds) s += std::string(s.empty() ? "" : ", ") + k.word;
  return s;
}

// Keys each kind accepts. Square shorthands (s, stride, pad, dilation) and their _h/_w forms are
// mutually exclusive per axis pair.
std::set<std::string> allowed_keys(const std::string& kind) {
  const std::set<std::string> window = {"r",   "s",     "stride", "stride_h", "stride_w",
                                        "pad", "pad_h", "pad_w",  "rounding"};
  std::set<std::string> keys = {"name"};
  auto add = [&](std::initializer_list<const char*> ks) {
    for (const char* k : ks) keys.insert(k);
  };
  if (kind == "gemm") {
    add({"m", "n", "k"});
  } else {
    add({"h", "w", "c"});
    if (kind == "conv2d" || kind == "dwconv" || kind == "maxpool" || kind == "avgpool")
      keys.insert(window.begin(), window.end());
    if (kind == "conv2d" || kind == "dwconv") add({"dilation", "dilation_h", "dilation_w"});
    if (kind == "conv2d") add({"k", "groups"});
  }
  return keys;
}

class SpecFields {
 public:
  SpecFields(std::map<std::string, std::string> fields, std::string where)
      : fields_(std::move(fields)), where_(std::move(where)) {}

  bool has(const std::string& key) const { return fields_.count(key) != 0; }

  std::int64_t get(const std::string& key, std::int64_t min_value, std::int64_t max_value) const {
    const std::string& text = fields_.at(key);
    std::size_t pos = 0;
    long long v = 0;
    bool ok = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                (text[0] == '-' && text.size() > 1));
    if (ok) {
      try {
        v = std::stoll(text, &pos);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok || pos != text.size())
      throw InputError(where_, "key '" + key + "': value '" + text + "' is not an integer");
    if (v < min_value || v > max_value)
      throw InputError(where_, "key '" + key + "': value " + text + " is out of range [" +
                                   std::to_string(min_value) + ", " + std::to_string(max_value) +
                                   "]");
    return v;
  }
  std::int64_t required(const std::string& key, std::int64_t min_value,
                        std::int64_t max_value) const {
    if (!has(key)) throw InputError(where_, "required key '" + key + "' is missing");
    return get(key, min_value, max_value);
  }
  std::int64_t optional(const std::string& key, std::int64_t default_value, std::int64_t min_value,
                        std::int64_t max_value) const {
    return has(key) ? get(key, min_value, max_value) : default_value;
  }
  // A square shorthand `both` or its per-axis forms `both_h`/`both_w`, never mixed.
  void pair(const std::string& both, std::int64_t default_value, std::int64_t min_value,
            std::int64_t max_value, std::int64_t* h, std::int64_t* w) const {
    const std::string kh = both + "_h", kw = both + "_w";
    if (has(both) && (has(kh) || has(kw)))
      throw InputError(where_,
                       "key '" + both + "' cannot be combined with '" + (has(kh) ? kh : kw) + "'");
    const std::int64_t square = optional(both, default_value, min_value, max_value);
    *h = optional(kh, square, min_value, max_value);
    *w = optional(kw, square, min_value, max_value);
  }
  const std::string& where() const { return where_; }

 private:
  std::map<std::string, std::string> fields_;
  std::string where_;
};

constexpr std::int64_t kMaxSpecDim = 1 << 20;

}  // namespace

Layer parse_layer_spec(const std::string& spec, const std::string& where) {
  std::istringstream in(spec);
  std::string kind_word;
  if (!(in >> kind_word)) throw InputError(where, "empty layer spec");
  const SpecKind* kind = nullptr;
  for (const auto& k : kSpecKinds)
    if (kind_word == k.word) kind = &k;
  if (!kind)
    throw InputError(
        where, "unknown layer kind '" + kind_word + "' (expected one of: " + kinds_list() + ")");
  const std::set<std::string> allowed = allowed_keys(kind_word);
  std::map<std::string, std::string> fields;
  std::string token;
  while (in >> token) {
    const auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(where, "'" + token + "' is not of the form key=value");
    const std::string key = token.substr(0, eq), value = token.substr(eq + 1);
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw InputError(where, "unknown key '" + key + "' (value '" + value + "') for " + kind_word +
                                  "; allowed: " + list);
    }
    if (fields.count(key)) throw InputError(where, "key '" + key + "' is given twice");
    if (value.empty()) throw InputError(where, "key '" + key + "' has an empty value");
    fields[key] = value;
  }
  const SpecFields f(fields, where);
  Layer l;
  l.kind = kind->kind;
  l.elementwise_op = kind->op;
  if (fields.count("name")) l.name = fields.at("name");
  if (fields.count("rounding")) {
    const std::string& r = fields.at("rounding");
    if (r == "floor") {
      l.rounding = OutputRounding::kFloor;
    } else if (r == "ceil") {
      l.rounding = OutputRounding::kCeil;
    } else {
      throw InputError(where, "key 'rounding': value '" + r + "' is not one of: floor, ceil");
    }
  }
  if (l.kind == LayerKind::kGemm) {
    l.gemm_m = f.required("m", 1, kMaxSpecDim);
    l.gemm_n = f.required("n", 1, kMaxSpecDim);
    l.gemm_k = f.required("k", 1, kMaxSpecDim);
  } else {
    l.in_h = f.required("h", 1, kMaxSpecDim);
    l.in_w = f.required("w", 1, kMaxSpecDim);
    l.in_channels = f.required("c", 1, kMaxSpecDim);
    l.out_channels = l.in_channels;
    const bool windowed = allowed.count("r") != 0;
    if (windowed) {
      l.kernel_h = f.required("r", 1, kMaxSpecDim);
      l.kernel_w = f.optional("s", l.kernel_h, 1, kMaxSpecDim);
      // Pools default to non-overlapping windows (PyTorch's stride = kernel); convs to 1.
      const bool pool = l.kind == LayerKind::kElementwise;
      if (pool && !f.has("stride") && !f.has("stride_h") && !f.has("stride_w")) {
        l.stride_h = l.kernel_h;
        l.stride_w = l.kernel_w;
      } else {
        f.pair("stride", 1, 1, kMaxSpecDim, &l.stride_h, &l.stride_w);
      }
      f.pair("pad", 0, 0, kMaxSpecDim, &l.pad_h, &l.pad_w);
    }
    if (allowed.count("dilation"))
      f.pair("dilation", 1, 1, kMaxSpecDim, &l.dilation_h, &l.dilation_w);
    if (kind_word == "conv2d") {
      l.out_channels = f.required("k", 1, kMaxSpecDim);
      l.groups = f.optional("groups", 1, 1, kMaxSpecDim);
    } else if (kind_word == "dwconv") {
      l.groups = l.in_channels;  // depthwise, channel multiplier 1
      l.out_channels = l.in_channels;
    }
  }
  try {
    validate_layer(l);
  } catch (const std::invalid_argument& e) {
    throw InputError(where, "layer spec '" + spec + "': " + e.what());
  }
  return l;
}

std::string layer_spec_string(const Layer& l) {
  std::ostringstream out;
  auto pair = [&](const char* both, std::int64_t h, std::int64_t w) {
    if (h == w) {
      out << ' ' << both << '=' << h;
    } else {
      out << ' ' << both << "_h=" << h << ' ' << both << "_w=" << w;
    }
  };
  switch (l.kind) {
    case LayerKind::kGemm:
      out << "gemm m=" << l.gemm_m << " n=" << l.gemm_n << " k=" << l.gemm_k;
      break;
    case LayerKind::kConv2d:
      out << "conv2d h=" << l.in_h << " w=" << l.in_w << " c=" << l.in_channels
          << " k=" << l.out_channels << " r=" << l.kernel_h << " s=" << l.kernel_w;
      pair("stride", l.stride_h, l.stride_w);
      pair("pad", l.pad_h, l.pad_w);
      pair("dilation", l.dilation_h, l.dilation_w);
      out << " groups=" << l.groups;
      break;
    case LayerKind::kElementwise:
      out << elementwise_op_name(l.elementwise_op) << " h=" << l.in_h << " w=" << l.in_w
          << " c=" << l.in_channels;
      if (is_pool(l.elementwise_op)) {
        out << " r=" << l.kernel_h << " s=" << l.kernel_w;
        pair("stride", l.stride_h, l.stride_w);
        pair("pad", l.pad_h, l.pad_w);
      }
      break;
  }
  const bool windowed = l.kind == LayerKind::kConv2d ||
                        (l.kind == LayerKind::kElementwise && is_pool(l.elementwise_op));
  if (windowed && l.rounding == OutputRounding::kCeil) out << " rounding=ceil";
  if (!l.name.empty()) out << " name=" << l.name;
  return out.str();
}

}  // namespace hwnas::sim
