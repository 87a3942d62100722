#pragma once
// What simulating one layer reports. All access counts are in words; energy in picojoules.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace hwnas::sim {

struct LayerStats {
  std::string layer_name;
  // Array layers: total = compute + stall. Element-wise layers: compute = 0 and
  // total = vector_cycles + stall (stall = waiting for an input streamed from DRAM).
  std::int64_t total_cycles = 0;
  std::int64_t compute_cycles = 0;  // SCALE-Sim's demand rows - 1 summed over groups
  std::int64_t stall_cycles = 0;    // cycles the array waited for DRAM
  std::int64_t macs = 0;            // useful MACs
  std::int64_t mapped_macs = 0;     // MAC slots incl. out-of-range taps (SCALE-Sim num_compute)
  std::int64_t vector_ops = 0;
  std::int64_t vector_cycles = 0;  // ceil(vector_ops / vector_lanes); 0 for array layers
  std::int64_t folds = 0;          // row_fold * col_fold * groups
  double mapping_efficiency_pct = 0;
  double compute_util_pct = 0;
  double overall_util_pct = 0;

  std::int64_t sram_ifmap_reads = 0;
  std::int64_t sram_filter_reads = 0;
  std::int64_t sram_ofmap_writes = 0;
  std::int64_t sram_ofmap_reads = 0;  // partial-sum read-backs (0 in SCALE-Sim semantics)
  std::int64_t dram_ifmap_reads = 0;
  std::int64_t dram_filter_reads = 0;
  std::int64_t dram_ofmap_writes = 0;
  std::int64_t dram_ofmap_reads = 0;  // partial sums read back (ws/is, ofmap not resident)

  double energy_mac_pj = 0;
  double energy_sram_pj = 0;
  double energy_dram_pj = 0;
  double energy_vector_pj = 0;
  double energy_leakage_pj = 0;
  double energy_total_pj() const {
    return energy_mac_pj + energy_sram_pj + energy_dram_pj + energy_vector_pj + energy_leakage_pj;
  }
};

// A flat object; every key carries its unit (..._cycles, ..._pct, ..._pj; counts are words).
nlohmann::json layer_stats_to_json(const LayerStats& s);

struct EnergyModel;
// Sets the energy_* fields from the event counts already in `s` (docs/sim-model.md, energy):
// the one definition both the analytic twin and the cycle engine use.
void fill_layer_energy(const EnergyModel& energy, LayerStats& s);

}  // namespace hwnas::sim
