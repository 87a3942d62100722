#pragma once
// The cycle-level model of docs/sim-model.md as plain C++: one call to step() advances the whole
// accelerator (systolic array, fold controller, double-buffered SRAMs, shared DRAM channel, vector
// unit) by one clock. The SystemC shell (sim/systemc/) calls step() once per clock; tests drive
// it directly. docs/sim-cycle-model.md describes the register-level dataflow it steps.
//
// Two speeds: with values off, a clock updates the edge counters in O(rows + cols) without
// touching the PEs; with values on (check_values), every PE's registers move and multiply each
// clock on real operands, and the ofmap is compared against a naive reference at the end.
#include <cstdint>
#include <vector>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"
#include "hwnas/sim/mapping.hpp"

namespace hwnas::sim {

// What the engine counted for the current layer, event by event.
struct CycleCounters {
  std::int64_t clocks = 0;        // clocks stepped (the layer's end cycle)
  std::int64_t busy_clocks = 0;   // clocks the array ran a fold (or the vector unit worked)
  std::int64_t stall_clocks = 0;  // clocks it waited for DRAM (incl. the final write-back drain)
  std::int64_t macs = 0;          // useful MACs (operands inside the ifmap)
  std::int64_t mapped_macs = 0;   // MAC slots issued, incl. out-of-range taps
  std::int64_t vector_ops = 0;
  std::int64_t folds = 0;         // folds completed
  std::int64_t sram_ifmap_reads = 0;
  std::int64_t sram_filter_reads = 0;
  std::int64_t sram_ofmap_writes = 0;
  std::int64_t sram_ofmap_reads = 0;
  std::int64_t dram_ifmap_reads = 0;
  std::int64_t dram_filter_reads = 0;
  std::int64_t dram_ofmap_reads = 0;  // partial sums read back (ws/is, ofmap not resident)
  std::int64_t dram_ofmap_writes = 0;
  std::int64_t value_outputs = 0;     // ofmap words produced by the PE registers (values on)
};

class CycleEngine {
 public:
  explicit CycleEngine(const ArchConfig& arch);

  // Resets the accelerator and loads `layer`. With check_values the operands are seeded random
  // small integers (exact in float) and the PEs compute for real.
  void begin_layer(const Layer& layer, bool check_values = false, std::uint64_t seed = 1);
  // Advances one clock. Returns false, without consuming a clock, once the layer is complete.
  bool step();
  // Steps until the layer is complete; returns the clocks stepped.
  std::int64_t run_layer();
  bool layer_done() const { return phase_ == Phase::kDone; }

  const CycleCounters& counters() const { return ctr_; }
  const ArchConfig& arch() const { return arch_; }
  // The stats of the completed layer. With check_values, throws hwnas::RuntimeFailure when the
  // array's ofmap differs from the naive reference or the register-level dataflow disagrees
  // with the controller's schedule.
  LayerStats finish_layer() const;

  // The array's ofmap after a checked layer: [group][m][n] flattened.
  const std::vector<float>& ofmap_values() const { return ofmap_; }
  // The naive reference for the current layer's operands (direct conv loops / GEMM).
  std::vector<float> reference_ofmap() const;

 private:
  enum class Phase { kArray, kVector, kDone };

  void begin_fold();
  void start_job(std::int64_t read_ifmap, std::int64_t read_filter, std::int64_t read_ofmap,
                 std::int64_t write_ofmap, bool write_first = false);
  void step_channel();
  void step_array_counts(std::int64_t t);
  void step_array_values(std::int64_t t);
  bool tap_valid(std::int64_t m, std::int64_t k) const;
  float ifmap_operand(std::int64_t group, std::int64_t m, std::int64_t k) const;
  float filter_operand(std::int64_t group, std::int64_t k, std::int64_t n) const;
  void emit_output(std::int64_t m, std::int64_t n, float value);
  void fill_operands(std::uint64_t seed);

  ArchConfig arch_;
  Layer layer_;
  Phase phase_ = Phase::kDone;
  bool values_ = false;
  CycleCounters ctr_;

  // ---- array layer ----
  GemmMapping map_;
  DramPlan plan_;
  bool all_taps_valid_ = true;
  // Separable validity of im2col taps: pixel m reads input row base_y_[m] + off_y_[k] and column
  // base_x_[m] + off_x_[k]; the tap is inside the ifmap iff both are in range.
  std::vector<std::int64_t> base_y_, base_x_, off_y_, off_x_, chan_;
  std::int64_t in_h_ = 0, in_w_ = 0, in_c_ = 0, cin_per_group_ = 0;
  std::vector<std::uint8_t> pixel_full_;  // pixel m sees no out-of-range tap
  std::vector<std::uint8_t> tap_full_;    // tap k is in range for every pixel
  bool fold_taps_valid_ = true;           // is: the active fold has no out-of-range tap
  std::vector<std::int64_t> pixel_taps_prefix_;  // in-range taps of pixels 0 .. m-1
  std::vector<std::int64_t> tap_pixels_;         // pixels for which tap k is in range
  std::vector<std::int64_t> row_valid_;   // is: prefix sums of in-range taps per tile row

  // controller
  std::int64_t next_fold_ = 0;    // fold to start next
  bool fold_active_ = false;
  std::int64_t fold_t_ = 0;       // clock within the active fold
  FoldIndex fold_{};
  std::int64_t rows_used_ = 0, cols_used_ = 0, row_base_ = 0, col_base_ = 0;
  std::int64_t prev_fold_writes_ = 0;     // q_{f-1}: w_{f-1} for the next job, 0 if spilled
  std::int64_t cur_fold_writes_ = 0;      // w_f of the active fold
  std::int64_t next_readback_words_ = 0;  // p_{f+1}: the next fold reads back this fold's spill
  bool readback_started_ = false;         // the spill-and-read-back job for it has been issued
  bool final_drain_started_ = false;

  // DRAM channel: one job at a time, read words first, then write words (or, for a
  // spill-and-read-back job, the write first).
  struct Job {
    std::int64_t words[4] = {0, 0, 0, 0};  // ifmap rd, filter rd, ofmap rd, ofmap wr
    bool write_first = false;
    std::int64_t total_words = 0;
    std::int64_t cycles = 0;               // dram_transfer_cycles(total_words)
    std::int64_t done_cycles = 0;
    std::int64_t moved_words = 0;
    bool busy() const { return done_cycles < cycles; }
  } job_;
  // Words the channel has put into the prefetch halves for the next fold; checked when it starts.
  std::int64_t prefetch_words_ = 0;

  // ---- vector layer ----
  VectorPlan vplan_;
  std::int64_t vector_done_ops_ = 0;

  // ---- values (check_values only; flat arrays, sized once per layer) ----
  std::vector<float> ifmap_, filter_, ofmap_;
  std::vector<float> reg_a_, reg_b_, reg_p_, acc_;       // per PE
  std::vector<std::int32_t> tag_a_, tag_b_, tag_p_;      // temporal index carried, -1 = bubble
  std::vector<float> stat_;                              // stationary operand (ws/is)
  std::vector<float> edge_a_, edge_b_;
  std::vector<std::int32_t> edge_tag_a_, edge_tag_b_;
  std::int64_t schedule_outputs_ = 0;
  bool dataflow_error_ = false;  // ofmap words the controller expected (values on)
};

// Convenience: one layer through a fresh engine (no SystemC).
LayerStats simulate_layer_cycle_engine(const ArchConfig& arch, const Layer& layer,
                                       bool check_values = false, std::uint64_t seed = 1);

}  // namespace hwnas::sim
