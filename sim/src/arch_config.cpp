#include "hwnas/sim/arch_config.hpp"

#include <algorithm>
#include <stdexcept>

#include "hwnas/common/content_hash.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas::sim {

const char* dataflow_name(Dataflow df) {
  switch (df) {
    case Dataflow::kOutputStationary:
      return "os";
    case Dataflow::kWeightStationary:
      return "ws";
    case Dataflow::kInputStationary:
      return "is";
  }
  return "?";
}

Dataflow parse_dataflow(const std::string& name) {
  if (name == "os") return Dataflow::kOutputStationary;
  if (name == "ws") return Dataflow::kWeightStationary;
  if (name == "is") return Dataflow::kInputStationary;
  throw std::invalid_argument("dataflow '" + name + "' is not one of: os, ws, is");
}

EnergyModel default_energy_model(std::int64_t word_bytes) {
  // Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm: 8-bit int multiply 0.2 pJ,
  // 8-bit add 0.03 pJ, 32-bit multiply 3.1 pJ (so multiply ~ width^2, add ~ width); 64-bit read
  // from an 8 KB SRAM 10 pJ (1.25 pJ/byte); DRAM ~640 pJ per 32-bit word (160 pJ/byte).
  const double b = static_cast<double>(word_bytes);
  EnergyModel e;
  e.mac_pj = 0.2 * b * b + 0.03 * b;
  e.sram_read_pj_per_word = 1.25 * b;
  e.sram_write_pj_per_word = 1.25 * b;
  e.dram_read_pj_per_word = 160.0 * b;
  e.dram_write_pj_per_word = 160.0 * b;
  e.vector_op_pj = 0.03 * b;
  e.leakage_pj_per_cycle = 0;
  return e;
}

namespace {

constexpr double kMaxBandwidthWordsPerCycle = 1e6;
constexpr double kMaxClockMhz = 1e5;
constexpr double kMaxEnergyPj = 1e9;
constexpr std::int64_t kMaxVectorLanes = 1 << 16;

// Each half of a double buffer must at least hold one word per PE along the array edge that
// operand enters or leaves by; anything smaller cannot feed a single cycle of a fold.
void check_sram_holds_edge(const JsonObjectReader& r, const char* key, std::int64_t kib,
                           std::int64_t word_bytes, std::int64_t edge_words) {
  const std::int64_t words = kib * 1024 / word_bytes;
  if (words / 2 < edge_words)
    throw InputError(r.where(key),
                     "value " + std::to_string(kib) + " KiB is too small: its active half holds " +
                         std::to_string(words / 2) + " words of " + std::to_string(word_bytes) +
                         " byte(s), less than one array edge (" + std::to_string(edge_words) +
                         " words)");
}

}  // namespace

ArchConfig parse_arch_config(const nlohmann::json& doc, const std::string& source_name) {
  JsonObjectReader r(doc, source_name, "");
  ArchConfig cfg;
  cfg.name = r.required_string("name");
  if (cfg.name.empty()) throw InputError(r.where("name"), "value \"\" must not be empty");
  cfg.description = r.optional_string("description", "");
  cfg.array_rows = r.required_int("array_rows", 1, kMaxArrayEdge);
  cfg.array_cols = r.required_int("array_cols", 1, kMaxArrayEdge);
  cfg.dataflow = parse_dataflow(r.required_enum("dataflow", {"os", "ws", "is"}));
  cfg.word_bytes = r.optional_int("word_bytes", 1, 1, 8);
  if (cfg.word_bytes != 1 && cfg.word_bytes != 2 && cfg.word_bytes != 4 && cfg.word_bytes != 8)
    throw InputError(r.where("word_bytes"),
                     "value " + std::to_string(cfg.word_bytes) + " is not one of: 1, 2, 4, 8");
  cfg.ifmap_sram_kib = r.required_int("ifmap_sram_kib", 1, kMaxSramKib);
  cfg.filter_sram_kib = r.required_int("filter_sram_kib", 1, kMaxSramKib);
  cfg.ofmap_sram_kib = r.required_int("ofmap_sram_kib", 1, kMaxSramKib);
  const std::int64_t edge = std::max(cfg.array_rows, cfg.array_cols);
  check_sram_holds_edge(r, "ifmap_sram_kib", cfg.ifmap_sram_kib, cfg.word_bytes, edge);
  check_sram_holds_edge(r, "filter_sram_kib", cfg.filter_sram_kib, cfg.word_bytes, edge);
  check_sram_holds_edge(r, "ofmap_sram_kib", cfg.ofmap_sram_kib, cfg.word_bytes, edge);

  const char* bw_key = "dram_bandwidth_words_per_cycle";
  const nlohmann::json& bw = r.required_value(bw_key);
  if (bw.is_string()) {
    if (bw.get<std::string>() != "unlimited")
      throw InputError(r.where(bw_key),
                       "value " + bw.dump() + " is neither a positive number nor \"unlimited\"");
    cfg.dram_bandwidth_unlimited = true;
    cfg.dram_bandwidth_words_per_cycle = 0;
  } else {
    if (!bw.is_number())
      throw InputError(r.where(bw_key),
                       "expected a positive number or \"unlimited\", got " + bw.dump());
    const double x = bw.get<double>();
    if (!(x > 0) || x > kMaxBandwidthWordsPerCycle)
      throw InputError(r.where(bw_key), "value " + bw.dump() + " is out of range (0, " +
                                            nlohmann::json(kMaxBandwidthWordsPerCycle).dump() +
                                            "]");
    cfg.dram_bandwidth_words_per_cycle = x;
  }

  cfg.clock_mhz = r.optional_number("clock_mhz", 1000.0, 0, kMaxClockMhz);
  if (!(cfg.clock_mhz > 0))
    throw InputError(r.where("clock_mhz"),
                     "value 0 is out of range (0, " + nlohmann::json(kMaxClockMhz).dump() + "]");
  cfg.vector_lanes = r.optional_int("vector_lanes", cfg.array_cols, 1, kMaxVectorLanes);

  cfg.energy = default_energy_model(cfg.word_bytes);
  if (r.has("energy")) {
    JsonObjectReader e = r.required_object("energy");
    EnergyModel& m = cfg.energy;
    m.mac_pj = e.optional_number("mac_pj", m.mac_pj, 0, kMaxEnergyPj);
    m.sram_read_pj_per_word =
        e.optional_number("sram_read_pj_per_word", m.sram_read_pj_per_word, 0, kMaxEnergyPj);
    m.sram_write_pj_per_word =
        e.optional_number("sram_write_pj_per_word", m.sram_write_pj_per_word, 0, kMaxEnergyPj);
    m.dram_read_pj_per_word =
        e.optional_number("dram_read_pj_per_word", m.dram_read_pj_per_word, 0, kMaxEnergyPj);
    m.dram_write_pj_per_word =
        e.optional_number("dram_write_pj_per_word", m.dram_write_pj_per_word, 0, kMaxEnergyPj);
    m.vector_op_pj = e.optional_number("vector_op_pj", m.vector_op_pj, 0, kMaxEnergyPj);
    m.leakage_pj_per_cycle =
        e.optional_number("leakage_pj_per_cycle", m.leakage_pj_per_cycle, 0, kMaxEnergyPj);
    e.reject_unknown_keys();
  }
  r.reject_unknown_keys();
  return cfg;
}

ArchConfig load_arch_config(const std::string& path) {
  return parse_arch_config(parse_json_file(path), path);
}

nlohmann::json arch_config_to_json(const ArchConfig& cfg) {
  nlohmann::json j;
  j["name"] = cfg.name;
  j["description"] = cfg.description;
  j["array_rows"] = cfg.array_rows;
  j["array_cols"] = cfg.array_cols;
  j["dataflow"] = dataflow_name(cfg.dataflow);
  j["ifmap_sram_kib"] = cfg.ifmap_sram_kib;
  j["filter_sram_kib"] = cfg.filter_sram_kib;
  j["ofmap_sram_kib"] = cfg.ofmap_sram_kib;
  j["word_bytes"] = cfg.word_bytes;
  if (cfg.dram_bandwidth_unlimited) {
    j["dram_bandwidth_words_per_cycle"] = "unlimited";
  } else {
    j["dram_bandwidth_words_per_cycle"] = cfg.dram_bandwidth_words_per_cycle;
  }
  j["clock_mhz"] = cfg.clock_mhz;
  j["vector_lanes"] = cfg.vector_lanes;
  const EnergyModel& e = cfg.energy;
  j["energy"] = {{"mac_pj", e.mac_pj},
                 {"sram_read_pj_per_word", e.sram_read_pj_per_word},
                 {"sram_write_pj_per_word", e.sram_write_pj_per_word},
                 {"dram_read_pj_per_word", e.dram_read_pj_per_word},
                 {"dram_write_pj_per_word", e.dram_write_pj_per_word},
                 {"vector_op_pj", e.vector_op_pj},
                 {"leakage_pj_per_cycle", e.leakage_pj_per_cycle}};
  return j;
}

std::string arch_config_hash(const ArchConfig& cfg) {
  // The description is prose: rewording it must not invalidate cost tables.
  nlohmann::json j = arch_config_to_json(cfg);
  j.erase("description");
  return content_hash_hex(j.dump());
}

}  // namespace hwnas::sim
