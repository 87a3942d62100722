#include "hwnas/sim/topology.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "text_util.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas::sim {

namespace {

using text::lower;
using text::trim;

std::string default_layer_name(std::size_t index) { return "layer" + std::to_string(index); }

// A layer spec assembled from named fields, parsed by the one layer-spec parser so that CSV
// columns, JSON fields and --layer accept exactly the same keys and values.
Layer layer_from_fields(const std::string& kind,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& where) {
  std::string spec = kind;
  for (const auto& [key, value] : fields) spec += " " + key + "=" + value;
  return parse_layer_spec(spec, where);
}

}  // namespace

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(trim(field));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

Topology parse_topology_csv(const std::string& text, const std::string& file) {
  Topology topo;
  topo.name = std::filesystem::path(file).stem().string();
  std::istringstream in(text);
  std::string raw;
  std::size_t line_no = 0;
  std::vector<std::string> columns;
  int name_col = -1, spec_col = -1, kind_col = -1;
  std::size_t header_line = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = file + ":" + std::to_string(line_no);
    std::vector<std::string> cells = split_csv_line(line);
    if (columns.empty()) {
      header_line = line_no;
      // A trailing comma (SCALE-Sim habit) leaves one empty column name; tolerate exactly that.
      if (!cells.empty() && cells.back().empty()) cells.pop_back();
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string col = lower(cells[i]);
        if (col.empty()) throw InputError(where, "header column " + std::to_string(i + 1) + " is empty");
        for (const auto& prev : columns)
          if (prev == col) throw InputError(where, "header names column '" + col + "' twice");
        if (col == "name") name_col = static_cast<int>(i);
        if (col == "spec") spec_col = static_cast<int>(i);
        if (col == "kind") kind_col = static_cast<int>(i);
        columns.push_back(col);
      }
      if (spec_col < 0 && kind_col < 0) {
        const bool scalesim_like = lower(line).find("ifmap") != std::string::npos ||
                                   lower(line).find("filter") != std::string::npos;
        throw InputError(where, "header '" + line +
                                    "' needs a 'spec' column or a 'kind' column (see "
                                    "docs/sim-cli.md)" +
                                    (scalesim_like ? std::string("; for a SCALE-Sim topology add "
                                                                 "--topology-format conv")
                                                   : std::string()));
      }
      if (spec_col >= 0 && kind_col >= 0)
        throw InputError(where, "header has both 'spec' and 'kind' columns; use one form");
      if (spec_col >= 0 && columns.size() > (name_col >= 0 ? 2u : 1u))
        throw InputError(where, "with a 'spec' column the only other column allowed is 'name'");
      continue;
    }
    if (cells.size() == columns.size() + 1 && cells.back().empty()) cells.pop_back();
    if (cells.size() != columns.size())
      throw InputError(where, "row '" + line + "' has " + std::to_string(cells.size()) +
                                  " fields, the header (line " + std::to_string(header_line) +
                                  ") has " + std::to_string(columns.size()));
    const std::string given_name = name_col >= 0 ? cells[name_col] : "";
    const std::string name =
        given_name.empty() ? default_layer_name(topo.layers.size()) : given_name;
    Layer layer;
    if (spec_col >= 0) {
      if (cells[spec_col].empty()) throw InputError(where, "column 'spec' is empty");
      layer = parse_layer_spec(cells[spec_col], where + " (layer '" + name + "')");
    } else {
      if (cells[kind_col].empty()) throw InputError(where, "column 'kind' is empty");
      std::vector<std::pair<std::string, std::string>> fields;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (static_cast<int>(i) == name_col || static_cast<int>(i) == kind_col) continue;
        if (cells[i].empty()) continue;
        if (cells[i].find_first_of(" \t=") != std::string::npos)
          throw InputError(where, "column '" + columns[i] + "': value '" + cells[i] +
                                      "' must be a single word");
        fields.emplace_back(columns[i], cells[i]);
      }
      layer = layer_from_fields(cells[kind_col], fields, where + " (layer '" + name + "')");
    }
    // A name= inside the spec counts when the name column is empty.
    if (!given_name.empty() || layer.name.empty()) layer.name = name;
    topo.layers.push_back(std::move(layer));
  }
  if (columns.empty()) throw InputError(file, "empty topology: no header row");
  if (topo.layers.empty()) throw InputError(file, "topology has a header but no layers");
  return topo;
}

Topology parse_topology_json(const nlohmann::json& doc, const std::string& file) {
  Topology topo;
  JsonObjectReader root(doc, file, "");
  topo.name = root.optional_string("name", std::filesystem::path(file).stem().string());
  const nlohmann::json& layers = root.required_value("layers");
  root.reject_unknown_keys();
  if (!layers.is_array() || layers.empty())
    throw InputError(file + ": /layers", "expected a non-empty array of layers, got " +
                                             layers.dump().substr(0, 80));
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = "/layers/" + std::to_string(i);
    JsonObjectReader obj(layers[i], file, path);
    const std::string given_name = obj.optional_string("name", "");
    const std::string name = given_name.empty() ? default_layer_name(i) : given_name;
    const std::string where = file + ": " + path + " (layer '" + name + "')";
    Layer layer;
    if (obj.has("spec")) {
      const std::string spec = obj.required_string("spec");
      obj.reject_unknown_keys();  // a spec plus loose fields would be ambiguous
      layer = parse_layer_spec(spec, where);
    } else {
      const std::string kind = obj.required_string("kind");
      std::vector<std::pair<std::string, std::string>> fields;
      const nlohmann::json& raw = layers[i];
      for (auto it = raw.begin(); it != raw.end(); ++it) {
        if (it.key() == "name" || it.key() == "kind") continue;
        const nlohmann::json& v = it.value();
        std::string text;
        if (v.is_number_integer()) {
          text = std::to_string(v.get<std::int64_t>());
        } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
                   std::fabs(v.get<double>()) < 9e15) {
          text = std::to_string(static_cast<std::int64_t>(v.get<double>()));
        } else if (v.is_string() && !v.get<std::string>().empty() &&
                   v.get<std::string>().find_first_of(" \t=") == std::string::npos) {
          text = v.get<std::string>();
        } else {
          throw InputError(file + ": " + path + "/" + it.key(),
                           "expected an integer or a single word, got " + v.dump());
        }
        fields.emplace_back(it.key(), text);
      }
      layer = layer_from_fields(kind, fields, where);
    }
    if (!given_name.empty() || layer.name.empty()) layer.name = name;
    topo.layers.push_back(std::move(layer));
  }
  return topo;
}

Topology load_topology(const std::string& path) {
  const std::string ext = lower(std::filesystem::path(path).extension().string());
  if (ext == ".csv") return parse_topology_csv(read_file(path), path);
  if (ext == ".json") return parse_topology_json(parse_json_file(path), path);
  throw InputError(path, "unknown topology format '" + ext +
                             "' (expected a .csv or .json file; SCALE-Sim CSVs need --scalesim-cfg "
                             "or --topology-format)");
}

namespace {
std::string spec_without_name(Layer l) {
  l.name.clear();  // the name has its own column / field
  return layer_spec_string(l);
}
}  // namespace

std::string topology_to_csv(const Topology& topo) {
  std::string out = "name,spec\n";
  for (const Layer& l : topo.layers) out += l.name + "," + spec_without_name(l) + "\n";
  return out;
}

nlohmann::json topology_to_json(const Topology& topo) {
  nlohmann::json layers = nlohmann::json::array();
  for (const Layer& l : topo.layers)
    layers.push_back({{"name", l.name}, {"spec", spec_without_name(l)}});
  return {{"name", topo.name}, {"layers", layers}};
}

}  // namespace hwnas::sim
