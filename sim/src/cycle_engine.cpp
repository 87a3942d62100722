// The clock-by-clock accelerator of docs/sim-model.md (see docs/sim-cycle-model.md).
//
// Timing inside a fold (relative clock t, rows x cols array, ru x cu of it used, T temporal):
//   os: ifmap a[m_i][k] enters row i at t = k + i and moves right; filter b[k][n_j] enters
//       column j at t = k + j and moves down; PE(i,j) does MAC k at t = i + j + k and, on its
//       last MAC, drives the result onto column j's output bus (write latency 0).
//       Last event at t = T + rows + cols - 3, so a fold is T + rows + cols - 2 clocks.
//   ws/is: the stationary tile shifts down from the top edge during t = 0 .. rows-1 (last tile
//       row first); the streaming operand's element e enters row i at t = rows + e + i and moves
//       right; partial sums move down and leave column j's bottom at t = 2*rows - 1 + e + j.
//       Last event at t = T + 2*rows + cols - 3, so a fold is T + 2*rows + cols - 2 clocks.
// Partial sums of later row folds are added into the ofmap SRAM at its write port (an
// accumulating write, as in an accumulator buffer), so no ofmap SRAM read is counted.
#include "hwnas/sim/cycle_engine.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "hwnas/common/error.hpp"

namespace hwnas::sim {
namespace {

constexpr std::int64_t range_count(std::int64_t lo, std::int64_t hi) {
  return hi >= lo ? hi - lo + 1 : 0;
}

}  // namespace

CycleEngine::CycleEngine(const ArchConfig& arch) : arch_(arch) {}

void CycleEngine::begin_layer(const Layer& layer, bool check_values, std::uint64_t seed) {
  validate_layer(layer);
  layer_ = layer;
  values_ = check_values;
  ctr_ = CycleCounters{};
  job_ = Job{};
  prefetch_words_ = 0;
  schedule_outputs_ = 0;

  if (layer.kind == LayerKind::kElementwise) {
    phase_ = Phase::kVector;
    vplan_ = plan_vector_layer(arch_, layer);
    vector_done_ops_ = 0;
    // The input streams in from DRAM alongside the vector work when it is not resident.
    start_job(vplan_.dram_read_words, 0, 0, 0);
    return;
  }

  phase_ = Phase::kArray;
  map_ = map_gemm(arch_, layer);
  plan_ = plan_dram(arch_, layer);
  next_fold_ = 0;
  fold_active_ = false;
  fold_t_ = 0;
  prev_fold_writes_ = 0;
  cur_fold_writes_ = 0;
  next_readback_words_ = 0;
  readback_started_ = false;
  final_drain_started_ = false;

  // im2col geometry: separable validity tables (group-independent).
  const std::int64_t m_count = map_.m, k_count = map_.k;
  base_y_.assign(m_count, 0);
  base_x_.assign(m_count, 0);
  off_y_.assign(k_count, 0);
  off_x_.assign(k_count, 0);
  chan_.assign(k_count, 0);
  all_taps_valid_ = true;
  if (layer.kind == LayerKind::kConv2d) {
    in_h_ = layer.in_h;
    in_w_ = layer.in_w;
    in_c_ = layer.in_channels;
    cin_per_group_ = layer.in_channels / layer.groups;
    const std::int64_t ew = layer.out_w();
    for (std::int64_t m = 0; m < m_count; ++m) {
      base_y_[m] = (m / ew) * layer.stride_h - layer.pad_h;
      base_x_[m] = (m % ew) * layer.stride_w - layer.pad_w;
    }
    const std::int64_t row_k = layer.kernel_w * cin_per_group_;  // SCALE-Sim: k = (r*S + s)*C + c
    for (std::int64_t k = 0; k < k_count; ++k) {
      off_y_[k] = (k / row_k) * layer.dilation_h;
      off_x_[k] = ((k % row_k) / cin_per_group_) * layer.dilation_w;
      chan_[k] = k % cin_per_group_;
    }
    // Which pixels see only in-range taps, and which taps are in range for every pixel: lets
    // the per-clock MAC count skip the tap test for folds that lie wholly inside the ifmap.
    const std::int64_t span_y = (layer.kernel_h - 1) * layer.dilation_h;
    const std::int64_t span_x = (layer.kernel_w - 1) * layer.dilation_w;
    const auto [min_y, max_y] = std::minmax_element(base_y_.begin(), base_y_.end());
    const auto [min_x, max_x] = std::minmax_element(base_x_.begin(), base_x_.end());
    pixel_full_.assign(m_count, 0);
    tap_full_.assign(k_count, 0);
    for (std::int64_t m = 0; m < m_count; ++m) {
      pixel_full_[m] = base_y_[m] >= 0 && base_y_[m] + span_y < in_h_ && base_x_[m] >= 0 &&
                       base_x_[m] + span_x < in_w_;
      all_taps_valid_ = all_taps_valid_ && pixel_full_[m];
    }
    // os retires a pixel's MACs when its result leaves; prefix sums of in-range taps per pixel
    // make that one subtraction per clock.
    pixel_taps_prefix_.assign(m_count + 1, 0);
    for (std::int64_t m = 0; m < m_count; ++m) {
      std::int64_t ny = 0, nx = 0;
      for (std::int64_t r = 0; r < layer.kernel_h; ++r)
        ny += static_cast<std::uint64_t>(base_y_[m] + r * layer.dilation_h) <
              static_cast<std::uint64_t>(in_h_);
      for (std::int64_t q = 0; q < layer.kernel_w; ++q)
        nx += static_cast<std::uint64_t>(base_x_[m] + q * layer.dilation_w) <
              static_cast<std::uint64_t>(in_w_);
      pixel_taps_prefix_[m + 1] = pixel_taps_prefix_[m] + ny * nx * cin_per_group_;
    }
    // ws retires a tile row's MACs when its ifmap stream ends: in-range pixels per tap, from
    // the in-range output rows per kernel row times output cols per kernel col (separable).
    const std::int64_t eh = layer.out_h();
    std::vector<std::int64_t> rows_ok(layer.kernel_h, 0), cols_ok(layer.kernel_w, 0);
    for (std::int64_t r = 0; r < layer.kernel_h; ++r)
      for (std::int64_t oy = 0; oy < eh; ++oy)
        rows_ok[r] += static_cast<std::uint64_t>(oy * layer.stride_h - layer.pad_h +
                                                 r * layer.dilation_h) <
                      static_cast<std::uint64_t>(in_h_);
    for (std::int64_t q = 0; q < layer.kernel_w; ++q)
      for (std::int64_t ox = 0; ox < ew; ++ox)
        cols_ok[q] += static_cast<std::uint64_t>(ox * layer.stride_w - layer.pad_w +
                                                 q * layer.dilation_w) <
                      static_cast<std::uint64_t>(in_w_);
    tap_pixels_.assign(k_count, 0);
    for (std::int64_t k = 0; k < k_count; ++k)
      tap_pixels_[k] = rows_ok[k / row_k] * cols_ok[(k % row_k) / cin_per_group_];
    for (std::int64_t k = 0; k < k_count; ++k)
      tap_full_[k] = *min_y + off_y_[k] >= 0 && *max_y + off_y_[k] < in_h_ &&
                     *min_x + off_x_[k] >= 0 && *max_x + off_x_[k] < in_w_;
  }
  row_valid_.assign(map_.rows + 1, 0);

  if (values_) {
    fill_operands(seed);
    const std::size_t pes = static_cast<std::size_t>(map_.rows * map_.cols);
    reg_a_.assign(pes, 0.f);
    reg_b_.assign(pes, 0.f);
    reg_p_.assign(pes, 0.f);
    acc_.assign(pes, 0.f);
    stat_.assign(pes, 0.f);
    tag_a_.assign(pes, -1);
    tag_b_.assign(pes, -1);
    tag_p_.assign(pes, -1);
    edge_a_.assign(map_.rows, 0.f);
    edge_tag_a_.assign(map_.rows, -1);
    edge_b_.assign(map_.cols, 0.f);
    edge_tag_b_.assign(map_.cols, -1);
    dataflow_error_ = false;
  }

  // Fold 0's operands must be in before the array can start (row fold 0 reads nothing back).
  const FoldIndex first = fold_index(map_, 0);
  const FoldDram d0 = fold_dram_words(map_, plan_, first.col_fold, first.row_fold);
  start_job(d0.ifmap_read_words, d0.filter_read_words, d0.ofmap_read_words, 0);
}

void CycleEngine::start_job(std::int64_t read_ifmap, std::int64_t read_filter,
                            std::int64_t read_ofmap, std::int64_t write_ofmap, bool write_first) {
  job_ = Job{};
  job_.words[0] = read_ifmap;
  job_.words[1] = read_filter;
  job_.words[2] = read_ofmap;
  job_.words[3] = write_ofmap;
  job_.write_first = write_first;
  job_.total_words = read_ifmap + read_filter + read_ofmap + write_ofmap;
  job_.cycles = dram_transfer_cycles(arch_, job_.total_words);
  if (job_.cycles == 0) {  // unlimited bandwidth (or nothing to move): in place at once
    job_.moved_words = job_.total_words;
    ctr_.dram_ifmap_reads += read_ifmap;
    ctr_.dram_filter_reads += read_filter;
    ctr_.dram_ofmap_reads += read_ofmap;
    ctr_.dram_ofmap_writes += write_ofmap;
    prefetch_words_ += read_ifmap + read_filter + read_ofmap;
  }
}

void CycleEngine::step_channel() {
  if (!job_.busy()) return;
  ++job_.done_cycles;
  // B words per clock; the last clock of the transfer moves whatever is left.
  std::int64_t moved =
      job_.done_cycles == job_.cycles
          ? job_.total_words
          : std::min<std::int64_t>(job_.total_words,
                                   static_cast<std::int64_t>(std::floor(
                                       static_cast<double>(job_.done_cycles) *
                                       arch_.dram_bandwidth_words_per_cycle)));
  std::int64_t delta = moved - job_.moved_words;
  job_.moved_words = moved;
  // Prefetch jobs move their reads first (the next fold waits for them), then the write-back.
  // A spill-and-read-back job writes first: the partial sums it reads are those it writes.
  std::int64_t* const counters[4] = {&ctr_.dram_ifmap_reads, &ctr_.dram_filter_reads,
                                     &ctr_.dram_ofmap_reads, &ctr_.dram_ofmap_writes};
  static constexpr int kReadsFirst[4] = {0, 1, 2, 3}, kWriteFirst[4] = {3, 0, 1, 2};
  const int* const order = job_.write_first ? kWriteFirst : kReadsFirst;
  for (int i = 0; i < 4 && delta > 0; ++i) {
    const int c = order[i];
    const std::int64_t take = std::min(delta, job_.words[c]);
    job_.words[c] -= take;
    *counters[c] += take;
    if (c < 3) prefetch_words_ += take;
    delta -= take;
  }
}

void CycleEngine::begin_fold() {
  const std::int64_t f = next_fold_;
  fold_ = fold_index(map_, f);
  rows_used_ = map_.rows_used(fold_.row_fold);
  cols_used_ = map_.cols_used(fold_.col_fold);
  row_base_ = fold_.row_fold * map_.rows;
  col_base_ = fold_.col_fold * map_.cols;
  // is: rows are taps, cols are pixels (os and ws count MACs from per-pixel / per-tap tables).
  fold_taps_valid_ = all_taps_valid_;
  if (!fold_taps_valid_ && map_.dataflow == Dataflow::kInputStationary) {
    const auto all_set = [](const std::vector<std::uint8_t>& v, std::int64_t b, std::int64_t n) {
      return std::all_of(v.begin() + b, v.begin() + b + n, [](std::uint8_t x) { return x != 0; });
    };
    fold_taps_valid_ =
        all_set(tap_full_, row_base_, rows_used_) || all_set(pixel_full_, col_base_, cols_used_);
  }
  const FoldDram cur = fold_dram_words(map_, plan_, fold_.col_fold, fold_.row_fold);
  if (prefetch_words_ != cur.read_words())  // the controller may only start a fully loaded fold
    throw RuntimeFailure("cycle engine: fold " + std::to_string(f) + " of '" + layer_.name +
                         "' started with " + std::to_string(prefetch_words_) + " of its " +
                         std::to_string(cur.read_words()) + " words loaded");
  prev_fold_writes_ = cur_fold_writes_;
  cur_fold_writes_ = cur.ofmap_write_words;
  // The halves swap: the prefetched words become active, and the channel starts on the next
  // fold's operands together with the previous fold's deferred write-back. Partial sums the
  // next fold reads back are not fetched now: they are this fold's output, not yet computed.
  prefetch_words_ = 0;
  FoldDram next;
  if (f + 1 < map_.folds()) {
    const FoldIndex nf = fold_index(map_, f + 1);
    next = fold_dram_words(map_, plan_, nf.col_fold, nf.row_fold);
  }
  next_readback_words_ = next.ofmap_read_words;
  readback_started_ = false;
  start_job(next.ifmap_read_words, next.filter_read_words, 0, prev_fold_writes_);
  if (map_.dataflow == Dataflow::kOutputStationary)
    ctr_.sram_ofmap_writes += map_.rows + map_.cols;  // SCALE-Sim's per-fold counter quirk
  fold_active_ = true;
  fold_t_ = 0;
  ++next_fold_;
}

bool CycleEngine::step() {
  // Zero-time transitions first: a fold whose operands are in starts on this clock.
  for (;;) {
    if (phase_ == Phase::kDone) return false;
    if (phase_ == Phase::kVector) {
      if (vector_done_ops_ >= vplan_.ops && !job_.busy()) {
        phase_ = Phase::kDone;
        return false;
      }
      break;
    }
    if (fold_active_ || job_.busy()) break;
    if (next_fold_ < map_.folds()) {
      if (next_readback_words_ > 0 && !readback_started_) {
        // The last fold has ended and the prefetch is in: its spill goes out now, and the next
        // fold's read-back of those same partial sums follows in the same transfer.
        readback_started_ = true;
        start_job(0, 0, next_readback_words_, cur_fold_writes_, true);
        cur_fold_writes_ = 0;  // already in DRAM: the next fold has no write-back to carry
        continue;
      }
      begin_fold();
      break;
    }
    if (!final_drain_started_) {  // the last fold's outputs leave after the array stops
      final_drain_started_ = true;
      start_job(0, 0, 0, cur_fold_writes_);
      continue;
    }
    phase_ = Phase::kDone;
    return false;
  }

  ++ctr_.clocks;
  step_channel();
  if (phase_ == Phase::kVector) {
    if (vector_done_ops_ < vplan_.ops) {
      if (vector_done_ops_ == 0) ctr_.sram_ofmap_reads += vplan_.input_words;
      const std::int64_t ops = std::min(arch_.vector_lanes, vplan_.ops - vector_done_ops_);
      vector_done_ops_ += ops;
      ctr_.vector_ops += ops;
      if (vector_done_ops_ == vplan_.ops) ctr_.sram_ofmap_writes += vplan_.output_words;
      ++ctr_.busy_clocks;
    } else {
      ++ctr_.stall_clocks;
    }
    return true;
  }
  if (fold_active_) {
    if (values_) step_array_values(fold_t_);
    step_array_counts(fold_t_);
    ++ctr_.busy_clocks;
    if (++fold_t_ == map_.cycles_per_fold) {
      fold_active_ = false;
      ++ctr_.folds;
    }
  } else {
    ++ctr_.stall_clocks;
  }
  return true;
}

std::int64_t CycleEngine::run_layer() {
  while (step()) {
  }
  return ctr_.clocks;
}

bool CycleEngine::tap_valid(std::int64_t m, std::int64_t k) const {
  const std::int64_t y = base_y_[m] + off_y_[k];
  const std::int64_t x = base_x_[m] + off_x_[k];
  return static_cast<std::uint64_t>(y) < static_cast<std::uint64_t>(in_h_) &&
         static_cast<std::uint64_t>(x) < static_cast<std::uint64_t>(in_w_);
}

// Edge events of clock t of the active fold: O(rows + cols), the PEs themselves untouched.
void CycleEngine::step_array_counts(std::int64_t t) {
  const std::int64_t T = map_.t, rows = map_.rows, ru = rows_used_, cu = cols_used_;
  if (map_.dataflow == Dataflow::kOutputStationary) {
    const std::int64_t lo = std::max<std::int64_t>(0, t - T + 1);
    ctr_.sram_ifmap_reads += range_count(lo, std::min(ru - 1, t));
    ctr_.sram_filter_reads += range_count(lo, std::min(cu - 1, t));
    // PE(i, j) drives its result at t = T - 1 + i + j and retires its T MAC slots with it.
    const std::int64_t j_lo = std::max<std::int64_t>(0, t - T - ru + 2);
    const std::int64_t j_hi = std::min(cu - 1, t - T + 1);
    const std::int64_t outs = range_count(j_lo, j_hi);
    if (outs > 0) {
      ctr_.sram_ofmap_writes += outs;
      schedule_outputs_ += outs;
      ctr_.mapped_macs += outs * T;
      const std::int64_t i_first = t - T + 1 - j_hi, i_last = t - T + 1 - j_lo;
      ctr_.macs += layer_.kind == LayerKind::kGemm
                       ? outs * T
                       : pixel_taps_prefix_[row_base_ + i_last + 1] -
                             pixel_taps_prefix_[row_base_ + i_first];
    }
    return;
  }

  const bool ws = map_.dataflow == Dataflow::kWeightStationary;
  if (t < rows) {  // preload: tile row rows-1-t enters at the top edge
    const std::int64_t rr = rows - 1 - t;
    if (rr < ru) {
      if (ws) {
        ctr_.sram_filter_reads += cu;
      } else {
        ctr_.sram_ifmap_reads += cu;
        std::int64_t valid = cu;
        if (!fold_taps_valid_) {
          valid = 0;
          for (std::int64_t j = 0; j < cu; ++j) valid += tap_valid(col_base_ + j, row_base_ + rr);
        }
        row_valid_[rr + 1] = valid;
        // Once the tile is in (rr == 0), turn the per-row counts into prefix sums so a clock's
        // MACs are one subtraction: row_valid_[i] = in-range taps of tile rows 0 .. i-1.
        if (rr == 0)
          for (std::int64_t i = 1; i <= ru; ++i) row_valid_[i] += row_valid_[i - 1];
      }
    }
  }
  const std::int64_t tt = t - rows;
  if (tt >= 0) {
    const std::int64_t lo = std::max<std::int64_t>(0, tt - T + 1), hi = std::min(ru - 1, tt);
    const std::int64_t n = range_count(lo, hi);
    ctr_.mapped_macs += n * cu;
    if (ws) {
      ctr_.sram_ifmap_reads += n;
      // Row i's last ifmap element enters at tt = T - 1 + i; the row then retires its MACs.
      const std::int64_t i_done = tt - (T - 1);
      if (i_done >= 0 && i_done < ru)
        ctr_.macs += cu * (layer_.kind == LayerKind::kGemm ? T : tap_pixels_[row_base_ + i_done]);
    } else {
      ctr_.sram_filter_reads += n;
      if (n > 0) ctr_.macs += row_valid_[hi + 1] - row_valid_[lo];
    }
  }
  const std::int64_t te = t - 2 * rows + 1;
  const std::int64_t outs =
      range_count(std::max<std::int64_t>(0, te - T + 1), std::min(cu - 1, te));
  ctr_.sram_ofmap_writes += outs;
  schedule_outputs_ += outs;
}

// Register-level dataflow of clock t: every PE latches its neighbours' registers and computes.
// Rows and columns are walked from the far end so each PE reads the previous clock's values.
void CycleEngine::step_array_values(std::int64_t t) {
  const std::int64_t rows = map_.rows, cols = map_.cols, T = map_.t;
  const std::int64_t ru = rows_used_, cu = cols_used_, g = fold_.group;

  if (map_.dataflow == Dataflow::kOutputStationary) {
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::int64_t k = t - i;
      const bool on = i < ru && k >= 0 && k < T;
      edge_tag_a_[i] = on ? static_cast<std::int32_t>(k) : -1;
      edge_a_[i] = on ? ifmap_operand(g, row_base_ + i, k) : 0.f;
    }
    for (std::int64_t j = 0; j < cols; ++j) {
      const std::int64_t k = t - j;
      const bool on = j < cu && k >= 0 && k < T;
      edge_tag_b_[j] = on ? static_cast<std::int32_t>(k) : -1;
      edge_b_[j] = on ? filter_operand(g, k, col_base_ + j) : 0.f;
    }
    for (std::int64_t i = rows - 1; i >= 0; --i) {
      for (std::int64_t j = cols - 1; j >= 0; --j) {
        const std::int64_t p = i * cols + j;
        const float a = j > 0 ? reg_a_[p - 1] : edge_a_[i];
        const std::int32_t ta = j > 0 ? tag_a_[p - 1] : edge_tag_a_[i];
        const float b = i > 0 ? reg_b_[p - cols] : edge_b_[j];
        const std::int32_t tb = i > 0 ? tag_b_[p - cols] : edge_tag_b_[j];
        reg_a_[p] = a;
        tag_a_[p] = ta;
        reg_b_[p] = b;
        tag_b_[p] = tb;
        if (ta < 0 || tb < 0) continue;
        if (ta != tb) dataflow_error_ = true;  // skew broken: operands of different k met
        acc_[p] = (ta == 0 ? 0.f : acc_[p]) + a * b;
        if (ta == T - 1) emit_output(row_base_ + i, col_base_ + j, acc_[p]);
      }
    }
    return;
  }

  const bool ws = map_.dataflow == Dataflow::kWeightStationary;
  if (t < rows) {  // the stationary tile shifts down one row per clock
    const std::int64_t rr = rows - 1 - t;
    for (std::int64_t j = 0; j < cols; ++j) {
      const bool on = rr < ru && j < cu;
      edge_b_[j] = !on ? 0.f
                   : ws ? filter_operand(g, row_base_ + rr, col_base_ + j)
                        : ifmap_operand(g, col_base_ + j, row_base_ + rr);
    }
    for (std::int64_t i = rows - 1; i >= 0; --i)
      for (std::int64_t j = 0; j < cols; ++j)
        stat_[i * cols + j] = i > 0 ? stat_[(i - 1) * cols + j] : edge_b_[j];
  }
  const std::int64_t tt = t - rows;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t e = tt - i;
    const bool on = i < ru && e >= 0 && e < T;
    edge_tag_a_[i] = on ? static_cast<std::int32_t>(e) : -1;
    edge_a_[i] = !on ? 0.f
                 : ws ? ifmap_operand(g, e, row_base_ + i)
                      : filter_operand(g, row_base_ + i, e);
  }
  for (std::int64_t i = rows - 1; i >= 0; --i) {
    for (std::int64_t j = cols - 1; j >= 0; --j) {
      const std::int64_t p = i * cols + j;
      const float a = j > 0 ? reg_a_[p - 1] : edge_a_[i];
      const std::int32_t ta = j > 0 ? tag_a_[p - 1] : edge_tag_a_[i];
      reg_a_[p] = a;
      tag_a_[p] = ta;
      const float p_in = i > 0 ? reg_p_[p - cols] : 0.f;
      const std::int32_t tp = i > 0 ? tag_p_[p - cols] : ta;
      if (ta >= 0 && ta != tp) dataflow_error_ = true;  // psum met another step's operand
      reg_p_[p] = ta >= 0 ? p_in + stat_[p] * a : p_in;
      tag_p_[p] = tp;
      if (i == rows - 1 && tp >= 0 && j < cu) {
        if (ws)
          emit_output(tp, col_base_ + j, reg_p_[p]);
        else
          emit_output(col_base_ + j, tp, reg_p_[p]);
      }
    }
  }
}

void CycleEngine::emit_output(std::int64_t m, std::int64_t n, float value) {
  // Accumulating write: later row folds add their partial sums at the SRAM port.
  ofmap_[static_cast<std::size_t>((fold_.group * map_.m + m) * map_.n + n)] += value;
  ++ctr_.value_outputs;
}

float CycleEngine::ifmap_operand(std::int64_t group, std::int64_t m, std::int64_t k) const {
  if (layer_.kind == LayerKind::kGemm) return ifmap_[static_cast<std::size_t>(m * map_.k + k)];
  if (!tap_valid(m, k)) return 0.f;  // padding / past the edge: the slot runs on a zero
  const std::int64_t y = base_y_[m] + off_y_[k], x = base_x_[m] + off_x_[k];
  return ifmap_[static_cast<std::size_t>((y * in_w_ + x) * in_c_ + group * cin_per_group_ +
                                         chan_[k])];
}

float CycleEngine::filter_operand(std::int64_t group, std::int64_t k, std::int64_t n) const {
  return filter_[static_cast<std::size_t>((group * map_.n + n) * map_.k + k)];
}

void CycleEngine::fill_operands(std::uint64_t seed) {
  // Small integers keep every partial sum exact in float, so the check can demand equality.
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-3, 3);
  const std::int64_t ifmap_words = layer_.kind == LayerKind::kGemm
                                       ? map_.m * map_.k
                                       : layer_.in_h * layer_.in_w * layer_.in_channels;
  ifmap_.resize(static_cast<std::size_t>(ifmap_words));
  for (float& v : ifmap_) v = static_cast<float>(dist(rng));
  filter_.resize(static_cast<std::size_t>(map_.groups * map_.n * map_.k));
  for (float& v : filter_) v = static_cast<float>(dist(rng));
  ofmap_.assign(static_cast<std::size_t>(map_.groups * map_.m * map_.n), 0.f);
}

std::vector<float> CycleEngine::reference_ofmap() const {
  // Written from the layer's definition (direct convolution), not from the im2col tables.
  std::vector<float> out(static_cast<std::size_t>(map_.groups * map_.m * map_.n), 0.f);
  if (layer_.kind == LayerKind::kGemm) {
    for (std::int64_t m = 0; m < map_.m; ++m)
      for (std::int64_t n = 0; n < map_.n; ++n) {
        float s = 0.f;
        for (std::int64_t k = 0; k < map_.k; ++k)
          s += ifmap_[static_cast<std::size_t>(m * map_.k + k)] *
               filter_[static_cast<std::size_t>(n * map_.k + k)];
        out[static_cast<std::size_t>(m * map_.n + n)] = s;
      }
    return out;
  }
  const Layer& L = layer_;
  const std::int64_t eh = L.out_h(), ew = L.out_w(), cg = L.in_channels / L.groups;
  const std::int64_t fpg = L.out_channels / L.groups;
  for (std::int64_t g = 0; g < L.groups; ++g)
    for (std::int64_t oy = 0; oy < eh; ++oy)
      for (std::int64_t ox = 0; ox < ew; ++ox)
        for (std::int64_t n = 0; n < fpg; ++n) {
          float s = 0.f;
          for (std::int64_t r = 0; r < L.kernel_h; ++r)
            for (std::int64_t q = 0; q < L.kernel_w; ++q) {
              const std::int64_t y = oy * L.stride_h - L.pad_h + r * L.dilation_h;
              const std::int64_t x = ox * L.stride_w - L.pad_w + q * L.dilation_w;
              if (y < 0 || y >= L.in_h || x < 0 || x >= L.in_w) continue;
              for (std::int64_t c = 0; c < cg; ++c) {
                const float in = ifmap_[static_cast<std::size_t>((y * L.in_w + x) * L.in_channels +
                                                                 g * cg + c)];
                // filter layout: [out channel][r][s][c within the group]
                const float w = filter_[static_cast<std::size_t>(
                    ((g * fpg + n) * L.kernel_h * L.kernel_w + r * L.kernel_w + q) * cg + c)];
                s += in * w;
              }
            }
          out[static_cast<std::size_t>((g * map_.m + oy * ew + ox) * map_.n + n)] = s;
        }
  return out;
}

LayerStats CycleEngine::finish_layer() const {
  if (phase_ != Phase::kDone) throw RuntimeFailure("cycle engine: layer '" + layer_.name +
                                                   "' finished before it completed");
  LayerStats s;
  s.layer_name = layer_.name;
  const EnergyModel& e = arch_.energy;
  if (layer_.kind == LayerKind::kElementwise) {
    // The array is idle (compute_cycles 0); the vector unit works busy_clocks clocks and the
    // layer ends when both its work and any input stream are done (no -1: no demand rows).
    s.vector_ops = ctr_.vector_ops;
    s.vector_cycles = ctr_.busy_clocks;
    s.total_cycles = ctr_.clocks;
    s.stall_cycles = ctr_.stall_clocks;
  } else {
    s.compute_cycles = ctr_.busy_clocks - 1;  // SCALE-Sim: the last demand row's cycle index
    s.total_cycles = ctr_.clocks - 1;
    s.stall_cycles = s.total_cycles - s.compute_cycles;
    s.macs = ctr_.macs;
    s.mapped_macs = ctr_.mapped_macs;
    s.folds = ctr_.folds;
    s.mapping_efficiency_pct = 100.0 * mapping_efficiency(map_);
    s.compute_util_pct = 100.0 * compute_utilisation(map_);
    if (s.total_cycles > 0)
      s.overall_util_pct = 100.0 * static_cast<double>(s.mapped_macs) /
                           (static_cast<double>(s.total_cycles) *
                            static_cast<double>(map_.rows * map_.cols));
  }
  s.sram_ifmap_reads = ctr_.sram_ifmap_reads;
  s.sram_filter_reads = ctr_.sram_filter_reads;
  s.sram_ofmap_writes = ctr_.sram_ofmap_writes;
  s.sram_ofmap_reads = ctr_.sram_ofmap_reads;
  s.dram_ifmap_reads = ctr_.dram_ifmap_reads;
  s.dram_filter_reads = ctr_.dram_filter_reads;
  s.dram_ofmap_writes = ctr_.dram_ofmap_writes;
  s.dram_ofmap_reads = ctr_.dram_ofmap_reads;

  fill_layer_energy(e, s);

  if (values_ && layer_.kind != LayerKind::kElementwise) {
    std::ostringstream why;
    if (dataflow_error_) why << "mis-skewed operands met in a PE; ";
    if (ctr_.value_outputs != schedule_outputs_)
      why << "PEs produced " << ctr_.value_outputs << " ofmap words, the controller scheduled "
          << schedule_outputs_ << "; ";
    const std::vector<float> ref = reference_ofmap();
    std::int64_t bad = 0;
    std::size_t first = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
      if (ref[i] != ofmap_[i] && bad++ == 0) first = i;
    if (bad > 0)
      why << bad << " of " << ref.size() << " ofmap values differ from the reference (first at "
          << first << ": " << ofmap_[first] << " vs " << ref[first] << "); ";
    if (!why.str().empty())
      throw RuntimeFailure("cycle engine: layer '" + layer_.name + "' (" +
                           layer_spec_string(layer_) + ", " + dataflow_name(map_.dataflow) +
                           " " + std::to_string(map_.rows) + "x" + std::to_string(map_.cols) +
                           "): " + why.str());
  }
  return s;
}

LayerStats simulate_layer_cycle_engine(const ArchConfig& arch, const Layer& layer,
                                       bool check_values, std::uint64_t seed) {
  CycleEngine engine(arch);
  engine.begin_layer(layer, check_values, seed);
  engine.run_layer();
  return engine.finish_layer();
}

}  // namespace hwnas::sim
