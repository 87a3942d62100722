#include "hwnas/sim/analytic.hpp"

#include <algorithm>

#include "hwnas/sim/mapping.hpp"

namespace hwnas::sim {

namespace {

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

// The DramTimeline recurrence of mapping.hpp, evaluated over ONE group's folds. Its increments
//   S_{j} - S_{j-1} = max(c, xfer(a_j + q_{j-2})) + (p_j > 0 ? xfer(w_{j-1} + p_j) : 0)
// depend only on fold-local words, and every group repeats the same (a, p, w) sequence, so the
// sum over G groups follows from one group's sums: each position j in the group occurs G times,
// except that the layer's fold 0 has no increment and fold 1 has no q_{-1}. Only the q term
// wraps into the previous group: position 0 never reads back (it is row fold 0), and the
// read-back term of position j >= 1 uses w_{j-1} of its own group. q_{P-1} = w_{P-1} because
// the next group's first fold reads nothing back. A depthwise layer thus costs O(folds per
// group), not O(folds). Also accumulates the layer's DRAM counts into s.
std::int64_t layer_end_cycle(const ArchConfig& arch, const GemmMapping& m, const DramPlan& plan,
                             LayerStats& s) {
  const std::int64_t c = m.cycles_per_fold;
  const auto xfer = [&](std::int64_t words) { return dram_transfer_cycles(arch, words); };
  // Increment of a position with operand reads a, deferred write-back q two folds back and
  // spill-and-read-back transfer of rb words.
  const auto inc = [&](std::int64_t a, std::int64_t q, std::int64_t rb) {
    return std::max(c, xfer(a + q)) + xfer(rb);
  };
  std::int64_t a0 = 0, a1 = 0, rb1 = 0;  // operand reads of positions 0, 1; read-back of 1
  std::int64_t q_back2 = 0;              // q_{j-2} (final once position j-1 is seen)
  std::int64_t w_back1 = 0;              // w_{j-1}
  std::int64_t inc_sum = 0;              // sum over positions j >= 2 of their increments
  std::int64_t j = 0;
  FoldDram total;
  for (std::int64_t cf = 0; cf < m.col_folds; ++cf) {
    for (std::int64_t rf = 0; rf < m.row_folds; ++rf, ++j) {
      const FoldDram f = fold_dram_words(m, plan, cf, rf);
      total.ifmap_read_words += f.ifmap_read_words;
      total.filter_read_words += f.filter_read_words;
      total.ofmap_read_words += f.ofmap_read_words;
      total.ofmap_write_words += f.ofmap_write_words;
      const std::int64_t a = f.operand_read_words();
      // The spill of position j-1 leaves at once when position j reads it back.
      const std::int64_t rb = f.reads_back() ? w_back1 + f.ofmap_read_words : 0;
      const std::int64_t q_back1 = f.reads_back() ? 0 : w_back1;
      if (j == 0) {
        a0 = a;
      } else if (j == 1) {
        a1 = a;
        rb1 = rb;
      } else {
        inc_sum += inc(a, q_back2, rb);
      }
      q_back2 = q_back1;
      w_back1 = f.ofmap_write_words;
    }
  }
  const std::int64_t groups = m.groups, per_group = j;
  s.dram_ifmap_reads = groups * total.ifmap_read_words;
  s.dram_filter_reads = groups * total.filter_read_words;
  s.dram_ofmap_reads = groups * total.ofmap_read_words;
  s.dram_ofmap_writes = groups * total.ofmap_write_words;

  const std::int64_t w_last = w_back1;                                   // w_{P-1} = q_{P-1}
  const std::int64_t q_second_last = per_group >= 2 ? q_back2 : w_last;  // q_{(P-2) mod P}
  const std::int64_t start0 = xfer(a0);
  if (groups * per_group == 1) return start0 + c + xfer(w_last);
  // Periodic increments of positions 0 and 1 (their q_{j-2} wraps into the previous group).
  const std::int64_t inc0 = inc(a0, q_second_last, 0);
  const std::int64_t inc1 = per_group >= 2 ? inc(a1, w_last, rb1) : inc0;
  const std::int64_t per_group_sum = inc0 + (per_group >= 2 ? inc1 : 0) + inc_sum;
  const std::int64_t first_inc =
      per_group >= 2 ? inc(a1, 0, rb1) : inc(a0, 0, 0);  // the layer's fold 1: q_{-1} = 0
  const std::int64_t start_last = start0 + groups * per_group_sum - inc0 - inc1 + first_inc;
  return std::max(start_last + c, start_last + xfer(q_second_last)) + xfer(w_last);
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
  s.total_cycles = layer_end_cycle(arch, m, plan, s) - 1;
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
  fill_layer_energy(arch.energy, s);
  return s;
}

}  // namespace hwnas::sim
