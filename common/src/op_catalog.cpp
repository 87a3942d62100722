#include "hwnas/common/op_catalog.hpp"

#include <sstream>

#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas {

const char* primitive_kind_name(PrimitiveKind k) {
  switch (k) {
    case PrimitiveKind::kZero: return "zero";
    case PrimitiveKind::kSkip: return "skip";
    case PrimitiveKind::kRelu: return "relu";
    case PrimitiveKind::kConv: return "conv";
    case PrimitiveKind::kBatchNorm: return "bn";
    case PrimitiveKind::kMaxPool: return "max_pool";
    case PrimitiveKind::kAvgPool: return "avg_pool";
  }
  return "?";
}

bool OpDef::parameter_free() const {
  for (const auto& p : primitives)
    if (p.kind == PrimitiveKind::kConv || (p.kind == PrimitiveKind::kBatchNorm && !p.search_only))
      return false;
  return true;
}

namespace {

Primitive prim(PrimitiveKind kind, std::int64_t kernel = 1, std::int64_t dilation = 1,
               bool depthwise = false, bool strided = false, bool search_only = false) {
  Primitive p;
  p.kind = kind;
  p.kernel = kernel;
  p.dilation = dilation;
  p.depthwise = depthwise;
  p.takes_edge_stride = strided;
  p.search_only = search_only;
  return p;
}

// ReLU -> depthwise kxk (dilation d) -> pointwise 1x1 -> BN
void append_dw_block(std::vector<Primitive>& out, std::int64_t k, std::int64_t d, bool strided) {
  out.push_back(prim(PrimitiveKind::kRelu));
  out.push_back(prim(PrimitiveKind::kConv, k, d, true, strided));
  out.push_back(prim(PrimitiveKind::kConv, 1));
  out.push_back(prim(PrimitiveKind::kBatchNorm));
}

OpDef sep_conv(const std::string& name, std::int64_t k) {
  OpDef op{name, {}};
  append_dw_block(op.primitives, k, 1, true);
  append_dw_block(op.primitives, k, 1, false);
  return op;
}

OpDef dil_conv(const std::string& name, std::int64_t k) {
  OpDef op{name, {}};
  append_dw_block(op.primitives, k, 2, true);
  return op;
}

OpDef pool(const std::string& name, PrimitiveKind kind) {
  return {name, {prim(kind, 3, 1, false, true), prim(PrimitiveKind::kBatchNorm, 1, 1, false, false, true)}};
}

OpDef relu_conv_bn(const std::string& name, std::int64_t k) {
  return {name, {prim(PrimitiveKind::kRelu), prim(PrimitiveKind::kConv, k, 1, false, true),
                 prim(PrimitiveKind::kBatchNorm)}};
}

PrimitiveKind parse_kind(const std::string& s, const std::string& where) {
  for (PrimitiveKind k : {PrimitiveKind::kZero, PrimitiveKind::kSkip, PrimitiveKind::kRelu,
                          PrimitiveKind::kConv, PrimitiveKind::kBatchNorm, PrimitiveKind::kMaxPool,
                          PrimitiveKind::kAvgPool})
    if (s == primitive_kind_name(k)) return k;
  throw InputError(where, "unknown primitive type \"" + s +
                              "\" (known: zero, skip, relu, conv, bn, max_pool, avg_pool)");
}

}  // namespace

OpCatalog OpCatalog::builtin() {
  OpCatalog c;
  c.ops_.push_back({"none", {prim(PrimitiveKind::kZero, 1, 1, false, true)}});
  c.ops_.push_back(pool("max_pool_3x3", PrimitiveKind::kMaxPool));
  c.ops_.push_back(pool("avg_pool_3x3", PrimitiveKind::kAvgPool));
  c.ops_.push_back({"skip_connect", {prim(PrimitiveKind::kSkip, 1, 1, false, true)}});
  c.ops_.push_back(sep_conv("sep_conv_3x3", 3));
  c.ops_.push_back(sep_conv("sep_conv_5x5", 5));
  c.ops_.push_back(dil_conv("dil_conv_3x3", 3));
  c.ops_.push_back(dil_conv("dil_conv_5x5", 5));
  c.ops_.push_back(relu_conv_bn("conv_1x1", 1));
  c.ops_.push_back(relu_conv_bn("conv_3x3", 3));
  return c;
}

void OpCatalog::merge_json(const nlohmann::json& doc, const std::string& source_name) {
  JsonObjectReader root(doc, source_name, "");
  const auto& ops = root.required_value("ops");
  root.reject_unknown_keys();
  if (!ops.is_array() || ops.empty())
    throw InputError(source_name + ": /ops", "expected a non-empty array of op definitions");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string path = "/ops/" + std::to_string(i);
    JsonObjectReader r(ops[i], source_name, path);
    OpDef op;
    op.name = r.required_string("name");
    if (op.name.empty() || op.name.find_first_of(" ,\t\"") != std::string::npos)
      throw InputError(r.where("name"), "op name \"" + op.name + "\" must be non-empty without spaces or commas");
    const auto& prims = r.required_value("primitives");
    r.reject_unknown_keys();
    if (!prims.is_array() || prims.empty())
      throw InputError(r.where("primitives"), "expected a non-empty array");
    bool strided = false;
    for (std::size_t j = 0; j < prims.size(); ++j) {
      JsonObjectReader p(prims[j], source_name, path + "/primitives/" + std::to_string(j));
      Primitive pr;
      pr.kind = parse_kind(p.required_string("type"), p.where("type"));
      pr.kernel = p.optional_int("kernel", 1, 1, 15);
      pr.dilation = p.optional_int("dilation", 1, 1, 8);
      pr.depthwise = p.optional_bool("depthwise", false);
      pr.takes_edge_stride = p.optional_bool("takes_edge_stride", false);
      pr.search_only = p.optional_bool("search_only", false);
      p.reject_unknown_keys();
      if (pr.kernel % 2 == 0)
        throw InputError(p.where("kernel"), "kernel " + std::to_string(pr.kernel) + " must be odd (same padding)");
      if (pr.takes_edge_stride) {
        if (strided) throw InputError(p.where("takes_edge_stride"), "only one primitive of an op may take the edge stride");
        strided = true;
      }
      op.primitives.push_back(pr);
    }
    if (!strided)
      throw InputError(source_name + ": " + path, "op \"" + op.name + "\" has no primitive with takes_edge_stride = true, so it cannot run on a reduction edge");
    bool replaced = false;
    for (auto& existing : ops_)
      if (existing.name == op.name) {
        existing = op;
        replaced = true;
      }
    if (!replaced) ops_.push_back(op);
  }
}

OpCatalog OpCatalog::from_json_file(const std::string& path) {
  OpCatalog c = builtin();
  c.merge_json(parse_json_file(path), path);
  return c;
}

bool OpCatalog::contains(const std::string& name) const {
  for (const auto& op : ops_)
    if (op.name == name) return true;
  return false;
}

const OpDef& OpCatalog::get(const std::string& name) const {
  for (const auto& op : ops_)
    if (op.name == name) return op;
  std::string known;
  for (const auto& op : ops_) known += (known.empty() ? "" : ", ") + op.name;
  throw InputError("unknown op \"" + name + "\" (known: " + known + ")");
}

std::vector<std::string> OpCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& op : ops_) out.push_back(op.name);
  return out;
}

std::vector<OpDef> OpCatalog::select(const std::string& names_or_space) const {
  std::vector<std::string> names;
  if (names_or_space == "darts" || names_or_space == "darts+conv") {
    names = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
             "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};
    if (names_or_space == "darts+conv") {
      names.push_back("conv_1x1");
      names.push_back("conv_3x3");
    }
  } else {
    std::stringstream ss(names_or_space);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) names.push_back(item);
  }
  if (names.empty()) throw InputError("empty op list \"" + names_or_space + "\"");
  std::vector<OpDef> out;
  for (const auto& n : names) {
    for (const auto& o : out)
      if (o.name == n) throw InputError("op \"" + n + "\" is listed twice in \"" + names_or_space + "\"");
    out.push_back(get(n));
  }
  return out;
}

nlohmann::json op_def_to_json(const OpDef& op) {
  nlohmann::json prims = nlohmann::json::array();
  for (const auto& p : op.primitives) {
    nlohmann::json j = {{"type", primitive_kind_name(p.kind)}};
    if (p.kernel != 1) j["kernel"] = p.kernel;
    if (p.dilation != 1) j["dilation"] = p.dilation;
    if (p.depthwise) j["depthwise"] = true;
    if (p.takes_edge_stride) j["takes_edge_stride"] = true;
    if (p.search_only) j["search_only"] = true;
    prims.push_back(j);
  }
  return {{"name", op.name}, {"primitives", prims}};
}

}  // namespace hwnas
