#include "hwnas/sim/mapping.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hwnas::sim {

namespace {
__extension__ typedef __int128 Int128;  // F * u can exceed int64 for huge tensors
}  // namespace

std::int64_t cycles_per_fold(Dataflow df, std::int64_t t, std::int64_t rows, std::int64_t cols) {
  if (df == Dataflow::kOutputStationary) return t + rows + cols - 2;
  return t + 2 * rows + cols - 2;
}

std::int64_t scalesim_util_cycles_per_fold(Dataflow df, std::int64_t t, std::int64_t rows,
                                           std::int64_t cols) {
  if (df == Dataflow::kOutputStationary) return t + rows + cols - 2;
  return t + 2 * rows + 2 * cols - 3;
}

std::int64_t GemmMapping::rows_used(std::int64_t row_fold) const {
  return std::min(rows, sr - row_fold * rows);
}

std::int64_t GemmMapping::cols_used(std::int64_t col_fold) const {
  return std::min(cols, sc - col_fold * cols);
}

GemmMapping map_gemm(Dataflow df, const GemmShape& shape, std::int64_t rows, std::int64_t cols) {
  GemmMapping m;
  m.dataflow = df;
  m.rows = rows;
  m.cols = cols;
  m.m = shape.m;
  m.n = shape.n;
  m.k = shape.k;
  m.groups = shape.groups;
  switch (df) {
    case Dataflow::kOutputStationary:
      m.sr = shape.m, m.sc = shape.n, m.t = shape.k;
      break;
    case Dataflow::kWeightStationary:
      m.sr = shape.k, m.sc = shape.n, m.t = shape.m;
      break;
    case Dataflow::kInputStationary:
      m.sr = shape.k, m.sc = shape.m, m.t = shape.n;
      break;
  }
  m.row_folds = ceil_div(m.sr, rows);
  m.col_folds = ceil_div(m.sc, cols);
  m.cycles_per_fold = cycles_per_fold(df, m.t, rows, cols);
  return m;
}

GemmMapping map_gemm(const ArchConfig& arch, const Layer& layer) {
  return map_gemm(arch.dataflow, gemm_shape(layer), arch.array_rows, arch.array_cols);
}

FoldIndex fold_index(const GemmMapping& m, std::int64_t f) {
  FoldIndex idx;
  const std::int64_t per_group = m.folds_per_group();
  idx.group = f / per_group;
  const std::int64_t in_group = f % per_group;
  idx.col_fold = in_group / m.row_folds;
  idx.row_fold = in_group % m.row_folds;
  return idx;
}

double mapping_efficiency(const GemmMapping& m) {
  return static_cast<double>(m.sr) * static_cast<double>(m.sc) /
         (static_cast<double>(m.row_folds * m.rows) * static_cast<double>(m.col_folds * m.cols));
}

double compute_utilisation(const GemmMapping& m) {
  return mapping_efficiency(m) * static_cast<double>(m.t) /
         static_cast<double>(scalesim_util_cycles_per_fold(m.dataflow, m.t, m.rows, m.cols));
}

SramCounts sram_counts(const GemmMapping& m) {
  SramCounts c;
  const std::int64_t mk = m.m * m.k, kn = m.k * m.n, mn = m.m * m.n;
  switch (m.dataflow) {
    case Dataflow::kOutputStationary:
      c.ifmap_reads = m.col_folds * mk;
      c.filter_reads = m.row_folds * kn;
      // SCALE-Sim adds rows+cols per fold to its counter (systolic_compute_os.py quirk).
      c.ofmap_writes = mn + m.row_folds * m.col_folds * (m.rows + m.cols);
      break;
    case Dataflow::kWeightStationary:
      c.ifmap_reads = m.col_folds * mk;
      c.filter_reads = kn;
      c.ofmap_writes = m.row_folds * mn;
      break;
    case Dataflow::kInputStationary:
      c.ifmap_reads = mk;
      c.filter_reads = m.col_folds * kn;
      c.ofmap_writes = m.row_folds * mn;
      break;
  }
  c.ifmap_reads *= m.groups;
  c.filter_reads *= m.groups;
  c.ofmap_writes *= m.groups;
  return c;
}

Footprints gemm_footprints(const Layer& layer) {
  const GemmShape g = gemm_shape(layer);
  Footprints f;
  f.ifmap_words = layer.kind == LayerKind::kGemm
                      ? g.m * g.k
                      : layer.in_h * layer.in_w * (layer.in_channels / layer.groups);
  f.filter_words = g.k * g.n;
  f.ofmap_words = g.m * g.n;
  return f;
}

DramPlan plan_dram(const ArchConfig& arch, const Footprints& footprint) {
  DramPlan p;
  p.footprint = footprint;
  // Resident: fits in the half of the double buffer that is active (F <= words/2).
  p.ifmap_resident = 2 * footprint.ifmap_words <= arch.ifmap_sram_words();
  p.filter_resident = 2 * footprint.filter_words <= arch.filter_sram_words();
  p.ofmap_resident = 2 * footprint.ofmap_words <= arch.ofmap_sram_words();
  return p;
}

DramPlan plan_dram(const ArchConfig& arch, const Layer& layer) {
  return plan_dram(arch, gemm_footprints(layer));
}

std::int64_t share_words(std::int64_t footprint_words, std::int64_t u0, std::int64_t u1,
                         std::int64_t units) {
  // 64-bit products suffice for every realistic layer and are far cheaper than 128-bit division.
  constexpr std::int64_t kSmall = std::int64_t{1} << 31;
  if (footprint_words < kSmall && u1 < kSmall)
    return footprint_words * u1 / units - footprint_words * u0 / units;
  const Int128 f = footprint_words;
  return static_cast<std::int64_t>(f * u1 / units - f * u0 / units);
}

FoldDram fold_dram_words(const GemmMapping& m, const DramPlan& plan, std::int64_t col_fold,
                         std::int64_t row_fold) {
  FoldDram d;
  const std::int64_t rows_used = m.rows_used(row_fold);
  const std::int64_t cols_used = m.cols_used(col_fold);
  const std::int64_t r0 = row_fold * m.rows, r1 = r0 + rows_used;
  const std::int64_t c0 = col_fold * m.cols, c1 = c0 + cols_used;
  const Footprints& fp = plan.footprint;
  // Partial sums of ws/is: a col slice is final after its last row fold. Resident: written once
  // then. Not resident: every row fold spills, and every later row fold reads the spill back.
  auto psums = [&](std::int64_t slice_words) {
    const bool last = row_fold == m.row_folds - 1;
    if (plan.ofmap_resident) {
      d.ofmap_write_words = last ? slice_words : 0;
    } else {
      d.ofmap_write_words = slice_words;
      d.ofmap_read_words = row_fold > 0 ? slice_words : 0;
    }
  };
  switch (m.dataflow) {
    case Dataflow::kOutputStationary:
      // Units: ifmap = the M pixels of the row slice; filter = the N filters of the col slice.
      if (!plan.ifmap_resident || col_fold == 0)
        d.ifmap_read_words = share_words(fp.ifmap_words, r0, r1, m.m);
      if (!plan.filter_resident || row_fold == 0)
        d.filter_read_words = share_words(fp.filter_words, c0, c1, m.n);
      d.ofmap_write_words = rows_used * cols_used;
      break;
    case Dataflow::kWeightStationary:
      // Units: ifmap = the K rows of the row slice; filter = the tile's elements (each filter
      // tile is used by exactly one fold, so the share is the tile itself).
      if (!plan.ifmap_resident || col_fold == 0)
        d.ifmap_read_words = share_words(fp.ifmap_words, r0, r1, m.k);
      d.filter_read_words = rows_used * cols_used;
      psums(m.m * cols_used);
      break;
    case Dataflow::kInputStationary: {
      // Units: ifmap = the tile's elements, numbered in fold order over the K x M operand;
      // filter = the K rows of the row slice.
      const std::int64_t u0 = c0 * m.k + r0 * cols_used;
      d.ifmap_read_words = share_words(fp.ifmap_words, u0, u0 + rows_used * cols_used, m.k * m.m);
      if (!plan.filter_resident || col_fold == 0)
        d.filter_read_words = share_words(fp.filter_words, r0, r1, m.k);
      psums(cols_used * m.n);
      break;
    }
  }
  return d;
}

std::int64_t dram_transfer_cycles(std::int64_t words, double words_per_cycle, bool unlimited) {
  if (unlimited || words <= 0) return 0;
  const double w = static_cast<double>(words);
  auto n = static_cast<std::int64_t>(std::ceil(w / words_per_cycle));
  // Guard the division's rounding so n is exactly the smallest n with n*B >= words.
  while (n > 0 && static_cast<double>(n - 1) * words_per_cycle >= w) --n;
  while (static_cast<double>(n) * words_per_cycle < w) ++n;
  return n;
}

std::int64_t dram_transfer_cycles(const ArchConfig& arch, std::int64_t words) {
  return dram_transfer_cycles(words, arch.dram_bandwidth_words_per_cycle,
                              arch.dram_bandwidth_unlimited);
}

void DramTimeline::add_fold(std::int64_t operand_words, std::int64_t readback_words,
                            std::int64_t compute_cycles, std::int64_t write_words) {
  if (folds_ == 0) {
    start_ = xfer(operand_words + readback_words);
  } else {
    // While the latest fold computes, the channel fetches this fold's operands together with
    // the deferred write-back of the fold before the latest one.
    start_ += std::max(cycles_, xfer(operand_words + write_prev_));
    if (readback_words > 0) {
      // This fold reads back the latest fold's spill: that spill can only be written once the
      // latest fold has ended, and read once it is written. The array waits for the round trip.
      start_ += xfer(write_cur_ + readback_words);
      write_cur_ = 0;  // already in DRAM: nothing left to drain later
    }
  }
  write_prev_ = write_cur_;
  write_cur_ = write_words;
  cycles_ = compute_cycles;
  compute_sum_ += compute_cycles;
  ++folds_;
}

std::int64_t DramTimeline::end_cycle() const {
  if (folds_ == 0) return 0;
  const std::int64_t compute_end = start_ + cycles_;
  const std::int64_t channel_free = std::max(compute_end, start_ + xfer(write_prev_));
  return channel_free + xfer(write_cur_);
}

VectorPlan plan_vector_layer(const ArchConfig& arch, const Layer& layer) {
  if (layer.kind != LayerKind::kElementwise)
    throw std::invalid_argument("plan_vector_layer: layer '" + layer.name +
                                "' runs on the array, not the vector unit");
  VectorPlan p;
  const std::int64_t elems = layer.in_h * layer.in_w * layer.in_channels;
  p.ops = layer_vector_ops(layer);
  p.cycles = ceil_div(p.ops, arch.vector_lanes);
  p.input_words = layer.elementwise_op == ElementwiseOp::kAdd ? 2 * elems : elems;
  p.output_words = layer.out_h() * layer.out_w() * layer.in_channels;
  if (2 * p.input_words > arch.ofmap_sram_words()) p.dram_read_words = p.input_words;
  p.total_cycles = std::max(p.cycles, dram_transfer_cycles(arch, p.dram_read_words));
  return p;
}

}  // namespace hwnas::sim
