#pragma once
// hwnas's own network descriptions: an ordered list of layers read from CSV or JSON.
//
// CSV: a header row names the columns. `name` (optional) labels the layer; every other column is
// a key of the layer-spec syntax (see parse_layer_spec): either one `spec` column holding a whole
// spec ("conv2d h=32 w=32 c=16 k=16 r=3 pad=1"), or a `kind` column plus one column per spec key
// (h, w, c, k, r, s, stride, pad, dilation, groups, m, n, ...). Empty cells are left out, so the
// layer-spec defaults apply. Blank lines and lines starting with '#' are skipped.
//
// JSON: {"name": "net", "layers": [{"name": "conv1", "spec": "conv2d h=..."},
//                                   {"name": "pool1", "kind": "maxpool", "h": 32, "r": 2, ...}]}
//
// Every error is a hwnas::InputError naming the file, the line (CSV) or JSON path, and the value.
// See docs/sim-cli.md.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/sim/layer.hpp"

namespace hwnas::sim {

struct Topology {
  std::string name;  // from JSON "name", or the file stem
  std::vector<Layer> layers;
  // Non-fatal remarks about the input (e.g. SCALE-Sim rows without a trailing comma).
  std::vector<std::string> warnings;
};

// Picks the parser from the extension (.csv or .json); anything else is an InputError.
Topology load_topology(const std::string& path);
Topology parse_topology_csv(const std::string& text, const std::string& file);
Topology parse_topology_json(const nlohmann::json& doc, const std::string& file);

// Writes a topology in the CSV form above (name,spec), which parse_topology_csv reads back.
std::string topology_to_csv(const Topology& topo);
nlohmann::json topology_to_json(const Topology& topo);

// Splits one CSV line on commas, trimming spaces around each field. No quoting: layer specs and
// names never contain commas.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace hwnas::sim
