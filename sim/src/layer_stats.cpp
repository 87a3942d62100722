#include "hwnas/sim/layer_stats.hpp"

#include "hwnas/sim/arch_config.hpp"

namespace hwnas::sim {

nlohmann::json layer_stats_to_json(const LayerStats& s) {
  nlohmann::json j;
  j["layer_name"] = s.layer_name;
  j["total_cycles"] = s.total_cycles;
  j["compute_cycles"] = s.compute_cycles;
  j["stall_cycles"] = s.stall_cycles;
  j["vector_cycles"] = s.vector_cycles;
  j["macs"] = s.macs;
  j["mapped_macs"] = s.mapped_macs;
  j["vector_ops"] = s.vector_ops;
  j["folds"] = s.folds;
  j["mapping_efficiency_pct"] = s.mapping_efficiency_pct;
  j["compute_util_pct"] = s.compute_util_pct;
  j["overall_util_pct"] = s.overall_util_pct;
  j["sram_ifmap_reads"] = s.sram_ifmap_reads;
  j["sram_filter_reads"] = s.sram_filter_reads;
  j["sram_ofmap_writes"] = s.sram_ofmap_writes;
  j["sram_ofmap_reads"] = s.sram_ofmap_reads;
  j["dram_ifmap_reads"] = s.dram_ifmap_reads;
  j["dram_filter_reads"] = s.dram_filter_reads;
  j["dram_ofmap_writes"] = s.dram_ofmap_writes;
  j["dram_ofmap_reads"] = s.dram_ofmap_reads;
  j["energy_mac_pj"] = s.energy_mac_pj;
  j["energy_sram_pj"] = s.energy_sram_pj;
  j["energy_dram_pj"] = s.energy_dram_pj;
  j["energy_vector_pj"] = s.energy_vector_pj;
  j["energy_leakage_pj"] = s.energy_leakage_pj;
  j["energy_total_pj"] = s.energy_total_pj();
  return j;
}

void fill_layer_energy(const EnergyModel& e, LayerStats& s) {
  const auto d = [](std::int64_t x) { return static_cast<double>(x); };
  s.energy_mac_pj = e.mac_pj * d(s.macs);
  s.energy_sram_pj =
      e.sram_read_pj_per_word * d(s.sram_ifmap_reads + s.sram_filter_reads + s.sram_ofmap_reads) +
      e.sram_write_pj_per_word * d(s.sram_ofmap_writes);
  s.energy_dram_pj =
      e.dram_read_pj_per_word * d(s.dram_ifmap_reads + s.dram_filter_reads + s.dram_ofmap_reads) +
      e.dram_write_pj_per_word * d(s.dram_ofmap_writes);
  s.energy_vector_pj = e.vector_op_pj * d(s.vector_ops);
  s.energy_leakage_pj = e.leakage_pj_per_cycle * d(s.total_cycles);
}

}  // namespace hwnas::sim
