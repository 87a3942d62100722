#include "hwnas/costmodels/geometry.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "hwnas/common/error.hpp"

namespace hwnas::costmodels {

namespace {

void check_range(const char* name, std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v < lo || v > hi)
    throw InputError("geometry", std::string(name) + " = " + std::to_string(v) +
                                     " is out of range [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + "]");
}

std::int64_t parse_positive(const std::string& s, const std::string& where, const std::string& whole) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 1)
    throw InputError(where, "expected positive integers like 1x64x64 (C x H x W), got '" + whole + "'");
  return v;
}

}  // namespace

std::vector<std::int64_t> default_reduction_cells(std::int64_t cells) {
  std::vector<std::int64_t> r{cells / 3, 2 * cells / 3};
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return r;
}

std::int64_t edge_index(std::int64_t from, std::int64_t to) {
  // Nodes 2..to-1 contribute 2, 3, ... edges before node `to`.
  std::int64_t offset = 0;
  for (std::int64_t n = 2; n < to; ++n) offset += n;
  return offset + from;
}

std::vector<EdgeGeometry> cell_edges(std::int64_t nodes, bool reduction) {
  std::vector<EdgeGeometry> out;
  for (std::int64_t to = 2; to < nodes + 2; ++to)
    for (std::int64_t from = 0; from < to; ++from) {
      EdgeGeometry e;
      e.index = static_cast<std::int64_t>(out.size());
      e.from = from;
      e.to = to;
      e.stride = (reduction && from < 2) ? 2 : 1;
      out.push_back(e);
    }
  return out;
}

NetworkGeometry resolve_geometry(const SearchGeometry& spec, std::int64_t normal_multiplier,
                                 std::int64_t reduce_multiplier) {
  check_range("input_channels", spec.input_channels, 1, 4096);
  check_range("input_height", spec.input_height, 1, 16384);
  check_range("input_width", spec.input_width, 1, 16384);
  check_range("num_classes", spec.num_classes, 1, 1000000);
  check_range("cells", spec.cells, 1, 256);
  check_range("channels", spec.channels, 1, 4096);
  check_range("nodes", spec.nodes, 1, 16);
  check_range("stem_multiplier", spec.stem_multiplier, 1, 64);
  if (normal_multiplier < 0) normal_multiplier = spec.nodes;
  if (reduce_multiplier < 0) reduce_multiplier = spec.nodes;

  NetworkGeometry g;
  g.spec = spec;
  const auto reductions = spec.reduction_cells ? *spec.reduction_cells
                                               : default_reduction_cells(spec.cells);
  for (std::size_t i = 0; i < reductions.size(); ++i) {
    if (reductions[i] < 0 || reductions[i] >= spec.cells)
      throw InputError("geometry", "reduction cell " + std::to_string(reductions[i]) +
                                       " does not exist (cells are 0.." +
                                       std::to_string(spec.cells - 1) + ")");
    if (i > 0 && reductions[i] <= reductions[i - 1])
      throw InputError("geometry", "reduction cells must be strictly increasing, got " +
                                       std::to_string(reductions[i - 1]) + " then " +
                                       std::to_string(reductions[i]));
  }
  g.spec.reduction_cells = reductions;

  g.stem_channels = spec.stem_multiplier * spec.channels;
  std::int64_t c_pp = g.stem_channels, c_p = g.stem_channels, c = spec.channels;
  std::int64_t h_pp = spec.input_height, w_pp = spec.input_width;
  std::int64_t h_p = spec.input_height, w_p = spec.input_width;
  bool reduction_prev = false;
  for (std::int64_t i = 0; i < spec.cells; ++i) {
    CellGeometry cell;
    cell.index = i;
    cell.reduction = std::find(reductions.begin(), reductions.end(), i) != reductions.end();
    if (cell.reduction) {
      c *= 2;
      if (c > 65536)
        throw InputError("geometry", "channels reach " + std::to_string(c) + " at cell " +
                                         std::to_string(i) + "; too many reductions for --channels " +
                                         std::to_string(spec.channels));
    }
    cell.reduction_prev = reduction_prev;
    cell.channels = c;
    cell.pp_channels = c_pp;
    cell.pp_height = h_pp;
    cell.pp_width = w_pp;
    cell.p_channels = c_p;
    cell.in_height = h_p;
    cell.in_width = w_p;
    // FactorizedReduce (reduction edges' skip_connect and the next cells' preprocess0) halves
    // the size with two 1x1 stride-2 convs, one shifted by a pixel: it needs an even size and
    // an even output channel count (two halves concatenated).
    if (cell.reduction) {
      if (h_p < 2 || w_p < 2 || h_p % 2 != 0 || w_p % 2 != 0)
        throw InputError("geometry", "cell " + std::to_string(i) + " is a reduction cell but its input is " +
                                         std::to_string(h_p) + "x" + std::to_string(w_p) +
                                         " pixels; a reduction needs an even size >= 2 "
                                         "(too many reductions for this --input, or use --reductions)");
      if (c % 2 != 0)
        throw InputError("geometry", "cell " + std::to_string(i) + " has " + std::to_string(c) +
                                         " channels; FactorizedReduce needs an even number");
    }
    if (reduction_prev && c % 2 != 0)
      throw InputError("geometry", "cell " + std::to_string(i) + " has " + std::to_string(c) +
                                       " channels; its FactorizedReduce preprocessing needs an even number");
    cell.out_height = cell.reduction ? h_p / 2 : h_p;
    cell.out_width = cell.reduction ? w_p / 2 : w_p;
    cell.out_channels = (cell.reduction ? reduce_multiplier : normal_multiplier) * c;
    cell.edges = cell_edges(spec.nodes, cell.reduction);
    c_pp = c_p;
    h_pp = h_p;
    w_pp = w_p;
    c_p = cell.out_channels;
    h_p = cell.out_height;
    w_p = cell.out_width;
    reduction_prev = cell.reduction;
    g.cells.push_back(cell);
  }
  g.classifier_channels = c_p;
  g.classifier_height = h_p;
  g.classifier_width = w_p;
  return g;
}

nlohmann::json geometry_to_json(const NetworkGeometry& g) {
  const auto& s = g.spec;
  return {{"input_channels", s.input_channels}, {"input_height", s.input_height},
          {"input_width", s.input_width},       {"num_classes", s.num_classes},
          {"cells", s.cells},                   {"channels", s.channels},
          {"nodes", s.nodes},                   {"stem_multiplier", s.stem_multiplier},
          {"reduction_cells", s.reduction_cells ? *s.reduction_cells : std::vector<std::int64_t>{}}};
}

void parse_input_shape(const std::string& text, const std::string& where, SearchGeometry& g) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, 'x')) parts.push_back(item);
  if (!text.empty() && text.back() == 'x') parts.push_back("");
  if (parts.size() != 2 && parts.size() != 3)
    throw InputError(where, "expected C x H x W like 1x64x64, got '" + text + "'");
  std::vector<std::int64_t> v;
  for (const auto& p : parts) v.push_back(parse_positive(p, where, text));
  if (v.size() == 2) v.insert(v.begin(), 1);
  g.input_channels = v[0];
  g.input_height = v[1];
  g.input_width = v[2];
}

std::optional<std::vector<std::int64_t>> parse_reduction_cells(const std::string& text,
                                                               const std::string& where) {
  if (text.empty() || text == "default") return std::nullopt;
  if (text == "none") return std::vector<std::int64_t>{};
  std::vector<std::int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno != 0 || v < 0)
      throw InputError(where, "expected cell indices like 2,5 (or 'none'), got '" + text + "'");
    out.push_back(v);
  }
  return out;
}

}  // namespace hwnas::costmodels
