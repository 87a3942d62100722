#pragma once
// The geometry of a DARTS network (quark0/darts model_search.py / model.py): stem, L cells with
// reductions (default at L//3 and 2L//3, C doubling there), `nodes` intermediate nodes per cell,
// and the classifier. resolve_geometry checks that the geometry is buildable and derives every
// cell's input shapes; everything downstream trusts the result.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas::costmodels {

struct SearchGeometry {
  std::int64_t input_channels = 1;
  std::int64_t input_height = 64;
  std::int64_t input_width = 64;
  std::int64_t num_classes = 10;
  std::int64_t cells = 8;
  std::int64_t channels = 16;  // C of the first cell
  std::int64_t nodes = 4;      // intermediate nodes per cell
  std::int64_t stem_multiplier = 3;
  // Cell indices of the reduction cells; unset means DARTS's {L//3, 2L//3}.
  std::optional<std::vector<std::int64_t>> reduction_cells;
};

std::vector<std::int64_t> default_reduction_cells(std::int64_t cells);

// One edge of a cell: node `to` (2..nodes+1) takes input node `from` (0..to-1).
struct EdgeGeometry {
  std::int64_t index = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::int64_t stride = 1;  // 2 only for edges leaving the two inputs of a reduction cell
};

struct CellGeometry {
  std::int64_t index = 0;
  bool reduction = false;
  bool reduction_prev = false;   // preprocess0 is a FactorizedReduce
  std::int64_t channels = 0;     // C of every edge op in this cell
  std::int64_t in_height = 0;    // resolution of the edge inputs (after preprocessing)
  std::int64_t in_width = 0;
  std::int64_t out_height = 0;   // resolution of the intermediate nodes
  std::int64_t out_width = 0;
  std::int64_t pp_channels = 0;  // input s0 (cell k-2 or stem): channels and resolution
  std::int64_t pp_height = 0;
  std::int64_t pp_width = 0;
  std::int64_t p_channels = 0;   // input s1 (cell k-1 or stem), at in_height x in_width
  std::int64_t out_channels = 0; // concat of `multiplier` nodes
  std::vector<EdgeGeometry> edges;
};

struct NetworkGeometry {
  SearchGeometry spec;                  // reduction_cells resolved
  std::int64_t stem_channels = 0;
  std::vector<CellGeometry> cells;
  std::int64_t classifier_channels = 0; // channels into global average pooling
  std::int64_t classifier_height = 0;
  std::int64_t classifier_width = 0;
};

// Edges of one cell in DARTS order: node 2 takes edges from nodes 0,1; node 3 from 0,1,2; ...
std::vector<EdgeGeometry> cell_edges(std::int64_t nodes, bool reduction);
// Index of the edge from input `from` into intermediate node `to` (to >= 2, from < to).
std::int64_t edge_index(std::int64_t from, std::int64_t to);

// Validates and derives. `normal_multiplier` / `reduce_multiplier` are the numbers of nodes the
// cells concatenate (the search net: all `nodes`; a genotype: its concat lists). Impossible
// geometry throws hwnas::InputError naming the setting and the cell.
NetworkGeometry resolve_geometry(const SearchGeometry& spec,
                                 std::int64_t normal_multiplier = -1,
                                 std::int64_t reduce_multiplier = -1);

// {"input_channels", ..., "reduction_cells": [...]} as in docs/cost-table-format.md.
nlohmann::json geometry_to_json(const NetworkGeometry& g);

// "1x64x64" (C x H x W) or "64x64" (one channel); throws InputError naming `where`.
void parse_input_shape(const std::string& text, const std::string& where, SearchGeometry& g);
// "2,5", "none" (no reductions) or "" / "default" (DARTS's L//3, 2L//3).
std::optional<std::vector<std::int64_t>> parse_reduction_cells(const std::string& text,
                                                               const std::string& where);

}  // namespace hwnas::costmodels
