#include "hwnas/sim/scalesim_io.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "text_util.hpp"

namespace hwnas::sim {

namespace {

using text::lower;
using text::trim;

// Strict decimal integer in [min_value, max_value]; `what` names the field in the message.
std::int64_t parse_int(const std::string& text, const std::string& where, const std::string& what,
                       std::int64_t min_value,
                       std::int64_t max_value = std::numeric_limits<std::int64_t>::max()) {
  const std::string t = trim(text);
  errno = 0;
  char* end = nullptr;
  const long long v = t.empty() ? 0 : std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE)
    throw InputError(where, what + ": '" + t + "' is not an integer");
  if (v < min_value || v > max_value)
    throw InputError(where, what + ": " + t + " is out of range [" + std::to_string(min_value) +
                                ", " + std::to_string(max_value) + "]");
  return v;
}

double parse_positive_number(const std::string& text, const std::string& where,
                             const std::string& what) {
  const std::string t = trim(text);
  errno = 0;
  char* end = nullptr;
  const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v))
    throw InputError(where, what + ": '" + t + "' is not a number");
  if (v <= 0) throw InputError(where, what + ": " + t + " must be positive");
  return v;
}

struct IniValue {
  std::string value;
  std::size_t line = 0;
};
using IniSection = std::map<std::string, IniValue>;  // lower-cased key -> value

// The subset of Python configparser that SCALE-Sim configs use: [section] headers, `key = value`
// or `key: value` (first separator wins), case-insensitive keys, '#' and ';' comment lines.
// Duplicate sections or keys are errors, as in configparser's strict mode.
std::map<std::string, IniSection> parse_ini(const std::string& text, const std::string& file,
                                            std::map<std::string, std::size_t>& section_lines) {
  std::map<std::string, IniSection> sections;
  std::istringstream in(text);
  std::string raw, current;
  std::size_t line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = trim(raw);
    const std::string where = file + ":" + std::to_string(line_no);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') throw InputError(where, "malformed section header '" + line + "'");
      current = lower(trim(line.substr(1, line.size() - 2)));
      if (sections.count(current) != 0)
        throw InputError(where, "section [" + current + "] appears twice");
      sections[current];
      section_lines[current] = line_no;
      continue;
    }
    const auto sep = line.find_first_of(":=");
    if (sep == std::string::npos || sep == 0)
      throw InputError(where, "expected 'key = value' or 'key: value', got '" + line + "'");
    if (current.empty())
      throw InputError(where, "'" + line + "' comes before any [section] header");
    const std::string key = lower(trim(line.substr(0, sep)));
    std::string value = trim(line.substr(sep + 1));
    // configparser keeps inline comments in the value; SCALE-Sim's int() would then fail.
    // hwnas strips " #..." and " ;..." so an annotated config reads as intended.
    for (const char* marker : {" #", "\t#", " ;", "\t;"}) {
      const auto pos = value.find(marker);
      if (pos != std::string::npos) value = trim(value.substr(0, pos));
    }
    IniSection& sec = sections[current];
    if (sec.count(key) != 0)
      throw InputError(where, "key '" + key + "' appears twice in [" + current + "] (first on line " +
                                  std::to_string(sec[key].line) + ")");
    sec[key] = {value, line_no};
  }
  return sections;
}

}  // namespace

void apply_scalesim_defaults(ArchConfig& arch) {
  // SCALE-Sim has no clock, vector unit or energy model: hwnas's own defaults fill them (1 GHz,
  // one vector lane per array column, default_energy_model for 1-byte words), as a JSON config
  // that leaves them out would get.
  arch.clock_mhz = 1000;
  arch.vector_lanes = arch.array_cols;
  arch.energy = default_energy_model(arch.word_bytes);
}

ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& file) {
  std::map<std::string, std::size_t> section_lines;
  const auto sections = parse_ini(text, file, section_lines);
  ScaleSimConfig cfg;
  auto at = [&](const IniValue& v) { return file + ":" + std::to_string(v.line); };

  static const std::map<std::string, std::vector<std::string>> kKnown = {
      {"general", {"run_name"}},
      {"architecture_presets",
       {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb",
        "ifmapoffset", "filteroffset", "ofmapoffset", "dataflow", "bandwidth", "memorybanks"}},
      {"run_presets", {"interfacebandwidth"}},
      {"network_presets", {"topologycsvloc"}},
  };
  for (const auto& [name, keys] : sections) {
    auto known = kKnown.find(name);
    if (known == kKnown.end()) {
      throw InputError(file + ":" + std::to_string(section_lines[name]),
                       "unknown section [" + name +
                           "] (SCALE-Sim v2 reads [general], [architecture_presets], "
                           "[run_presets])");
    }
    for (const auto& [key, value] : keys) {
      bool ok = false;
      for (const auto& k : known->second) ok = ok || k == key;
      if (!ok)
        throw InputError(at(value), "unknown key '" + key + "' in [" + name + "] (value '" +
                                        value.value + "')");
    }
  }

  auto find = [&](const std::string& section, const std::string& key) -> const IniValue* {
    auto s = sections.find(section);
    if (s == sections.end()) return nullptr;
    auto k = s->second.find(key);
    return k == s->second.end() ? nullptr : &k->second;
  };
  auto need = [&](const std::string& section, const std::string& key) -> const IniValue& {
    const IniValue* v = find(section, key);
    if (v == nullptr) throw InputError(file, "missing key '" + key + "' in [" + section + "]");
    return *v;
  };
  const std::string ap = "architecture_presets";
  auto int_key = [&](const std::string& key, std::int64_t min_value, std::int64_t max_value) {
    const IniValue& v = need(ap, key);
    return parse_int(v.value, at(v), key, min_value, max_value);
  };

  const IniValue* run_name = find("general", "run_name");
  cfg.run_name = run_name != nullptr && !run_name->value.empty()
                     ? run_name->value
                     : std::filesystem::path(file).stem().string();
  if (cfg.run_name.find('/') != std::string::npos || cfg.run_name == "." || cfg.run_name == "..")
    throw InputError(at(*run_name), "run_name '" + cfg.run_name + "' must be a plain name");

  ArchConfig& arch = cfg.arch;
  arch.name = cfg.run_name;
  arch.description = "from SCALE-Sim config " + std::filesystem::path(file).filename().string();
  arch.array_rows = int_key("arrayheight", 1, kMaxArrayEdge);
  arch.array_cols = int_key("arraywidth", 1, kMaxArrayEdge);
  arch.ifmap_sram_kib = int_key("ifmapsramszkb", 1, kMaxSramKib);
  arch.filter_sram_kib = int_key("filtersramszkb", 1, kMaxSramKib);
  arch.ofmap_sram_kib = int_key("ofmapsramszkb", 1, kMaxSramKib);
  arch.word_bytes = 1;  // SCALE-Sim hard-codes 1 byte per word
  {
    const IniValue& v = need(ap, "dataflow");
    try {
      arch.dataflow = parse_dataflow(lower(v.value));
    } catch (const std::invalid_argument&) {
      throw InputError(at(v), "Dataflow '" + v.value + "' is not one of os, ws, is");
    }
  }
  // The offsets only keep SCALE-Sim's address spaces apart; hwnas checks and records them.
  auto offset = [&](const std::string& key, std::int64_t def) {
    const IniValue* v = find(ap, key);
    return v == nullptr ? def : parse_int(v->value, at(*v), key, 0);
  };
  cfg.ifmap_offset = offset("ifmapoffset", 0);
  cfg.filter_offset = offset("filteroffset", 10000000);
  cfg.ofmap_offset = offset("ofmapoffset", 20000000);
  if (const IniValue* v = find(ap, "memorybanks")) {
    parse_int(v->value, at(*v), "memorybanks", 1);
    cfg.warnings.push_back(at(*v) + ": MemoryBanks is ignored (SCALE-Sim v2 does not read it either)");
  }
  if (const IniValue* v = find("network_presets", "topologycsvloc"))
    cfg.warnings.push_back(at(*v) +
                           ": TopologyCsvLoc is ignored (SCALE-Sim v2 reads it from the wrong "
                           "section); pass the topology with --topology");
  if (const IniValue* v = find(ap, "bandwidth")) {
    std::istringstream list(v->value);
    std::string item;
    while (std::getline(list, item, ','))
      cfg.bandwidths_words_per_cycle.push_back(parse_positive_number(item, at(*v), "Bandwidth"));
    if (cfg.bandwidths_words_per_cycle.empty())
      throw InputError(at(*v), "Bandwidth: empty list");
  }
  {
    const IniValue& v = need("run_presets", "interfacebandwidth");
    const std::string mode = lower(v.value);
    if (mode == "calc") {
      cfg.calc_bandwidth = true;
    } else if (mode == "user") {
      cfg.calc_bandwidth = false;
    } else {
      throw InputError(at(v), "InterfaceBandwidth '" + v.value + "' is not CALC or USER");
    }
  }
  if (cfg.calc_bandwidth) {
    // CALC: reads never stall; SCALE-Sim reports the bandwidth that would have been needed.
    arch.dram_bandwidth_unlimited = true;
    arch.dram_bandwidth_words_per_cycle = 0;
  } else {
    if (cfg.bandwidths_words_per_cycle.empty())
      throw InputError(file, "InterfaceBandwidth is USER but [architecture_presets] has no Bandwidth");
    // SCALE-Sim uses the first value for all three operands; hwnas's single shared channel
    // gets that value.
    arch.dram_bandwidth_unlimited = false;
    arch.dram_bandwidth_words_per_cycle = cfg.bandwidths_words_per_cycle.front();
    if (cfg.bandwidths_words_per_cycle.size() > 1)
      cfg.warnings.push_back(at(*find(ap, "bandwidth")) +
                             ": only the first Bandwidth value is used (as in SCALE-Sim v2)");
  }
  apply_scalesim_defaults(arch);
  // The JSON config parser holds the remaining consistency rules (e.g. each half-SRAM must hold
  // one array edge); run the derived config through it so both routes accept the same machines.
  try {
    parse_arch_config(arch_config_to_json(arch), file);
  } catch (const InputError& e) {
    throw InputError(file, std::string("the accelerator this config describes is invalid: ") +
                               e.what());
  }
  return cfg;
}

ScaleSimConfig load_scalesim_config(const std::string& path) {
  return parse_scalesim_config(read_file(path), path);
}

ScaleSimTopologyFormat parse_scalesim_topology_format(const std::string& name) {
  if (name == "conv") return ScaleSimTopologyFormat::kConv;
  if (name == "gemm") return ScaleSimTopologyFormat::kGemm;
  throw InputError("--topology-format", "'" + name + "' is not one of conv, gemm");
}

namespace {

Layer scalesim_conv_layer(const std::string& name, std::int64_t in_h, std::int64_t in_w,
                          std::int64_t r, std::int64_t s, std::int64_t c, std::int64_t n,
                          std::int64_t stride_h, std::int64_t stride_w) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::kConv2d;
  l.in_h = in_h;
  l.in_w = in_w;
  l.kernel_h = r;
  l.kernel_w = s;
  l.in_channels = c;
  l.out_channels = n;
  l.stride_h = stride_h;
  l.stride_w = stride_w;
  l.rounding = OutputRounding::kCeil;
  return l;
}

}  // namespace

Topology parse_scalesim_topology(const std::string& text, const std::string& file,
                                 ScaleSimTopologyFormat format) {
  static const char* kConvFields[] = {"layer name", "ifmap height", "ifmap width",
                                      "filter height", "filter width", "channels",
                                      "num filter", "stride height", "stride width"};
  static const char* kGemmFields[] = {"layer name", "M", "N", "K"};
  const bool gemm = format == ScaleSimTopologyFormat::kGemm;
  Topology topo;
  topo.name = std::filesystem::path(file).stem().string();
  std::istringstream in(text);
  std::string raw;
  std::size_t line_no = 0;
  bool header_seen = false;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = trim(raw);
    const std::string where = file + ":" + std::to_string(line_no);
    if (!header_seen) {
      // SCALE-Sim skips the first line unread, whatever it holds.
      header_seen = true;
      std::vector<std::string> cells = split_csv_line(line);
      if (cells.size() > 1 && !cells[1].empty() &&
          cells[1].find_first_not_of("0123456789") == std::string::npos)
        topo.warnings.push_back(where + ": the first line looks like a layer, but SCALE-Sim "
                                        "treats it as the header and skips it (so does hwnas)");
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> cells = split_csv_line(line);
    // SCALE-Sim drops the last field of every row (it expects a trailing comma). An empty or
    // non-numeric last field (a trailing comma, or a note such as "#dw") is dropped here too; a
    // numeric one is kept, since dropping it would lose the stride.
    if (!cells.empty() && (cells.back().empty() ||
                           cells.back().find_first_not_of("0123456789") != std::string::npos)) {
      cells.pop_back();
    } else {
      topo.warnings.push_back(where + ": no trailing comma; SCALE-Sim drops the last field of "
                                      "such a row (hwnas reads it)");
    }
    bool all_empty = true;
    for (const auto& c : cells) all_empty = all_empty && c.empty();
    if (all_empty) {
      topo.warnings.push_back(where + ": empty row skipped");
      continue;
    }
    const std::size_t min_fields = gemm ? 4 : 8, max_fields = gemm ? 4 : 9;
    if (cells.size() < min_fields)
      throw InputError(where, "row '" + line + "' has " + std::to_string(cells.size()) +
                                  " fields; expected " +
                                  (gemm ? std::string("4 (name, M, N, K,)")
                                        : std::string("8 or 9 (name, ifmap h, ifmap w, filter h, "
                                                      "filter w, channels, filters, stride[, "
                                                      "stride w],)")));
    if (cells.size() > max_fields) {
      // SCALE-Sim never reads past the 9th (conv) or 4th (gemm) field; neither does hwnas.
      topo.warnings.push_back(where + ": " + std::to_string(cells.size() - max_fields) +
                              " field(s) after the " + (gemm ? "4th" : "9th") + " ignored");
      cells.resize(max_fields);
      if (!gemm && cells[8].empty()) cells.pop_back();  // "..., stride,,, extra" keeps 8 fields
    }
    const std::string name = cells[0];
    if (name.empty()) throw InputError(where, "layer name is empty");
    std::vector<std::int64_t> v;
    for (std::size_t i = 1; i < cells.size(); ++i)
      v.push_back(parse_int(cells[i], where + " (layer '" + name + "')",
                            gemm ? kGemmFields[i] : kConvFields[i], 1, 1LL << 40));
    std::vector<Layer> expanded;
    if (gemm) {
      // SCALE-Sim: ifmap M x K, filter 1 x K, 1 channel, N filters, stride 1.
      expanded.push_back(scalesim_conv_layer(name, v[0], v[2], 1, v[2], 1, v[1], 1, 1));
    } else {
      const std::int64_t stride_w = v.size() == 8 ? v[7] : v[6];
      if (v[2] > v[0])
        throw InputError(where + " (layer '" + name + "')",
                         "filter height " + std::to_string(v[2]) + " exceeds ifmap height " +
                             std::to_string(v[0]));
      if (v[3] > v[1])
        throw InputError(where + " (layer '" + name + "')",
                         "filter width " + std::to_string(v[3]) + " exceeds ifmap width " +
                             std::to_string(v[1]));
      if (name.find("DP") != std::string::npos) {
        // SCALE-Sim's depthwise convention: one independent single-channel layer per channel.
        for (std::int64_t ch = 0; ch < v[4]; ++ch)
          expanded.push_back(scalesim_conv_layer(name + "Channel_" + std::to_string(ch), v[0],
                                                 v[1], v[2], v[3], 1, v[5], v[6], stride_w));
      } else {
        expanded.push_back(
            scalesim_conv_layer(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], stride_w));
      }
    }
    for (Layer& l : expanded) {
      try {
        validate_layer(l);
      } catch (const std::invalid_argument& e) {
        throw InputError(where + " (layer '" + name + "')", e.what());
      }
      topo.layers.push_back(std::move(l));
    }
  }
  if (!header_seen) throw InputError(file, "empty SCALE-Sim topology (no header line)");
  if (topo.layers.empty()) throw InputError(file, "SCALE-Sim topology has a header but no layers");
  return topo;
}

Topology load_scalesim_topology(const std::string& path, ScaleSimTopologyFormat format) {
  return parse_scalesim_topology(read_file(path), path, format);
}

std::string python_float_string(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::string s = buf;
  // Python prints integral floats with ".0" and switches to exponents outside [1e-4, 1e16).
  const double ax = std::fabs(x);
  if (ax != 0 && (ax < 1e-4 || ax >= 1e16)) {
    const auto e = s.find('e');
    if (e != std::string::npos) {
      std::string mant = s.substr(0, e);
      int exp = std::atoi(s.c_str() + e + 1);
      char ebuf[16];
      std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
      return mant + ebuf;
    }
    return s;
  }
  if (s.find('e') != std::string::npos) {
    std::snprintf(buf, sizeof buf, "%.1f", x);  // e.g. 1e+15 printed by %g for an integral value
    s = buf;
  }
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

namespace {

std::string join_line(std::size_t id, const std::vector<std::string>& items) {
  std::string line = std::to_string(id);
  for (const auto& it : items) line += ", " + it;
  return line + ",\n";
}

std::string i2s(std::int64_t v) { return std::to_string(v); }

double per_cycle(std::int64_t count, std::int64_t cycles) {
  return cycles > 0 ? static_cast<double>(count) / static_cast<double>(cycles) : 0.0;
}

}  // namespace

std::string scalesim_compute_report(const std::vector<LayerStats>& stats) {
  std::string out =
      "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& s = stats[i];
    out += join_line(i, {i2s(s.total_cycles), i2s(s.stall_cycles),
                         python_float_string(s.overall_util_pct),
                         python_float_string(s.mapping_efficiency_pct),
                         python_float_string(s.compute_util_pct)});
  }
  return out;
}

// hwnas's layer occupies cycles [0, Total Cycles]; its DRAM traffic is reported over that span
// (SCALE-Sim's DRAM window starts before cycle 0 with its prefetch: see docs/sim-cli.md).
std::string scalesim_bandwidth_report(const std::vector<LayerStats>& stats) {
  std::string out =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
      "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& s = stats[i];
    const std::int64_t span = s.total_cycles + 1;
    out += join_line(i, {python_float_string(per_cycle(s.sram_ifmap_reads, s.total_cycles)),
                         python_float_string(per_cycle(s.sram_filter_reads, s.total_cycles)),
                         python_float_string(per_cycle(s.sram_ofmap_writes, s.total_cycles)),
                         python_float_string(per_cycle(s.dram_ifmap_reads, span)),
                         python_float_string(per_cycle(s.dram_filter_reads, span)),
                         python_float_string(per_cycle(s.dram_ofmap_writes, span))});
  }
  return out;
}

std::string scalesim_detailed_access_report(const std::vector<LayerStats>& stats) {
  std::string out =
      "LayerID, "
      "SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
      "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
      "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
      "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
      "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
      "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& s = stats[i];
    const std::string start = "0", stop = i2s(s.total_cycles);
    out += join_line(i, {start, stop, i2s(s.sram_ifmap_reads),    //
                         start, stop, i2s(s.sram_filter_reads),   //
                         start, stop, i2s(s.sram_ofmap_writes),   //
                         start, stop, i2s(s.dram_ifmap_reads),    //
                         start, stop, i2s(s.dram_filter_reads),   //
                         start, stop, i2s(s.dram_ofmap_writes)});
  }
  return out;
}

void write_scalesim_reports(const std::string& dir, const std::vector<LayerStats>& stats) {
  const std::filesystem::path d(dir);
  write_file_atomically(d / "COMPUTE_REPORT.csv", scalesim_compute_report(stats));
  write_file_atomically(d / "BANDWIDTH_REPORT.csv", scalesim_bandwidth_report(stats));
  write_file_atomically(d / "DETAILED_ACCESS_REPORT.csv", scalesim_detailed_access_report(stats));
}

}  // namespace hwnas::sim
