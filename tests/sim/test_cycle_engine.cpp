// The plain-C++ cycle engine: hand-worked cycle counts, real GEMM/conv values against a naive
// reference, and clock-by-clock agreement with the analytic twin on random layers and configs.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "hwnas/common/error.hpp"
#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/cycle_engine.hpp"

namespace hwnas::sim {
namespace {

ArchConfig make_arch(std::int64_t rows, std::int64_t cols, Dataflow df) {
  ArchConfig a;
  a.name = "test";
  a.array_rows = rows;
  a.array_cols = cols;
  a.dataflow = df;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 64;
  a.word_bytes = 1;
  a.dram_bandwidth_unlimited = true;
  a.dram_bandwidth_words_per_cycle = 1;
  a.clock_mhz = 1000;
  a.vector_lanes = 4;
  a.energy.mac_pj = 1;
  a.energy.sram_read_pj_per_word = 2;
  a.energy.sram_write_pj_per_word = 3;
  a.energy.dram_read_pj_per_word = 5;
  a.energy.dram_write_pj_per_word = 7;
  a.energy.vector_op_pj = 0.5;
  a.energy.leakage_pj_per_cycle = 0.25;
  return a;
}

Layer gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  Layer l;
  l.name = "gemm";
  l.kind = LayerKind::kGemm;
  l.gemm_m = m;
  l.gemm_n = n;
  l.gemm_k = k;
  return l;
}

Layer conv(std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t k, std::int64_t r,
           std::int64_t stride = 1, std::int64_t pad = 0, std::int64_t dilation = 1,
           std::int64_t groups = 1) {
  Layer l;
  l.name = "conv";
  l.kind = LayerKind::kConv2d;
  l.in_h = h;
  l.in_w = w;
  l.in_channels = c;
  l.out_channels = k;
  l.kernel_h = l.kernel_w = r;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.dilation_h = l.dilation_w = dilation;
  l.groups = groups;
  return l;
}

LayerStats run(const ArchConfig& arch, const Layer& layer, bool values = false) {
  return simulate_layer_cycle_engine(arch, layer, values, 7);
}

// ---- Hand-worked cases (counts derived on paper from the register timing) ----

// 2x2 os, GEMM 3x3x3: 2 row folds x 2 col folds, each K + rows + cols - 2 = 5 clocks.
TEST(CycleEngineHand, Os2x2Gemm3) {
  const LayerStats s = run(make_arch(2, 2, Dataflow::kOutputStationary), gemm(3, 3, 3), true);
  EXPECT_EQ(s.compute_cycles, 4 * 5 - 1);
  EXPECT_EQ(s.total_cycles, 19);
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_EQ(s.folds, 4);
  EXPECT_EQ(s.macs, 27);
  EXPECT_EQ(s.mapped_macs, 27);
  EXPECT_EQ(s.sram_ifmap_reads, 2 * 9);   // every A row re-streamed for both col folds
  EXPECT_EQ(s.sram_filter_reads, 2 * 9);  // every B column for both row folds
  EXPECT_EQ(s.sram_ofmap_writes, 9 + 4 * (2 + 2));  // + SCALE-Sim's per-fold counter quirk
}

// 2x2 ws, GEMM 3x3x3: folds over K (rows) and N (cols), each M + 2*rows + cols - 2 = 7 clocks.
TEST(CycleEngineHand, Ws2x2Gemm3) {
  const LayerStats s = run(make_arch(2, 2, Dataflow::kWeightStationary), gemm(3, 3, 3), true);
  EXPECT_EQ(s.compute_cycles, 4 * 7 - 1);
  EXPECT_EQ(s.sram_ifmap_reads, 2 * 9);
  EXPECT_EQ(s.sram_filter_reads, 9);      // each weight preloaded once
  EXPECT_EQ(s.sram_ofmap_writes, 2 * 9);  // one partial sum per output per row fold
  EXPECT_EQ(s.macs, 27);
}

TEST(CycleEngineHand, Is2x2Gemm3) {
  const LayerStats s = run(make_arch(2, 2, Dataflow::kInputStationary), gemm(3, 3, 3), true);
  EXPECT_EQ(s.compute_cycles, 4 * 7 - 1);
  EXPECT_EQ(s.sram_ifmap_reads, 9);
  EXPECT_EQ(s.sram_filter_reads, 2 * 9);
  EXPECT_EQ(s.sram_ofmap_writes, 2 * 9);
  EXPECT_EQ(s.macs, 27);
}

// One fold, B = 2 words/clock: 8 words in (4 clocks), 4 compute clocks, 4 words out (2 clocks).
TEST(CycleEngineHand, OsSingleFoldLimitedBandwidth) {
  ArchConfig a = make_arch(2, 2, Dataflow::kOutputStationary);
  a.dram_bandwidth_unlimited = false;
  a.dram_bandwidth_words_per_cycle = 2;
  CycleEngine e(a);
  e.begin_layer(gemm(2, 2, 2));
  EXPECT_EQ(e.run_layer(), 4 + 4 + 2);
  const LayerStats s = e.finish_layer();
  EXPECT_EQ(s.total_cycles, 9);
  EXPECT_EQ(s.compute_cycles, 3);
  EXPECT_EQ(s.stall_cycles, 6);
  EXPECT_EQ(s.dram_ifmap_reads, 4);
  EXPECT_EQ(s.dram_filter_reads, 4);
  EXPECT_EQ(s.dram_ofmap_writes, 4);
}

// Two row folds, B = 1, everything resident. Fold 0 needs its 4 ifmap words + all 4 filter
// words (8 clocks); fold 1's 4 ifmap words load during fold 0 (4 = c); fold 0's 4 outputs leave
// during fold 1; fold 1's outputs drain after it: 8 + 4 + 4 + 4 = 20 clocks.
TEST(CycleEngineHand, OsTwoFoldsOverlap) {
  ArchConfig a = make_arch(2, 2, Dataflow::kOutputStationary);
  a.dram_bandwidth_unlimited = false;
  a.dram_bandwidth_words_per_cycle = 1;
  CycleEngine e(a);
  e.begin_layer(gemm(4, 2, 2));
  EXPECT_EQ(e.run_layer(), 20);
  const LayerStats s = e.finish_layer();
  EXPECT_EQ(s.compute_cycles, 7);
  EXPECT_EQ(s.stall_cycles, 12);
  EXPECT_EQ(s.dram_ifmap_reads, 8);
  EXPECT_EQ(s.dram_filter_reads, 4);
  EXPECT_EQ(s.dram_ofmap_writes, 8);
}

// ws 2x2, GEMM M=2 N=2 K=4, nothing resident (4-word SRAMs), B = 2: two row folds of
// M + 2*rows + cols - 2 = 6 clocks. Fold 0 needs 4 ifmap + 4 weights (clocks 0..3); fold 1's
// 4 + 4 operand words load while fold 0 runs (4..7, fold 0 runs 4..9). Fold 0's 4 spilled
// partial sums leave once it has ended (10..11) and come straight back (12..13); fold 1 runs
// 14..19; its 4 final sums drain 20..21: 22 clocks, 10 of them stalls.
TEST(CycleEngineHand, WsPartialSumSpillLimitedBandwidth) {
  ArchConfig a = make_arch(2, 2, Dataflow::kWeightStationary);
  a.word_bytes = 256;  // 1 KiB = 4 words: half an SRAM holds 2
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 1;
  a.dram_bandwidth_unlimited = false;
  a.dram_bandwidth_words_per_cycle = 2;
  CycleEngine e(a);
  e.begin_layer(gemm(2, 2, 4), true, 3);
  EXPECT_EQ(e.run_layer(), 22);
  const LayerStats s = e.finish_layer();
  EXPECT_EQ(s.compute_cycles, 11);
  EXPECT_EQ(s.stall_cycles, 10);
  EXPECT_EQ(s.dram_ifmap_reads, 8);
  EXPECT_EQ(s.dram_filter_reads, 8);
  EXPECT_EQ(s.dram_ofmap_reads, 4);
  EXPECT_EQ(s.dram_ofmap_writes, 8);
  EXPECT_EQ(s.sram_ofmap_writes, 8);
  EXPECT_EQ(e.ofmap_values(), e.reference_ofmap());
}

// ws 2x2, GEMM M=3 N=4 K=6, nothing resident (4-word SRAMs, Fo = 12), B = 2 words/clock.
// 3 row folds x 2 col folds of 3 + 4 + 2 - 2 = 7 clocks. Every fold needs 6 ifmap words
// (18 * 2/6, re-streamed per col fold) + a 4-word weight tile = 10 operand words (5 clocks) and
// writes its 3x2 slice (6 words); row folds 1 and 2 read back the previous row fold's 6 words.
// Clock by clock (half-open intervals):
//   0..5    fold 0's operands (stall 5)      5..12   fold 0;  fold 1's operands 5..10
//   12..18  fold 0's spill out, then back (12 words, stall 6)
//   18..25  fold 1;  fold 2's operands 18..23
//   25..31  fold 1's spill out and back (stall 6)
//   31..38  fold 2;  fold 3's operands 31..36
//   38..45  fold 3 (col fold 1 starts afresh: nothing to read back); the channel carries fold
//           4's 10 operand words and then fold 2's 6 final outputs: 16 words, 38..46 (stall 1)
//   46..52  fold 3's spill out and back (stall 6)
//   52..59  fold 4;  fold 5's operands 52..57
//   59..65  fold 4's spill out and back (stall 6)
//   65..72  fold 5;  its 6 final outputs drain 72..75 (stall 3)
// 75 clocks: total 74, compute 6*7 - 1 = 41, stalls 5+6+6+1+6+6+3 = 33.
TEST(CycleEngineHand, WsReadBackWaitsForSpillAcrossColFolds) {
  ArchConfig a = make_arch(2, 2, Dataflow::kWeightStationary);
  a.word_bytes = 256;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 1;
  a.dram_bandwidth_unlimited = false;
  a.dram_bandwidth_words_per_cycle = 2;
  const Layer l = gemm(3, 4, 6);
  CycleEngine e(a);
  e.begin_layer(l, true, 5);
  // Causality, clock by clock: no partial sum is read back before it has been written, and a
  // fold's spill is read back only after that fold has completed.
  std::int64_t clocks = 0;
  while (e.step()) {
    ++clocks;
    const CycleCounters& c = e.counters();
    // Spills are the writes of row folds 0 and 1 of each col fold: 6 words per completed one.
    const std::int64_t spilling_done = (c.folds / 3) * 2 + std::min<std::int64_t>(c.folds % 3, 2);
    ASSERT_LE(c.dram_ofmap_reads, c.dram_ofmap_writes) << "clock " << clocks;
    ASSERT_LE(c.dram_ofmap_reads, 6 * spilling_done) << "clock " << clocks;
  }
  EXPECT_EQ(clocks, 75);
  const LayerStats s = e.finish_layer();
  EXPECT_EQ(s.total_cycles, 74);
  EXPECT_EQ(s.compute_cycles, 41);
  EXPECT_EQ(s.stall_cycles, 33);
  EXPECT_EQ(s.dram_ifmap_reads, 2 * 18);
  EXPECT_EQ(s.dram_filter_reads, 24);
  EXPECT_EQ(s.dram_ofmap_reads, 2 * 12);
  EXPECT_EQ(s.dram_ofmap_writes, 3 * 12);
  EXPECT_EQ(e.ofmap_values(), e.reference_ofmap());
  // The analytic twin gets the same figures from the closed-form recurrence.
  const LayerStats t = simulate_layer_analytic(a, l);
  EXPECT_EQ(t.total_cycles, 74);
  EXPECT_EQ(t.stall_cycles, 33);
}

// SCALE-Sim's rn18_conv3_1a (56x56x64 -> 128, 3x3, stride 2, ceil: 28x28 outputs) on 8x8 os:
// M=784, N=128, K=576, 98 x 16 folds of 576 + 14 clocks; SCALE-Sim reports 925,119 cycles.
TEST(CycleEngineHand, ScaleSimConv3_1Os8x8) {
  Layer l = conv(56, 56, 64, 128, 3, 2);
  l.rounding = OutputRounding::kCeil;
  const LayerStats s = run(make_arch(8, 8, Dataflow::kOutputStationary), l);
  EXPECT_EQ(s.compute_cycles, 925'119);
  EXPECT_EQ(s.total_cycles, 925'119);
  EXPECT_EQ(s.sram_ifmap_reads, 16LL * 784 * 576);
  EXPECT_EQ(s.sram_filter_reads, 98LL * 576 * 128);
  EXPECT_EQ(s.sram_ofmap_writes, 784LL * 128 + 98 * 16 * (8 + 8));
  EXPECT_EQ(s.mapped_macs, 784LL * 128 * 576);
  // The extra edge window (oy or ox = 27) spans rows/cols 54..56 and 56 is past the ifmap, so
  // per axis there are 27*3 + 2 in-range (window, tap) pairs.
  EXPECT_EQ(s.macs, (27LL * 3 + 2) * (27 * 3 + 2) * 64 * 128);
}

// A 3x3 conv with pad 1 on a 3x3 input: the corner outputs see 4 of 9 taps, edges 6, centre 9.
TEST(CycleEngineHand, PaddedTapsAreMappedButNotUseful) {
  const LayerStats s = run(make_arch(4, 4, Dataflow::kOutputStationary), conv(3, 3, 1, 1, 3, 1, 1),
                           true);
  EXPECT_EQ(s.mapped_macs, 9 * 9);
  EXPECT_EQ(s.macs, 4 * 4 + 4 * 6 + 9);
}

// Vector unit: relu over 10 elements on 4 lanes = 3 clocks, no DRAM (input resident).
TEST(CycleEngineHand, VectorRelu) {
  Layer l;
  l.name = "relu";
  l.kind = LayerKind::kElementwise;
  l.elementwise_op = ElementwiseOp::kRelu;
  l.in_h = 1;
  l.in_w = 10;
  l.in_channels = 1;
  const LayerStats s = run(make_arch(2, 2, Dataflow::kOutputStationary), l);
  EXPECT_EQ(s.vector_ops, 10);
  EXPECT_EQ(s.vector_cycles, 3);
  EXPECT_EQ(s.total_cycles, 3);
  EXPECT_EQ(s.sram_ofmap_reads, 10);
  EXPECT_EQ(s.sram_ofmap_writes, 10);
}

// ---- Functional correctness: the register-level array computes the real layer ----

Dataflow pick_dataflow(std::mt19937_64& rng) {
  return static_cast<Dataflow>(std::uniform_int_distribution<int>(0, 2)(rng));
}

TEST(CycleEngineValues, RandomLayersMatchNaiveReference) {
  const std::uint64_t seed = 20261204;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 120; ++trial) {
    const ArchConfig a = make_arch(uni(1, 6), uni(1, 6), pick_dataflow(rng));
    Layer l;
    switch (trial % 6) {
      case 0: l = gemm(uni(1, 9), uni(1, 9), uni(1, 9)); break;
      case 1: l = conv(uni(3, 7), uni(3, 7), uni(1, 3), uni(1, 4), 3, 1, uni(0, 1)); break;
      case 2: {
        const int r = uni(1, 3);
        l = conv(uni(4, 8), uni(4, 8), uni(1, 3), uni(1, 3), r, 2, r > 1 ? uni(0, 1) : 0);
        break;
      }
      case 3: l = conv(uni(5, 8), uni(5, 8), uni(1, 2), uni(1, 3), 2, 1, uni(0, 1), 2); break;
      case 4: {  // depthwise
        const int c = uni(1, 4);
        l = conv(uni(3, 6), uni(3, 6), c, c, 3, uni(1, 2), 1, 1, c);
        break;
      }
      default: {  // grouped, rectangular, ceil rounding (SCALE-Sim's extra edge window)
        l = conv(uni(4, 7), uni(5, 8), 4, 6, 2, 2, 0, 1, 2);
        l.kernel_w = 3;
        l.stride_w = uni(1, 2);
        l.rounding = OutputRounding::kCeil;
        break;
      }
    }
    std::ostringstream where;
    where << "seed " << seed << " trial " << trial << ": " << layer_spec_string(l) << " on "
          << a.array_rows << "x" << a.array_cols << " " << dataflow_name(a.dataflow);
    SCOPED_TRACE(where.str());
    CycleEngine e(a);
    e.begin_layer(l, true, seed + trial);
    e.run_layer();
    LayerStats s;
    ASSERT_NO_THROW(s = e.finish_layer());
    EXPECT_EQ(e.ofmap_values(), e.reference_ofmap());
    EXPECT_EQ(s.macs, layer_macs(l));
  }
}

// The value check must fail loudly when the array's result is wrong: compare two different
// operand draws (a broken array would look like this to the check).
TEST(CycleEngineValues, ReferenceDependsOnOperands) {
  const ArchConfig a = make_arch(3, 3, Dataflow::kWeightStationary);
  CycleEngine e1(a), e2(a);
  e1.begin_layer(gemm(4, 4, 4), true, 1);
  e2.begin_layer(gemm(4, 4, 4), true, 2);
  e1.run_layer();
  e2.run_layer();
  EXPECT_NE(e1.ofmap_values(), e2.ofmap_values());
  EXPECT_EQ(e1.ofmap_values(), e1.reference_ofmap());
}

// ---- Agreement with the analytic twin ----

void expect_same(const LayerStats& c, const LayerStats& a) {
  EXPECT_EQ(c.total_cycles, a.total_cycles);
  EXPECT_EQ(c.compute_cycles, a.compute_cycles);
  EXPECT_EQ(c.stall_cycles, a.stall_cycles);
  EXPECT_EQ(c.macs, a.macs);
  EXPECT_EQ(c.mapped_macs, a.mapped_macs);
  EXPECT_EQ(c.vector_ops, a.vector_ops);
  EXPECT_EQ(c.vector_cycles, a.vector_cycles);
  EXPECT_EQ(c.folds, a.folds);
  EXPECT_EQ(c.sram_ifmap_reads, a.sram_ifmap_reads);
  EXPECT_EQ(c.sram_filter_reads, a.sram_filter_reads);
  EXPECT_EQ(c.sram_ofmap_writes, a.sram_ofmap_writes);
  EXPECT_EQ(c.sram_ofmap_reads, a.sram_ofmap_reads);
  EXPECT_EQ(c.dram_ifmap_reads, a.dram_ifmap_reads);
  EXPECT_EQ(c.dram_filter_reads, a.dram_filter_reads);
  EXPECT_EQ(c.dram_ofmap_reads, a.dram_ofmap_reads);
  EXPECT_EQ(c.dram_ofmap_writes, a.dram_ofmap_writes);
  EXPECT_DOUBLE_EQ(c.overall_util_pct, a.overall_util_pct);
  EXPECT_DOUBLE_EQ(c.energy_total_pj(), a.energy_total_pj());
}

Layer random_layer(std::mt19937_64& rng) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int kind = uni(0, 9);
  if (kind == 0) return gemm(uni(1, 40), uni(1, 40), uni(1, 40));
  if (kind == 1) {
    Layer l;
    l.name = "ew";
    l.kind = LayerKind::kElementwise;
    l.elementwise_op = static_cast<ElementwiseOp>(uni(0, 5));
    l.in_h = uni(2, 12);
    l.in_w = uni(2, 12);
    l.in_channels = uni(1, 16);
    l.kernel_h = l.kernel_w = uni(1, 2);
    l.stride_h = l.stride_w = uni(1, 2);
    return l;
  }
  const int groups = uni(0, 3) == 0 ? uni(1, 4) : 1;
  const int cpg = uni(1, 6), fpg = uni(1, 8);
  Layer l = conv(uni(3, 14), uni(3, 14), groups * cpg, groups * fpg, uni(1, 3), uni(1, 3),
                 0, uni(1, 2), groups);
  const std::int64_t span = l.dilation_h * (l.kernel_h - 1) + 1;
  l.pad_h = l.pad_w = uni(0, static_cast<int>(span) - 1);
  if (span > l.in_h + 2 * l.pad_h || span > l.in_w + 2 * l.pad_w) l.dilation_h = l.dilation_w = 1;
  if (uni(0, 3) == 0) l.rounding = OutputRounding::kCeil;
  return l;
}

ArchConfig random_arch(std::mt19937_64& rng) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ArchConfig a = make_arch(uni(1, 9), uni(1, 9), pick_dataflow(rng));
  a.word_bytes = 1 << uni(0, 3);  // 1..8 bytes: SRAM halves of 64..512 words at 1 KiB
  a.ifmap_sram_kib = uni(1, 2);
  a.filter_sram_kib = uni(1, 2);
  a.ofmap_sram_kib = uni(1, 2);
  static const double kBandwidths[] = {0.3, 0.5, 1, 1.5, 2, 3, 7.25, 16};
  a.dram_bandwidth_unlimited = uni(0, 4) == 0;
  a.dram_bandwidth_words_per_cycle = kBandwidths[uni(0, 7)];
  a.vector_lanes = uni(1, 8);
  return a;
}

TEST(CycleEngineVsAnalytic, RandomLayersAllDataflows) {
  const std::uint64_t seed = 4242;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  struct {
    int stalls = 0, psum_reads = 0, restream = 0, vector_stalls = 0, groups = 0;
  } covered;
  for (int trial = 0; trial < 1500; ++trial) {
    const ArchConfig a = random_arch(rng);
    Layer l = random_layer(rng);
    std::ostringstream where;
    where << "seed " << seed << " trial " << trial << ": " << layer_spec_string(l)
          << (l.rounding == OutputRounding::kCeil ? " (ceil)" : "") << " on " << a.array_rows
          << "x" << a.array_cols << " " << dataflow_name(a.dataflow) << " sram "
          << a.ifmap_sram_words() << "/" << a.filter_sram_words() << "/" << a.ofmap_sram_words()
          << " B=" << (a.dram_bandwidth_unlimited ? -1.0 : a.dram_bandwidth_words_per_cycle);
    SCOPED_TRACE(where.str());
    const bool values = trial % 8 == 0 && l.kind != LayerKind::kElementwise;
    const LayerStats c = simulate_layer_cycle_engine(a, l, values, seed + trial);
    expect_same(c, simulate_layer_analytic(a, l));
    if (HasFailure()) break;
    covered.stalls += c.stall_cycles > 0 && c.compute_cycles > 0;
    covered.psum_reads += c.dram_ofmap_reads > 0;
    covered.restream += l.kind != LayerKind::kElementwise &&
                        c.dram_ifmap_reads + c.dram_filter_reads > 2 * (c.folds + 1) &&
                        c.dram_ifmap_reads > gemm_footprints(l).ifmap_words * gemm_shape(l).groups;
    covered.vector_stalls += l.kind == LayerKind::kElementwise && c.stall_cycles > 0;
    covered.groups += l.kind == LayerKind::kConv2d && l.groups > 1;
  }
  // The random draw must reach every regime the model distinguishes.
  EXPECT_GT(covered.stalls, 100);
  EXPECT_GT(covered.psum_reads, 20);
  EXPECT_GT(covered.restream, 20);
  EXPECT_GT(covered.vector_stalls, 5);
  EXPECT_GT(covered.groups, 50);
}

// Causality on random ws/is layers whose ofmap spills: at every clock, the partial sums read
// back never outnumber the words written so far, nor the spills of the folds completed so far.
TEST(CycleEngineVsAnalytic, PartialSumsAreReadOnlyAfterTheyAreWritten) {
  const std::uint64_t seed = 77;
  std::mt19937_64 rng(seed);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int spilled = 0;
  for (int trial = 0; trial < 60; ++trial) {
    ArchConfig a = make_arch(uni(1, 4), uni(1, 4),
                             trial % 2 ? Dataflow::kWeightStationary : Dataflow::kInputStationary);
    a.word_bytes = 64;  // 1 KiB = 16 words: half an SRAM holds 8
    a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 1;
    a.dram_bandwidth_unlimited = false;
    static const double kBandwidths[] = {0.5, 1, 1.5, 3, 16};
    a.dram_bandwidth_words_per_cycle = kBandwidths[uni(0, 4)];
    const Layer l = gemm(uni(3, 8), uni(3, 8), uni(3, 10));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + layer_spec_string(l) + " on " +
                 std::to_string(a.array_rows) + "x" + std::to_string(a.array_cols) + " " +
                 dataflow_name(a.dataflow) + " B=" +
                 std::to_string(a.dram_bandwidth_words_per_cycle));
    const GemmMapping m = map_gemm(a, l);
    const DramPlan plan = plan_dram(a, l);
    // Spill words of folds 0 .. f-1: the writes of every fold the next fold reads back.
    std::vector<std::int64_t> spill_prefix(1, 0);
    for (std::int64_t f = 0; f < m.folds(); ++f) {
      const FoldIndex idx = fold_index(m, f);
      std::int64_t spill = 0;
      if (f + 1 < m.folds()) {
        const FoldIndex nx = fold_index(m, f + 1);
        if (fold_dram_words(m, plan, nx.col_fold, nx.row_fold).reads_back())
          spill = fold_dram_words(m, plan, idx.col_fold, idx.row_fold).ofmap_write_words;
      }
      spill_prefix.push_back(spill_prefix.back() + spill);
    }
    CycleEngine e(a);
    e.begin_layer(l);
    while (e.step()) {
      const CycleCounters& c = e.counters();
      ASSERT_LE(c.dram_ofmap_reads, c.dram_ofmap_writes) << "clock " << c.clocks;
      ASSERT_LE(c.dram_ofmap_reads, spill_prefix[static_cast<std::size_t>(c.folds)])
          << "clock " << c.clocks;
    }
    const LayerStats s = e.finish_layer();
    spilled += s.dram_ofmap_reads > 0;
    expect_same(s, simulate_layer_analytic(a, l));
  }
  EXPECT_GT(spilled, 30);
}

// The engine is reusable: a second layer after the first starts from a clean accelerator.
TEST(CycleEngineVsAnalytic, EngineReuseAcrossLayers) {
  ArchConfig a = make_arch(4, 3, Dataflow::kInputStationary);
  a.dram_bandwidth_unlimited = false;
  a.dram_bandwidth_words_per_cycle = 2;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 1;
  CycleEngine e(a);
  const Layer layers[] = {conv(8, 8, 4, 8, 3, 1, 1), gemm(30, 20, 10), conv(9, 9, 6, 6, 3, 2, 1, 1, 6)};
  for (const Layer& l : layers) {
    SCOPED_TRACE(layer_spec_string(l));
    e.begin_layer(l);
    e.run_layer();
    expect_same(e.finish_layer(), simulate_layer_analytic(a, l));
  }
}

}  // namespace
}  // namespace hwnas::sim
