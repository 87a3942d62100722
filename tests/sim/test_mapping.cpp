#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/mapping.hpp"

using namespace hwnas::sim;

namespace {

ArchConfig small_arch(std::int64_t rows, std::int64_t cols, Dataflow df, std::int64_t sram_kib,
                      std::int64_t word_bytes, double bandwidth) {
  ArchConfig a;
  a.name = "t";
  a.array_rows = rows;
  a.array_cols = cols;
  a.dataflow = df;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = sram_kib;
  a.word_bytes = word_bytes;
  a.dram_bandwidth_words_per_cycle = bandwidth;
  a.clock_mhz = 100;
  a.vector_lanes = cols;
  return a;
}

Layer gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  Layer l;
  l.kind = LayerKind::kGemm;
  l.gemm_m = m, l.gemm_n = n, l.gemm_k = k;
  return l;
}

}  // namespace

TEST(Mapping, CyclesPerFoldPerDataflow) {
  // T=5 on a 4x3 array: os 5+4+3-2, ws/is 5+8+3-2.
  EXPECT_EQ(cycles_per_fold(Dataflow::kOutputStationary, 5, 4, 3), 10);
  EXPECT_EQ(cycles_per_fold(Dataflow::kWeightStationary, 5, 4, 3), 14);
  EXPECT_EQ(cycles_per_fold(Dataflow::kInputStationary, 5, 4, 3), 14);
  EXPECT_EQ(scalesim_util_cycles_per_fold(Dataflow::kOutputStationary, 5, 4, 3), 10);
  EXPECT_EQ(scalesim_util_cycles_per_fold(Dataflow::kWeightStationary, 5, 4, 3), 5 + 8 + 6 - 3);
  EXPECT_EQ(scalesim_util_cycles_per_fold(Dataflow::kInputStationary, 5, 4, 3), 16);
}

TEST(Mapping, SpatialAndTemporalAxes) {
  const GemmShape g{10, 6, 5, 1};  // M, N, K
  const GemmMapping os = map_gemm(Dataflow::kOutputStationary, g, 4, 4);
  EXPECT_EQ(os.sr, 10);
  EXPECT_EQ(os.sc, 6);
  EXPECT_EQ(os.t, 5);
  EXPECT_EQ(os.row_folds, 3);
  EXPECT_EQ(os.col_folds, 2);
  EXPECT_EQ(os.rows_used(2), 2);
  EXPECT_EQ(os.cols_used(1), 2);
  EXPECT_EQ(os.compute_cycles(), 6 * 11 - 1);
  const GemmMapping ws = map_gemm(Dataflow::kWeightStationary, g, 4, 4);
  EXPECT_EQ(ws.sr, 5);
  EXPECT_EQ(ws.sc, 6);
  EXPECT_EQ(ws.t, 10);
  const GemmMapping is = map_gemm(Dataflow::kInputStationary, g, 4, 4);
  EXPECT_EQ(is.sr, 5);
  EXPECT_EQ(is.sc, 10);
  EXPECT_EQ(is.t, 6);
  EXPECT_EQ(is.row_folds, 2);
  EXPECT_EQ(is.col_folds, 3);
}

TEST(Mapping, FoldOrderIsGroupThenColThenRow) {
  const GemmMapping m = map_gemm(Dataflow::kOutputStationary, GemmShape{10, 6, 5, 2}, 4, 4);
  ASSERT_EQ(m.folds(), 12);
  std::int64_t f = 0;
  for (std::int64_t g = 0; g < 2; ++g)
    for (std::int64_t cf = 0; cf < 2; ++cf)
      for (std::int64_t rf = 0; rf < 3; ++rf, ++f) {
        const FoldIndex idx = fold_index(m, f);
        EXPECT_EQ(idx.group, g);
        EXPECT_EQ(idx.col_fold, cf);
        EXPECT_EQ(idx.row_fold, rf);
      }
}

TEST(Mapping, MappingEfficiencyIsMeanOverFolds) {
  // SCALE-Sim defines it as the mean over folds of rows_used*cols_used / (rows*cols).
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    const GemmMapping m = map_gemm(df, GemmShape{37, 11, 23, 1}, 8, 5);
    double sum = 0;
    for (std::int64_t cf = 0; cf < m.col_folds; ++cf)
      for (std::int64_t rf = 0; rf < m.row_folds; ++rf)
        sum += static_cast<double>(m.rows_used(rf) * m.cols_used(cf)) / (8.0 * 5.0);
    EXPECT_DOUBLE_EQ(mapping_efficiency(m), sum / static_cast<double>(m.folds_per_group()));
  }
}

TEST(Mapping, ShareWordsIsCumulativeFloor) {
  // F = 10 words over U = 4 units, slices [0,3) and [3,4): floor(30/4) = 7, then 10 - 7 = 3.
  EXPECT_EQ(share_words(10, 0, 3, 4), 7);
  EXPECT_EQ(share_words(10, 3, 4, 4), 3);
  // Any partition sums to F exactly.
  for (std::int64_t units : {1, 7, 64, 1000}) {
    for (std::int64_t fp : {0, 1, 13, 999, 123457}) {
      std::int64_t sum = 0;
      for (std::int64_t u = 0; u < units; u += 3)
        sum += share_words(fp, u, std::min(u + 3, units), units);
      EXPECT_EQ(sum, fp) << fp << " over " << units;
    }
  }
  // Huge footprints do not overflow: 2^40 words over 2^30 units, one unit = 1024 words.
  EXPECT_EQ(share_words(std::int64_t{1} << 40, 5, 6, std::int64_t{1} << 30), 1024);
}

TEST(Mapping, DramTransferCycles) {
  EXPECT_EQ(dram_transfer_cycles(0, 2.0, false), 0);
  EXPECT_EQ(dram_transfer_cycles(9, 3.0, false), 3);
  EXPECT_EQ(dram_transfer_cycles(10, 3.0, false), 4);
  EXPECT_EQ(dram_transfer_cycles(6, 0.1, false), 60);  // 0.1 is not exact in binary
  EXPECT_EQ(dram_transfer_cycles(6, 1.2, false), 5);
  EXPECT_EQ(dram_transfer_cycles(1000000, 1.0, true), 0);
}

TEST(Mapping, TimelineHandWorked) {
  // B = 2: S0 = 10/2 = 5; S1 = 5 + max(5, 4/2) = 10; S2 = 10 + max(5, (4+2)/2) = 15;
  // E = 20; w0 already gone, w1 (2 words) drains 15..16 < 20; then w2: end = 20 + 1 = 21.
  DramTimeline a(2.0, false);
  a.add_fold(10, 0, 5, 2);
  a.add_fold(4, 0, 5, 2);
  a.add_fold(4, 0, 5, 2);
  EXPECT_EQ(a.end_cycle(), 21);
  // B = 1: S0 = 10; S1 = 10 + max(5, 4) = 15; S2 = 15 + max(5, 4+2) = 21; E = 26;
  // w1 drains 21..23; w2 drains 26..28.
  DramTimeline b(1.0, false);
  b.add_fold(10, 0, 5, 2);
  b.add_fold(4, 0, 5, 2);
  b.add_fold(4, 0, 5, 2);
  EXPECT_EQ(b.end_cycle(), 28);
  EXPECT_EQ(b.compute_cycles_sum(), 15);
  // Write-bound: w0 (10 words at B = 1) is still queued when the last fold ends at 2:
  // it drains 1..11, then w1 11..21.
  DramTimeline c(1.0, false);
  c.add_fold(0, 0, 1, 10);
  c.add_fold(0, 0, 1, 10);
  EXPECT_EQ(c.end_cycle(), 21);
  // Unlimited: end = sum of fold cycles.
  DramTimeline d(0, true);
  d.add_fold(1000, 0, 7, 1000);
  d.add_fold(1000, 1000, 9, 1000);
  EXPECT_EQ(d.end_cycle(), 16);
  EXPECT_EQ(DramTimeline(1.0, false).end_cycle(), 0);
}

TEST(Mapping, TimelineReadBackWaitsForTheSpill) {
  // B = 1, three folds of 5 cycles, 2 operand words and 3 written words each; fold 1 reads back
  // fold 0's 3-word spill, fold 2 reads nothing back.
  //   0..2   fold 0's operands;            fold 0 runs 2..7, fold 1's operands load 2..4
  //   7..13  fold 0's spill out (7..10), then read back (10..13): the array waits 6 cycles
  //   13     fold 1 runs 13..18; fold 2's operands load 13..15 (fold 0's write-back is gone)
  //   18     fold 2 runs 18..23; fold 1's write-back (3) drains 18..21
  //   23     fold 2's write-back drains 23..26
  DramTimeline t(1.0, false);
  t.add_fold(2, 0, 5, 3);
  t.add_fold(2, 3, 5, 3);
  EXPECT_EQ(t.start_of_last_fold(), 13);
  t.add_fold(2, 0, 5, 3);
  EXPECT_EQ(t.start_of_last_fold(), 18);
  EXPECT_EQ(t.end_cycle(), 26);
  // A fold that reads back is never started before the fold it reads from has ended and its
  // spill has crossed the channel twice, however fast the operand prefetch is.
  DramTimeline u(4.0, false);
  u.add_fold(0, 0, 10, 8);
  u.add_fold(0, 8, 10, 8);
  EXPECT_EQ(u.start_of_last_fold(), 10 + 16 / 4);
  EXPECT_EQ(u.end_cycle(), 14 + 10 + 2);
}

TEST(Mapping, OsFoldWordsResidentAndStreamed) {
  // GEMM M=4, N=4, K=4 on 2x2 os: Fi = M*K = 16, Ff = 16; row slice = 2 of 4 pixels,
  // col slice = 2 of 4 filters, so each share is 8 words.
  const Layer l = gemm(4, 4, 4);
  const ArchConfig big = small_arch(2, 2, Dataflow::kOutputStationary, 64, 1, 1.0);
  const GemmMapping m = map_gemm(big, l);
  const DramPlan res = plan_dram(big, l);
  ASSERT_TRUE(res.ifmap_resident && res.filter_resident && res.ofmap_resident);
  // (cf, rf) -> (ifmap, filter): resident ifmap only in col fold 0, filter only at row fold 0.
  const std::int64_t want_res[2][2][2] = {{{8, 8}, {8, 0}}, {{0, 8}, {0, 0}}};
  for (int cf = 0; cf < 2; ++cf)
    for (int rf = 0; rf < 2; ++rf) {
      const FoldDram d = fold_dram_words(m, res, cf, rf);
      EXPECT_EQ(d.ifmap_read_words, want_res[cf][rf][0]) << cf << rf;
      EXPECT_EQ(d.filter_read_words, want_res[cf][rf][1]) << cf << rf;
      EXPECT_EQ(d.ofmap_write_words, 4);
      EXPECT_EQ(d.ofmap_read_words, 0);
    }
  // Streamed: every fold fetches its slices again.
  DramPlan streamed = res;
  streamed.ifmap_resident = streamed.filter_resident = streamed.ofmap_resident = false;
  for (int cf = 0; cf < 2; ++cf)
    for (int rf = 0; rf < 2; ++rf) {
      const FoldDram d = fold_dram_words(m, streamed, cf, rf);
      EXPECT_EQ(d.ifmap_read_words, 8);
      EXPECT_EQ(d.filter_read_words, 8);
      EXPECT_EQ(d.ofmap_write_words, 4);  // os outputs are final: no partial sums
    }
}

TEST(Mapping, WsAndIsPartialSums) {
  // GEMM M=3, N=5, K=6 on a 4x4 array.
  const Layer l = gemm(3, 5, 6);
  for (Dataflow df : {Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    const ArchConfig a = small_arch(4, 4, df, 64, 1, 1.0);
    const GemmMapping m = map_gemm(a, l);
    DramPlan plan = plan_dram(a, l);
    ASSERT_TRUE(plan.ofmap_resident);
    ASSERT_EQ(m.row_folds, 2);  // Sr = K = 6
    std::int64_t writes = 0, reads = 0, ifmap = 0, filter = 0;
    for (std::int64_t cf = 0; cf < m.col_folds; ++cf)
      for (std::int64_t rf = 0; rf < m.row_folds; ++rf) {
        const FoldDram d = fold_dram_words(m, plan, cf, rf);
        // A col slice is complete, and written once, after its last row fold.
        const std::int64_t slice =
            df == Dataflow::kWeightStationary ? 3 * m.cols_used(cf) : m.cols_used(cf) * 5;
        EXPECT_EQ(d.ofmap_write_words, rf == 1 ? slice : 0);
        writes += d.ofmap_write_words;
        reads += d.ofmap_read_words;
        ifmap += d.ifmap_read_words;
        filter += d.filter_read_words;
      }
    EXPECT_EQ(writes, 15);
    EXPECT_EQ(reads, 0);
    EXPECT_EQ(ifmap, 18);  // Fi = M*K, each ifmap word once
    EXPECT_EQ(filter, 30);
    plan.ofmap_resident = false;
    writes = reads = 0;
    for (std::int64_t cf = 0; cf < m.col_folds; ++cf)
      for (std::int64_t rf = 0; rf < m.row_folds; ++rf) {
        const FoldDram d = fold_dram_words(m, plan, cf, rf);
        EXPECT_EQ(d.ofmap_read_words > 0, rf > 0);
        writes += d.ofmap_write_words;
        reads += d.ofmap_read_words;
      }
    EXPECT_EQ(writes, 2 * 15);  // every row fold spills its partial sums
    EXPECT_EQ(reads, 1 * 15);   // every row fold after the first reads them back
  }
}

TEST(Mapping, IsIfmapSharesFollowTilesInFoldOrder) {
  // is: the K x M ifmap operand (8 x 4 here, U = 32 units) is cut into tiles in fold order; a
  // conv ifmap footprint H*W*C differs from K*M, so shares are cumulative floors of it.
  Layer l;
  l.kind = LayerKind::kConv2d;
  l.in_h = 3, l.in_w = 3, l.in_channels = 2, l.out_channels = 2;
  l.kernel_h = 2, l.kernel_w = 2, l.stride_h = l.stride_w = 1;  // M = 4, K = 8, Fi = 18
  const ArchConfig a = small_arch(4, 3, Dataflow::kInputStationary, 64, 1, 1.0);
  const GemmMapping m = map_gemm(a, l);
  const DramPlan plan = plan_dram(a, l);
  ASSERT_EQ(m.sr, 8);
  ASSERT_EQ(m.sc, 4);
  // Fold order (cf, rf): (0,0) tile 4x3 = units [0,12); (0,1) [12,24); (1,0) 4x1 [24,28);
  // (1,1) [28,32). U = 32, F = 18: floors of 18*u/32 at 0,12,24,28,32 = 0,6,13,15,18.
  const std::int64_t want[] = {6, 7, 2, 3};
  int i = 0;
  for (std::int64_t cf = 0; cf < 2; ++cf)
    for (std::int64_t rf = 0; rf < 2; ++rf)
      EXPECT_EQ(fold_dram_words(m, plan, cf, rf).ifmap_read_words, want[i++]);
}

TEST(Mapping, ResidencyUsesHalfTheBuffer) {
  // 1 KiB of 8-byte words = 128 words; resident means footprint <= 64.
  const ArchConfig a = small_arch(4, 4, Dataflow::kOutputStationary, 1, 8, 1.0);
  EXPECT_TRUE(plan_dram(a, Footprints{64, 64, 64}).ifmap_resident);
  const DramPlan p = plan_dram(a, Footprints{65, 64, 65});
  EXPECT_FALSE(p.ifmap_resident);
  EXPECT_TRUE(p.filter_resident);
  EXPECT_FALSE(p.ofmap_resident);
}

TEST(Mapping, VectorPlan) {
  ArchConfig a = small_arch(4, 4, Dataflow::kOutputStationary, 1, 8, 1.0);  // ofmap 128 words
  a.vector_lanes = 8;
  Layer relu;
  relu.kind = LayerKind::kElementwise;
  relu.elementwise_op = ElementwiseOp::kRelu;
  relu.in_h = 4, relu.in_w = 4, relu.in_channels = 4;  // 64 elements: fits in half (64)
  VectorPlan p = plan_vector_layer(a, relu);
  EXPECT_EQ(p.ops, 64);
  EXPECT_EQ(p.cycles, 8);
  EXPECT_EQ(p.dram_read_words, 0);
  EXPECT_EQ(p.total_cycles, 8);
  relu.in_channels = 8;  // 128 elements: streams in at 1 word/cycle
  p = plan_vector_layer(a, relu);
  EXPECT_EQ(p.cycles, 16);
  EXPECT_EQ(p.dram_read_words, 128);
  EXPECT_EQ(p.total_cycles, 128);
  Layer add = relu;
  add.elementwise_op = ElementwiseOp::kAdd;
  add.in_channels = 2;  // 32 elements, two inputs = 64 words read
  p = plan_vector_layer(a, add);
  EXPECT_EQ(p.input_words, 64);
  EXPECT_EQ(p.output_words, 32);
  EXPECT_EQ(p.dram_read_words, 0);
}

TEST(Mapping, SramCountsEqualPerFoldEnumeration) {
  // Count what each fold streams through the array edges: the stationary operand is loaded once
  // per fold (rows_used x cols_used), a streamed operand enters along its edge for T cycles.
  // os additionally has SCALE-Sim's rows+cols counter quirk per fold.
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    for (const GemmShape& g : {GemmShape{37, 11, 23, 1}, GemmShape{5, 40, 9, 3},
                               GemmShape{64, 64, 64, 1}, GemmShape{1, 1, 1, 2}}) {
      const GemmMapping m = map_gemm(df, g, 8, 6);
      SramCounts want;
      for (std::int64_t grp = 0; grp < g.groups; ++grp)
        for (std::int64_t cf = 0; cf < m.col_folds; ++cf)
          for (std::int64_t rf = 0; rf < m.row_folds; ++rf) {
            const std::int64_t ru = m.rows_used(rf), cu = m.cols_used(cf);
            switch (df) {
              case Dataflow::kOutputStationary:
                want.ifmap_reads += ru * m.t;   // one pixel row per array row, K taps
                want.filter_reads += cu * m.t;  // one filter per array col, K taps
                want.ofmap_writes += ru * cu + 8 + 6;
                break;
              case Dataflow::kWeightStationary:
                want.ifmap_reads += ru * m.t;   // K-slice of every one of the M pixels
                want.filter_reads += ru * cu;   // the weight tile, loaded once
                want.ofmap_writes += cu * m.t;  // a partial sum per pixel and filter
                break;
              case Dataflow::kInputStationary:
                want.ifmap_reads += ru * cu;    // the ifmap tile, loaded once
                want.filter_reads += ru * m.t;  // K-slice of every one of the N filters
                want.ofmap_writes += cu * m.t;  // a partial sum per pixel and filter
                break;
            }
          }
      const SramCounts got = sram_counts(m);
      EXPECT_EQ(got.ifmap_reads, want.ifmap_reads) << dataflow_name(df) << " m=" << g.m;
      EXPECT_EQ(got.filter_reads, want.filter_reads) << dataflow_name(df) << " m=" << g.m;
      EXPECT_EQ(got.ofmap_writes, want.ofmap_writes) << dataflow_name(df) << " m=" << g.m;
    }
  }
}
