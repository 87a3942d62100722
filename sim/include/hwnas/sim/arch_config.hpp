#pragma once
// An accelerator: a rows x cols systolic array with one dataflow, three double-buffered SRAMs
// (ifmap, filter, ofmap) filled from DRAM at a fixed bandwidth, a vector unit for element-wise
// work, and energy per event. Parsed and validated once (load_arch_config); everything after
// that trusts these fields.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace hwnas::sim {

enum class Dataflow { kOutputStationary, kWeightStationary, kInputStationary };

const char* dataflow_name(Dataflow df);            // "os", "ws", "is"
Dataflow parse_dataflow(const std::string& name);  // throws std::invalid_argument

struct EnergyModel {
  double mac_pj = 0;                  // one multiply-accumulate in a PE
  double sram_read_pj_per_word = 0;   // one word read from any of the three SRAMs
  double sram_write_pj_per_word = 0;  // one word written to any SRAM
  double dram_read_pj_per_word = 0;   // one word moved DRAM -> SRAM
  double dram_write_pj_per_word = 0;  // one word moved SRAM -> DRAM
  double vector_op_pj = 0;            // one element-wise operation on the vector unit
  double leakage_pj_per_cycle = 0;    // static energy of the whole accelerator per cycle
};

struct ArchConfig {
  std::string name;
  std::string description;
  std::int64_t array_rows = 0;
  std::int64_t array_cols = 0;
  Dataflow dataflow = Dataflow::kOutputStationary;
  std::int64_t ifmap_sram_kib = 0;  // each SRAM: half active, half prefetch/drain
  std::int64_t filter_sram_kib = 0;
  std::int64_t ofmap_sram_kib = 0;
  std::int64_t word_bytes = 1;
  // Words per cycle between DRAM and the SRAMs, shared by the three operands. When
  // dram_bandwidth_unlimited is set (SCALE-Sim's CALC mode) reads never stall.
  double dram_bandwidth_words_per_cycle = 0;
  bool dram_bandwidth_unlimited = false;
  double clock_mhz = 0;
  std::int64_t vector_lanes = 0;  // element-wise ops per cycle on the vector unit
  EnergyModel energy;

  std::int64_t ifmap_sram_words() const { return ifmap_sram_kib * 1024 / word_bytes; }
  std::int64_t filter_sram_words() const { return filter_sram_kib * 1024 / word_bytes; }
  std::int64_t ofmap_sram_words() const { return ofmap_sram_kib * 1024 / word_bytes; }
};

// Energy defaults for a word of `word_bytes` bytes, scaled from Horowitz (ISSCC 2014, 45 nm):
// see docs/arch-configs.md for the figures and the scaling rule.
EnergyModel default_energy_model(std::int64_t word_bytes);

// Limits the parser enforces (also documented in docs/arch-configs.md).
constexpr std::int64_t kMaxArrayEdge = 4096;
constexpr std::int64_t kMaxSramKib = 1 << 20;  // 1 GiB per buffer

// Reads and validates a config file. Unknown keys, missing required keys and out-of-range values
// throw hwnas::InputError naming the file, the JSON path and the value.
ArchConfig load_arch_config(const std::string& path);
ArchConfig parse_arch_config(const nlohmann::json& doc, const std::string& source_name);
nlohmann::json arch_config_to_json(const ArchConfig& cfg);  // canonical form (round-trips)
// Hash of the canonical JSON: what a cost table records to detect a changed accelerator.
std::string arch_config_hash(const ArchConfig& cfg);

}  // namespace hwnas::sim
