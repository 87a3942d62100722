#pragma once
// The fold and tiling arithmetic of docs/sim-model.md, shared by the analytic twin and the
// cycle-level model so that both fetch, compute and write back exactly the same words.
//
// A layer on the array is `groups` GEMMs run one after another. Each GEMM is cut into
// row_folds x col_folds folds; folds run col fold outer, row fold inner, group outermost, and are
// numbered f = 0 .. folds()-1 in that order. Every fold takes cycles_per_fold cycles (SCALE-Sim
// counts the full array edge even when a fold uses only part of it).
//
// DRAM: fold f needs d_f words read before it starts and produces w_f words to write back
// (fold_dram_words); DramTimeline turns that sequence into the layer's end cycle.
#include <cstdint>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"

namespace hwnas::sim {

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// SCALE-Sim's demand rows per fold: T + rows + cols - 2 (os), T + 2*rows + cols - 2 (ws, is).
std::int64_t cycles_per_fold(Dataflow df, std::int64_t t, std::int64_t rows, std::int64_t cols);
// The fold length SCALE-Sim's "Compute Util" divides by: T + rows + cols - 2 (os),
// T + 2*rows + 2*cols - 3 (ws, is). Not the same as cycles_per_fold for ws/is (its quirk).
std::int64_t scalesim_util_cycles_per_fold(Dataflow df, std::int64_t t, std::int64_t rows,
                                           std::int64_t cols);

struct GemmMapping {
  Dataflow dataflow = Dataflow::kOutputStationary;
  std::int64_t rows = 0, cols = 0;               // array edge
  std::int64_t m = 0, n = 0, k = 0, groups = 1;  // the GEMM (per group)
  std::int64_t sr = 0;                           // spatial extent mapped over the rows
  std::int64_t sc = 0;                           // spatial extent mapped over the cols
  std::int64_t t = 0;                            // temporal extent (cycles a fold streams)
  std::int64_t row_folds = 0;                    // ceil(sr / rows)
  std::int64_t col_folds = 0;                    // ceil(sc / cols)
  std::int64_t cycles_per_fold = 0;

  std::int64_t folds_per_group() const { return row_folds * col_folds; }
  std::int64_t folds() const { return row_folds * col_folds * groups; }
  // Rows / cols of the array a fold actually uses (the last fold along an axis may be partial).
  std::int64_t rows_used(std::int64_t row_fold) const;
  std::int64_t cols_used(std::int64_t col_fold) const;
  // SCALE-Sim's Total Cycles in CALC mode: all demand rows of all folds, minus one.
  std::int64_t compute_cycles() const { return folds() * cycles_per_fold - 1; }
};

GemmMapping map_gemm(Dataflow df, const GemmShape& shape, std::int64_t rows, std::int64_t cols);
GemmMapping map_gemm(const ArchConfig& arch, const Layer& layer);  // kConv2d or kGemm

// Position of fold number f (0-based over all groups) in the loop nest.
struct FoldIndex {
  std::int64_t group = 0;
  std::int64_t col_fold = 0;
  std::int64_t row_fold = 0;
};
FoldIndex fold_index(const GemmMapping& m, std::int64_t f);

// Utilisation (fractions in [0, 1], not percent) per SCALE-Sim section 4.
double mapping_efficiency(const GemmMapping& m);
double compute_utilisation(const GemmMapping& m);

// SRAM access counts of the whole layer (all groups), in words, per docs/sim-model.md section 1.
struct SramCounts {
  std::int64_t ifmap_reads = 0;
  std::int64_t filter_reads = 0;
  std::int64_t ofmap_writes = 0;
};
SramCounts sram_counts(const GemmMapping& m);

// ---- DRAM (docs/sim-model.md section 2) ----

// Operand footprints of ONE group's GEMM, in words: ifmap H*W*C/groups (M*K for a GEMM layer),
// filter K*N, ofmap M*N.
struct Footprints {
  std::int64_t ifmap_words = 0;
  std::int64_t filter_words = 0;
  std::int64_t ofmap_words = 0;
};
Footprints gemm_footprints(const Layer& layer);  // kConv2d or kGemm

// Which operands fit in half of their SRAM (and so cross DRAM once).
struct DramPlan {
  Footprints footprint;
  bool ifmap_resident = false;
  bool filter_resident = false;
  bool ofmap_resident = false;
};
DramPlan plan_dram(const ArchConfig& arch, const Footprints& footprint);
DramPlan plan_dram(const ArchConfig& arch, const Layer& layer);

// The words of an F-word operand charged to the unit range [u0, u1) of U units, by cumulative
// floor: floor(F*u1/U) - floor(F*u0/U). Summed over a partition of [0, U) it gives exactly F.
std::int64_t share_words(std::int64_t footprint_words, std::int64_t u0, std::int64_t u1,
                         std::int64_t units);

// DRAM words of one fold. The reads (d_f) must arrive before the fold starts; the write-back
// (w_f) is produced by the fold and leaves while later folds run. ofmap_read_words are partial
// sums read back (ws/is with a non-resident ofmap, every row fold after the first): exactly the
// words the previous fold (the same col slice's previous row fold) spilled, so they can only be
// fetched once that fold has ended and its spill is in DRAM (see DramTimeline).
// The pattern is the same for every group, so only the col/row fold position matters.
struct FoldDram {
  std::int64_t ifmap_read_words = 0;
  std::int64_t filter_read_words = 0;
  std::int64_t ofmap_read_words = 0;
  std::int64_t ofmap_write_words = 0;
  // Operands (ifmap + filter): prefetched while the previous fold runs.
  std::int64_t operand_read_words() const { return ifmap_read_words + filter_read_words; }
  std::int64_t read_words() const { return operand_read_words() + ofmap_read_words; }
  // True when this fold reads back the previous fold's spilled partial sums.
  bool reads_back() const { return ofmap_read_words > 0; }
};
FoldDram fold_dram_words(const GemmMapping& m, const DramPlan& plan, std::int64_t col_fold,
                         std::int64_t row_fold);

// Cycles the shared DRAM channel needs to move `words`: the smallest n with n*B >= words; 0 when
// the bandwidth is unlimited or words == 0.
std::int64_t dram_transfer_cycles(std::int64_t words, double words_per_cycle, bool unlimited);
std::int64_t dram_transfer_cycles(const ArchConfig& arch, std::int64_t words);

// The double-buffered fold/DRAM recurrence of docs/sim-model.md section 2. Fold f has operand
// reads a_f, partial-sum read-back p_f (p_f > 0 only when it reads back fold f-1's spill, and
// then p_f = w_{f-1}), c_f compute cycles and write-back w_f. A write-back normally leaves in the
// transfer issued when the next fold starts; a spill that the next fold reads back leaves at once
// instead, so let q_f = 0 when p_{f+1} > 0, else q_f = w_f. Then
//   S_0 = xfer(a_0);
//   S_{f+1} = S_f + max(c_f, xfer(a_{f+1} + q_{f-1})) + (p_{f+1} > 0 ? xfer(w_f + p_{f+1}) : 0);
//   end = max(S_{F-1} + c_{F-1}, S_{F-1} + xfer(q_{F-2})) + xfer(w_{F-1}).
// The second term of S_{f+1} is the spill-and-read-back transfer: it starts when fold f has ended
// and the prefetch is done, writes w_f first and then reads p_{f+1}, and fold f+1 waits for it.
// Layer total cycles = end_cycle() - 1; stall cycles = end_cycle() - sum(c_f).
class DramTimeline {
 public:
  DramTimeline(double words_per_cycle, bool unlimited)
      : bandwidth_(words_per_cycle), unlimited_(unlimited) {}
  explicit DramTimeline(const ArchConfig& arch)
      : DramTimeline(arch.dram_bandwidth_words_per_cycle, arch.dram_bandwidth_unlimited) {}

  // operand_words = a_f, readback_words = p_f, write_words = w_f.
  void add_fold(std::int64_t operand_words, std::int64_t readback_words,
                std::int64_t compute_cycles, std::int64_t write_words);
  void add_fold(const FoldDram& d, std::int64_t compute_cycles) {
    add_fold(d.operand_read_words(), d.ofmap_read_words, compute_cycles, d.ofmap_write_words);
  }
  std::int64_t folds() const { return folds_; }
  std::int64_t start_of_last_fold() const { return start_; }
  // Cycle at which the last write-back has drained (0 when no fold was added).
  std::int64_t end_cycle() const;
  std::int64_t compute_cycles_sum() const { return compute_sum_; }

 private:
  std::int64_t xfer(std::int64_t words) const {
    return dram_transfer_cycles(words, bandwidth_, unlimited_);
  }
  double bandwidth_;
  bool unlimited_;
  std::int64_t folds_ = 0;
  std::int64_t start_ = 0;       // S of the latest fold
  std::int64_t cycles_ = 0;      // c of the latest fold
  std::int64_t write_prev_ = 0;  // q of the fold before the latest (its deferred write-back)
  std::int64_t write_cur_ = 0;   // w of the latest fold
  std::int64_t compute_sum_ = 0;
};

// ---- Vector unit (docs/sim-model.md section 3) ----
// An element-wise layer reads its input(s) from and writes its output to the ofmap SRAM. Only
// when the input does not fit in half the ofmap SRAM does it stream the input in from DRAM
// (overlapped with the vector work); outputs stay in SRAM.
struct VectorPlan {
  std::int64_t ops = 0;              // layer_vector_ops
  std::int64_t cycles = 0;           // ceil(ops / vector_lanes)
  std::int64_t input_words = 0;      // elements read (2 tensors for add)
  std::int64_t output_words = 0;     // elements written
  std::int64_t dram_read_words = 0;  // input_words when not resident, else 0
  std::int64_t total_cycles = 0;     // max(cycles, dram transfer of dram_read_words)
};
VectorPlan plan_vector_layer(const ArchConfig& arch, const Layer& layer);  // kElementwise only

}  // namespace hwnas::sim
