#pragma once
// The shape of a DARTS search network, independent of tensors: which cells reduce, how many
// channels and pixels each cell sees, and how the edges of a cell are numbered. The supernet,
// the cost-table reader, the genotype and the memory estimate all read it from here, so they
// cannot disagree about edge order.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/common/op_catalog.hpp"

namespace hwnas::nas {

enum class CellType { kNormal = 0, kReduce = 1 };
const char* cell_type_name(CellType t);  // "normal" / "reduce"

struct Edge {
  std::int64_t index = 0;  // position in the cell's edge list (alpha row)
  std::int64_t from = 0;   // 0 and 1 are the cell inputs, 2.. the intermediate nodes
  std::int64_t to = 0;     // intermediate node number (2..nodes+1)
};

// Node i (2..nodes+1) takes one edge from every earlier node, in order: 2+3+4+5 = 14 for 4 nodes.
std::vector<Edge> cell_edges(std::int64_t nodes);
std::int64_t edges_per_cell(std::int64_t nodes);

struct CellShape {
  std::int64_t index = 0;
  CellType type = CellType::kNormal;
  bool prev_reduction = false;    // preprocess0 is a FactorizedReduce
  std::int64_t channels = 0;      // C of this cell (every edge maps C -> C)
  std::int64_t c_prev_prev = 0;   // channels of input 0 before preprocessing
  std::int64_t c_prev = 0;        // channels of input 1 before preprocessing
  std::int64_t in_height = 0;     // spatial size of the cell inputs (after preprocessing)
  std::int64_t in_width = 0;
  std::int64_t out_height = 0;
  std::int64_t out_width = 0;
};

struct SearchGeometry {
  std::int64_t input_channels = 3;
  std::int64_t input_height = 32;
  std::int64_t input_width = 32;
  std::int64_t num_classes = 10;
  std::int64_t cells = 8;
  std::int64_t channels = 16;
  std::int64_t nodes = 4;
  std::int64_t stem_multiplier = 3;

  // DARTS: cells L//3 and 2L//3 reduce (one cell when they coincide).
  std::vector<std::int64_t> reduction_cells() const;
  bool is_reduction(std::int64_t cell) const;
  std::vector<CellShape> cell_shapes() const;  // throws InputError if a size becomes odd/zero
  std::int64_t final_channels() const;          // nodes * C_last, the classifier's input
  void validate(const std::string& where) const;
  nlohmann::json to_json() const;
  std::string describe() const;  // "3x32x32, 8 cells, C=16, 4 nodes, 10 classes"
};

// "3x32x32" -> channels, height, width (InputError naming `where` on bad text).
void parse_input_shape(const std::string& text, const std::string& where, SearchGeometry& g);

}  // namespace hwnas::nas
