#include "hwnas/sim/analytic.hpp"

#include "hwnas/sim/mapping.hpp"

namespace hwnas::sim {

namespace {

void fill_energy(const ArchConfig& arch, LayerStats& s) {
  const EnergyModel& e = arch.energy;
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

void simulate_vector_layer(const ArchConfig& arch, const Layer& layer, LayerStats& s) {
  const VectorPlan p = plan_vector_layer(arch, layer);
  s.vector_ops = p.ops;
  s.vector_cycles = p.cycles;
  s.total_cycles = p.total_cycles;
  s.stall_cycles = p.total_cycles - p.cycles;
  s.sram_ofmap_reads = p.input_words;
  s.sram_ofmap_writes = p.output_words;
  s.dram_ifmap_reads = p.dram_read_words;
}

void simulate_array_layer(const ArchConfig& arch, const Layer& layer, LayerStats& s) {
  const GemmMapping m = map_gemm(arch, layer);
  s.compute_cycles = m.compute_cycles();
  s.macs = layer_macs(layer);
  s.mapped_macs = layer_mapped_macs(layer);
  s.folds = m.folds();
  s.mapping_efficiency_pct = 100.0 * mapping_efficiency(m);
  s.compute_util_pct = 100.0 * compute_utilisation(m);

  const SramCounts sram = sram_counts(m);
  s.sram_ifmap_reads = sram.ifmap_reads;
  s.sram_filter_reads = sram.filter_reads;
  s.sram_ofmap_writes = sram.ofmap_writes;

  const DramPlan plan = plan_dram(arch, layer);
  DramTimeline timeline(arch);
  for (std::int64_t g = 0; g < m.groups; ++g) {
    for (std::int64_t cf = 0; cf < m.col_folds; ++cf) {
      for (std::int64_t rf = 0; rf < m.row_folds; ++rf) {
        const FoldDram d = fold_dram_words(m, plan, cf, rf);
        s.dram_ifmap_reads += d.ifmap_read_words;
        s.dram_filter_reads += d.filter_read_words;
        s.dram_ofmap_reads += d.ofmap_read_words;
        s.dram_ofmap_writes += d.ofmap_write_words;
        timeline.add_fold(d.read_words(), m.cycles_per_fold, d.ofmap_write_words);
      }
    }
  }
  // SCALE-Sim's convention: the last event happens at cycle end - 1.
  s.total_cycles = timeline.end_cycle() - 1;
  s.stall_cycles = s.total_cycles - s.compute_cycles;
  s.overall_util_pct = 100.0 * static_cast<double>(s.mapped_macs) /
                       (static_cast<double>(s.total_cycles) *
                        static_cast<double>(arch.array_rows * arch.array_cols));
}

}  // namespace

LayerStats simulate_layer_analytic(const ArchConfig& arch, const Layer& layer) {
  validate_layer(layer);
  LayerStats s;
  s.layer_name = layer.name;
  if (layer.kind == LayerKind::kElementwise) {
    simulate_vector_layer(arch, layer, s);
  } else {
    simulate_array_layer(arch, layer, s);
  }
  fill_energy(arch, s);
  return s;
}

}  // namespace hwnas::sim
