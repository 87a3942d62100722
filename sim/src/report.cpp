#include "hwnas/sim/report.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace hwnas::sim {

namespace {

bool uses_array(const Layer& l) { return l.kind != LayerKind::kElementwise; }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// The shortest fixed-point text that reads back as exactly `v`, for machine-readable files
// (no exponents, so spreadsheets and awk read every cell alike).
std::string exact(double v) {
  char buf[512];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::to_string(v);
}

// Fixed decimals with the integer part grouped: "1,234.6".
std::string fixed_grouped(double v, int decimals) {
  std::string s = fixed(v, decimals);
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.erase(0, 1);
  const auto dot = s.find('.');
  std::string int_part = s.substr(0, dot), rest = dot == std::string::npos ? "" : s.substr(dot);
  std::string grouped;
  for (std::size_t i = 0; i < int_part.size(); ++i) {
    if (i > 0 && (int_part.size() - i) % 3 == 0) grouped += ',';
    grouped += int_part[i];
  }
  return (negative ? "-" : "") + grouped + rest;
}

// RFC 4180 quoting for the one free-text column (a JSON topology may name a layer "a,b").
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string q = "\"";
  for (char c : text) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string spec_without_name(Layer l) {
  l.name.clear();  // the name has its own column / field
  return layer_spec_string(l);
}

std::int64_t sram_reads(const LayerStats& s) {
  return s.sram_ifmap_reads + s.sram_filter_reads + s.sram_ofmap_reads;
}
std::int64_t dram_reads(const LayerStats& s) {
  return s.dram_ifmap_reads + s.dram_filter_reads + s.dram_ofmap_reads;
}

}  // namespace

LayerStats total_layer_stats(const std::vector<Layer>& layers, const std::vector<LayerStats>& stats,
                             const ArchConfig& arch) {
  if (layers.size() != stats.size())
    throw std::logic_error("total_layer_stats: layers and stats differ in length");
  LayerStats t;
  t.layer_name = "TOTAL";
  double map_weighted = 0, util_weighted = 0;
  std::int64_t array_cycles = 0;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& s = stats[i];
    t.total_cycles += s.total_cycles;
    t.compute_cycles += s.compute_cycles;
    t.stall_cycles += s.stall_cycles;
    t.macs += s.macs;
    t.mapped_macs += s.mapped_macs;
    t.vector_ops += s.vector_ops;
    t.vector_cycles += s.vector_cycles;
    t.folds += s.folds;
    t.sram_ifmap_reads += s.sram_ifmap_reads;
    t.sram_filter_reads += s.sram_filter_reads;
    t.sram_ofmap_writes += s.sram_ofmap_writes;
    t.sram_ofmap_reads += s.sram_ofmap_reads;
    t.dram_ifmap_reads += s.dram_ifmap_reads;
    t.dram_filter_reads += s.dram_filter_reads;
    t.dram_ofmap_writes += s.dram_ofmap_writes;
    t.dram_ofmap_reads += s.dram_ofmap_reads;
    t.energy_mac_pj += s.energy_mac_pj;
    t.energy_sram_pj += s.energy_sram_pj;
    t.energy_dram_pj += s.energy_dram_pj;
    t.energy_vector_pj += s.energy_vector_pj;
    t.energy_leakage_pj += s.energy_leakage_pj;
    if (uses_array(layers[i])) {
      map_weighted += s.mapping_efficiency_pct * static_cast<double>(s.compute_cycles);
      util_weighted += s.compute_util_pct * static_cast<double>(s.compute_cycles);
      array_cycles += s.compute_cycles;
    }
  }
  if (array_cycles > 0) {
    t.mapping_efficiency_pct = map_weighted / static_cast<double>(array_cycles);
    t.compute_util_pct = util_weighted / static_cast<double>(array_cycles);
  }
  const double slots = static_cast<double>(t.total_cycles) *
                       static_cast<double>(arch.array_rows * arch.array_cols);
  t.overall_util_pct = slots > 0 ? 100.0 * static_cast<double>(t.mapped_macs) / slots : 0.0;
  return t;
}

std::string group_thousands(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string format_layer_table(const std::vector<LayerStats>& stats, const LayerStats& total) {
  static const char* kHeader[] = {"layer",      "cycles",       "compute",      "stall",
                                  "MACs",       "util %",       "map eff %",    "SRAM rd words",
                                  "SRAM wr words", "DRAM rd words", "DRAM wr words", "energy nJ"};
  constexpr std::size_t kCols = sizeof kHeader / sizeof kHeader[0];
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back(std::begin(kHeader), std::end(kHeader));
  auto row = [](const LayerStats& s) {
    return std::vector<std::string>{s.layer_name,
                                    group_thousands(s.total_cycles),
                                    group_thousands(s.compute_cycles + s.vector_cycles),
                                    group_thousands(s.stall_cycles),
                                    group_thousands(s.macs),
                                    fixed(s.overall_util_pct, 2),
                                    fixed(s.mapping_efficiency_pct, 2),
                                    group_thousands(sram_reads(s)),
                                    group_thousands(s.sram_ofmap_writes),
                                    group_thousands(dram_reads(s)),
                                    group_thousands(s.dram_ofmap_writes),
                                    fixed_grouped(s.energy_total_pj() / 1000.0, 1)};
  };
  for (const auto& s : stats) rows.push_back(row(s));
  rows.push_back(row(total));
  std::vector<std::size_t> width(kCols, 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < kCols; ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  auto emit = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t c = 0; c < kCols; ++c) {
      const std::size_t pad = width[c] - r[c].size();
      if (c == 0) {
        line += r[c] + std::string(pad, ' ');  // names left-aligned, numbers right-aligned
      } else {
        line += "  " + std::string(pad, ' ') + r[c];
      }
    }
    out += line + "\n";
  };
  std::size_t total_width = 0;
  for (std::size_t c = 0; c < kCols; ++c) total_width += width[c] + (c ? 2 : 0);
  emit(rows.front());
  out += std::string(total_width, '-') + "\n";
  for (std::size_t i = 1; i + 1 < rows.size(); ++i) emit(rows[i]);
  out += std::string(total_width, '-') + "\n";
  emit(rows.back());
  return out;
}

std::string layers_csv(const std::vector<Layer>& layers, const std::vector<LayerStats>& stats) {
  if (layers.size() != stats.size())
    throw std::logic_error("layers_csv: layers and stats differ in length");
  std::string out =
      "name,spec,total_cycles,compute_cycles,stall_cycles,macs,mapped_macs,vector_ops,"
      "vector_cycles,folds,"
      "mapping_efficiency_pct,compute_util_pct,overall_util_pct,"
      "sram_ifmap_reads_words,sram_filter_reads_words,sram_ofmap_writes_words,"
      "sram_ofmap_reads_words,dram_ifmap_reads_words,dram_filter_reads_words,"
      "dram_ofmap_writes_words,dram_ofmap_reads_words,energy_mac_pj,energy_sram_pj,energy_dram_pj,energy_vector_pj,"
      "energy_leakage_pj,energy_total_pj\n";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& s = stats[i];
    const std::vector<std::string> cells = {
        csv_field(layers[i].name),
        csv_field(spec_without_name(layers[i])),
        std::to_string(s.total_cycles),
        std::to_string(s.compute_cycles),
        std::to_string(s.stall_cycles),
        std::to_string(s.macs),
        std::to_string(s.mapped_macs),
        std::to_string(s.vector_ops),
        std::to_string(s.vector_cycles),
        std::to_string(s.folds),
        exact(s.mapping_efficiency_pct),
        exact(s.compute_util_pct),
        exact(s.overall_util_pct),
        std::to_string(s.sram_ifmap_reads),
        std::to_string(s.sram_filter_reads),
        std::to_string(s.sram_ofmap_writes),
        std::to_string(s.sram_ofmap_reads),
        std::to_string(s.dram_ifmap_reads),
        std::to_string(s.dram_filter_reads),
        std::to_string(s.dram_ofmap_writes),
        std::to_string(s.dram_ofmap_reads),
        exact(s.energy_mac_pj),
        exact(s.energy_sram_pj),
        exact(s.energy_dram_pj),
        exact(s.energy_vector_pj),
        exact(s.energy_leakage_pj),
        exact(s.energy_total_pj())};
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) line += (c ? "," : "") + cells[c];
    out += line + "\n";
  }
  return out;
}

nlohmann::json layers_json(const ArchConfig& arch, const std::vector<Layer>& layers,
                           const std::vector<LayerStats>& stats, const std::string& fidelity,
                           const std::string& source) {
  if (layers.size() != stats.size())
    throw std::logic_error("layers_json: layers and stats differ in length");
  nlohmann::json out;
  out["tool"] = "hwnas";
  out["version"] = HWNAS_VERSION;
  out["fidelity"] = fidelity;
  out["source"] = source;
  out["arch"] = arch_config_to_json(arch);
  out["arch_hash"] = arch_config_hash(arch);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    list.push_back({{"name", layers[i].name},
                    {"spec", spec_without_name(layers[i])},
                    {"stats", layer_stats_to_json(stats[i])}});
  }
  out["layers"] = list;
  out["total"] = layer_stats_to_json(total_layer_stats(layers, stats, arch));
  return out;
}

}  // namespace hwnas::sim
