#include "hwnas/nas/search_space.hpp"

#include <cstdio>
#include <sstream>

#include "hwnas/common/error.hpp"

namespace hwnas::nas {

const char* cell_type_name(CellType t) { return t == CellType::kNormal ? "normal" : "reduce"; }

std::vector<Edge> cell_edges(std::int64_t nodes) {
  std::vector<Edge> out;
  for (std::int64_t to = 2; to < nodes + 2; ++to)
    for (std::int64_t from = 0; from < to; ++from)
      out.push_back({static_cast<std::int64_t>(out.size()), from, to});
  return out;
}

std::int64_t edges_per_cell(std::int64_t nodes) { return nodes * (nodes + 3) / 2; }

std::vector<std::int64_t> SearchGeometry::reduction_cells() const {
  std::vector<std::int64_t> r;
  for (std::int64_t i = 0; i < cells; ++i)
    if (i == cells / 3 || i == 2 * cells / 3) r.push_back(i);
  return r;
}

bool SearchGeometry::is_reduction(std::int64_t cell) const {
  return cell == cells / 3 || cell == 2 * cells / 3;
}

void SearchGeometry::validate(const std::string& where) const {
  auto need = [&](bool ok, const std::string& msg) {
    if (!ok) throw InputError(where, msg);
  };
  need(input_channels >= 1, "input channels " + std::to_string(input_channels) + " must be >= 1");
  need(input_height >= 2 && input_width >= 2,
       "input size " + std::to_string(input_height) + "x" + std::to_string(input_width) + " must be at least 2x2");
  need(num_classes >= 2, "classes " + std::to_string(num_classes) + " must be >= 2");
  need(cells >= 1, "cells " + std::to_string(cells) + " must be >= 1");
  need(channels >= 2 && channels % 2 == 0,
       "channels " + std::to_string(channels) + " must be even and >= 2 (FactorizedReduce halves C)");
  need(nodes >= 1 && nodes <= 16, "nodes " + std::to_string(nodes) + " must be in 1..16");
  need(stem_multiplier >= 1, "stem multiplier must be >= 1");
}

std::vector<CellShape> SearchGeometry::cell_shapes() const {
  std::vector<CellShape> out;
  std::int64_t c_pp = stem_multiplier * channels, c_p = c_pp, c = channels;
  std::int64_t h = input_height, w = input_width;
  bool prev_red = false;
  for (std::int64_t i = 0; i < cells; ++i) {
    CellShape s;
    s.index = i;
    s.type = is_reduction(i) ? CellType::kReduce : CellType::kNormal;
    if (s.type == CellType::kReduce) c *= 2;
    s.channels = c;
    s.c_prev_prev = c_pp;
    s.c_prev = c_p;
    s.prev_reduction = prev_red;
    // After a reduction, input 1 is half size and input 0 (full size) is FactorizedReduced.
    s.in_height = h;
    s.in_width = w;
    if (s.type == CellType::kReduce) {
      // FactorizedReduce concatenates two stride-2 views, one shifted by a pixel: equal sizes
      // only for even inputs (PyTorch DARTS fails the same way on odd sizes).
      if (h % 2 != 0 || w % 2 != 0)
        throw InputError("search geometry", "reduction cell " + std::to_string(i) + " gets a " +
                         std::to_string(h) + "x" + std::to_string(w) +
                         " input; reductions need even sizes (choose an input size divisible by 4)");
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
    s.out_height = h;
    s.out_width = w;
    out.push_back(s);
    prev_red = s.type == CellType::kReduce;
    c_pp = c_p;
    c_p = nodes * c;
  }
  return out;
}

std::int64_t SearchGeometry::final_channels() const {
  std::int64_t c = channels;
  for (std::int64_t i = 0; i < cells; ++i)
    if (is_reduction(i)) c *= 2;
  return nodes * c;
}

nlohmann::json SearchGeometry::to_json() const {
  return {{"input_channels", input_channels}, {"input_height", input_height},
          {"input_width", input_width},       {"num_classes", num_classes},
          {"cells", cells},                   {"channels", channels},
          {"nodes", nodes},                   {"stem_multiplier", stem_multiplier},
          {"reduction_cells", reduction_cells()}};
}

std::string SearchGeometry::describe() const {
  std::ostringstream os;
  os << input_channels << "x" << input_height << "x" << input_width << ", " << cells
     << " cells, C=" << channels << ", " << nodes << " nodes, " << num_classes << " classes";
  return os.str();
}

void parse_input_shape(const std::string& text, const std::string& where, SearchGeometry& g) {
  long long c = 0, h = 0, w = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%lldx%lldx%lld%c", &c, &h, &w, &tail) != 3 || c < 1 || h < 2 ||
      w < 2 || c > 64 || h > 4096 || w > 4096)
    throw InputError(where, "input shape \"" + text + "\" must be CxHxW, e.g. 1x64x64");
  g.input_channels = c;
  g.input_height = h;
  g.input_width = w;
}

}  // namespace hwnas::nas
