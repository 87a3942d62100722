#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/mapping.hpp"

using namespace hwnas::sim;

namespace {

ArchConfig arch(std::int64_t rows, std::int64_t cols, Dataflow df, std::int64_t sram_kib = 1024,
                std::int64_t word_bytes = 1, double bandwidth = 0) {
  ArchConfig a;
  a.name = "t";
  a.array_rows = rows;
  a.array_cols = cols;
  a.dataflow = df;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = sram_kib;
  a.word_bytes = word_bytes;
  a.dram_bandwidth_unlimited = bandwidth <= 0;
  a.dram_bandwidth_words_per_cycle = bandwidth;
  a.clock_mhz = 100;
  a.vector_lanes = cols;
  a.energy = default_energy_model(word_bytes);
  return a;
}

Layer gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  Layer l;
  l.kind = LayerKind::kGemm;
  l.gemm_m = m, l.gemm_n = n, l.gemm_k = k;
  return l;
}

// SCALE-Sim's rn18_conv3_1a: 56x56x64 -> 128 filters 3x3 stride 2, no padding, ceil output.
Layer resnet_conv3_1() {
  return parse_layer_spec("conv2d h=56 w=56 c=64 k=128 r=3 stride=2 rounding=ceil", "test");
}

constexpr Dataflow kAll[] = {Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                             Dataflow::kInputStationary};

}  // namespace

TEST(Analytic, ResNetConv3_1MatchesScaleSimOn8x8Os) {
  // E = ceil((56-3+2)/2) = 28: M = 784, N = 128, K = 576. 8x8 os: 98 row folds x 16 col folds,
  // 576 + 8 + 8 - 2 = 590 cycles each: 1568 * 590 - 1 = 925,119, SCALE-Sim v2's measured figure.
  const LayerStats s =
      simulate_layer_analytic(arch(8, 8, Dataflow::kOutputStationary, 64), resnet_conv3_1());
  EXPECT_EQ(s.total_cycles, 925119);
  EXPECT_EQ(s.compute_cycles, 925119);
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_EQ(s.folds, 1568);
  EXPECT_EQ(s.mapped_macs, 784LL * 128 * 576);
  EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0);  // 784 = 98*8, 128 = 16*8
  EXPECT_NEAR(s.compute_util_pct, 100.0 * 576 / 590, 1e-9);
  EXPECT_NEAR(s.overall_util_pct, 100.0 * 784 * 128 * 576 / (925119.0 * 64), 1e-9);
  EXPECT_EQ(s.sram_ifmap_reads, 16LL * 784 * 576);
  EXPECT_EQ(s.sram_filter_reads, 98LL * 576 * 128);
  EXPECT_EQ(s.sram_ofmap_writes, 784LL * 128 + 1568LL * (8 + 8));
}

TEST(Analytic, ResNetConv3_1ComputeCyclesWsAndIs) {
  // ws: Sr = K = 576 (72 folds), Sc = N = 128 (16), T = M = 784: 784 + 16 + 8 - 2 = 806.
  const LayerStats ws =
      simulate_layer_analytic(arch(8, 8, Dataflow::kWeightStationary), resnet_conv3_1());
  EXPECT_EQ(ws.compute_cycles, 72LL * 16 * 806 - 1);
  EXPECT_EQ(ws.total_cycles, ws.compute_cycles);
  // is: Sr = K = 576 (72), Sc = M = 784 (98), T = N = 128: 128 + 16 + 8 - 2 = 150.
  const LayerStats is =
      simulate_layer_analytic(arch(8, 8, Dataflow::kInputStationary), resnet_conv3_1());
  EXPECT_EQ(is.compute_cycles, 72LL * 98 * 150 - 1);
  EXPECT_EQ(is.stall_cycles, 0);
}

TEST(Analytic, SmallGemmAllDataflowsByHand) {
  // M = 10, N = 6, K = 5 on a 4x4 array, CALC mode.
  const Layer l = gemm(10, 6, 5);
  {
    // os: Sr = 10 (3 folds: 4,4,2), Sc = 6 (2 folds: 4,2), T = 5; 11 cycles per fold.
    const LayerStats s = simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary), l);
    EXPECT_EQ(s.compute_cycles, 6 * 11 - 1);
    EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0 * 60 / 96);
    EXPECT_NEAR(s.compute_util_pct, 100.0 * 60 / 96 * 5 / 11, 1e-12);
    EXPECT_EQ(s.sram_ifmap_reads, 2 * 50);
    EXPECT_EQ(s.sram_filter_reads, 3 * 30);
    EXPECT_EQ(s.sram_ofmap_writes, 60 + 6 * 8);
    EXPECT_NEAR(s.overall_util_pct, 100.0 * 300 / (65.0 * 16), 1e-12);
  }
  {
    // ws: Sr = K = 5 (2 folds), Sc = N = 6 (2), T = M = 10; 10 + 8 + 4 - 2 = 20 per fold;
    // SCALE-Sim's util fold length 10 + 8 + 8 - 3 = 23.
    const LayerStats s = simulate_layer_analytic(arch(4, 4, Dataflow::kWeightStationary), l);
    EXPECT_EQ(s.compute_cycles, 4 * 20 - 1);
    EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0 * 30 / 64);
    EXPECT_NEAR(s.compute_util_pct, 100.0 * 30 / 64 * 10 / 23, 1e-12);
    EXPECT_EQ(s.sram_ifmap_reads, 2 * 50);
    EXPECT_EQ(s.sram_filter_reads, 30);
    EXPECT_EQ(s.sram_ofmap_writes, 2 * 60);
  }
  {
    // is: Sr = K = 5 (2), Sc = M = 10 (3), T = N = 6; 6 + 8 + 4 - 2 = 16; util length 19.
    const LayerStats s = simulate_layer_analytic(arch(4, 4, Dataflow::kInputStationary), l);
    EXPECT_EQ(s.compute_cycles, 6 * 16 - 1);
    EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0 * 50 / 96);
    EXPECT_NEAR(s.compute_util_pct, 100.0 * 50 / 96 * 6 / 19, 1e-12);
    EXPECT_EQ(s.sram_ifmap_reads, 50);
    EXPECT_EQ(s.sram_filter_reads, 3 * 30);
    EXPECT_EQ(s.sram_ofmap_writes, 2 * 60);
  }
}

TEST(Analytic, DepthwiseRunsGroupsOneAfterAnother) {
  // 3 groups, each M = 16, N = 1, K = 9 on 4x4 os: 4 row folds of 9 + 6 = 15 cycles.
  const Layer dw = parse_layer_spec("dwconv h=4 w=4 c=3 r=3 pad=1", "test");
  const LayerStats s = simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary), dw);
  EXPECT_EQ(s.folds, 12);
  EXPECT_EQ(s.compute_cycles, 3 * 4 * 15 - 1);
  // Per axis, taps 0/1/2 are inside the 4-wide ifmap for 3/4/3 outputs: 10 x 10 per channel.
  EXPECT_EQ(s.macs, 10 * 10 * 3);
  EXPECT_EQ(s.mapped_macs, 16 * 9 * 3);
  EXPECT_EQ(s.sram_ifmap_reads, 3 * (1 * 16 * 9));
  EXPECT_EQ(s.sram_filter_reads, 3 * (4 * 9 * 1));
  EXPECT_EQ(s.sram_ofmap_writes, 3 * (16 + 4 * (4 + 4)));
  EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0 * 16 / (16 * 4));
}

TEST(Analytic, StallRecurrenceHandWorked) {
  // GEMM 4x4x4 on 2x2 os at 1 word/cycle, everything resident. Folds (cf, rf):
  // (0,0) reads 8 ifmap + 8 filter; (0,1) 8 ifmap; (1,0) 8 filter; (1,1) nothing. Each fold
  // computes 4 + 2 + 2 - 2 = 6 cycles and writes 4 outputs.
  // S0 = 16; S1 = 16 + max(6, 8) = 24; S2 = 24 + max(6, 8 + 4) = 36; S3 = 36 + max(6, 0 + 4) = 42;
  // E = 48; w2 drained by 46; w3 drains 48..52. Total = 52 - 1 = 51; compute = 4*6 - 1 = 23.
  const LayerStats s =
      simulate_layer_analytic(arch(2, 2, Dataflow::kOutputStationary, 1024, 1, 1.0), gemm(4, 4, 4));
  EXPECT_EQ(s.compute_cycles, 23);
  EXPECT_EQ(s.total_cycles, 51);
  EXPECT_EQ(s.stall_cycles, 28);
  EXPECT_EQ(s.dram_ifmap_reads, 16);
  EXPECT_EQ(s.dram_filter_reads, 16);
  EXPECT_EQ(s.dram_ofmap_writes, 16);
  EXPECT_EQ(s.dram_ofmap_reads, 0);
  EXPECT_NEAR(s.overall_util_pct, 100.0 * 64 / (51.0 * 4), 1e-12);
}

TEST(Analytic, StallIsZeroUnlimitedAndGrowsAsBandwidthDrops) {
  const Layer l = parse_layer_spec("conv2d h=28 w=28 c=64 k=64 r=3 pad=1", "test");
  for (Dataflow df : kAll) {
    const LayerStats calc = simulate_layer_analytic(arch(16, 16, df, 32), l);
    EXPECT_EQ(calc.stall_cycles, 0);
    EXPECT_EQ(calc.total_cycles, calc.compute_cycles);
    std::int64_t previous = -1;
    for (double bw : {1024.0, 64.0, 16.0, 4.0, 1.0, 0.25}) {
      const LayerStats s = simulate_layer_analytic(arch(16, 16, df, 32, 1, bw), l);
      EXPECT_EQ(s.compute_cycles, calc.compute_cycles);
      EXPECT_EQ(s.total_cycles, s.compute_cycles + s.stall_cycles);
      EXPECT_GE(s.stall_cycles, previous) << dataflow_name(df) << " bw " << bw;
      // The channel is serial: it needs at least (all DRAM words) / B cycles.
      const double words = static_cast<double>(s.dram_ifmap_reads + s.dram_filter_reads +
                                               s.dram_ofmap_reads + s.dram_ofmap_writes);
      EXPECT_GE(static_cast<double>(s.total_cycles + 1), std::ceil(words / bw - 1e-9));
      // DRAM counts do not depend on the bandwidth.
      EXPECT_EQ(s.dram_ifmap_reads, calc.dram_ifmap_reads);
      EXPECT_EQ(s.dram_ofmap_writes, calc.dram_ofmap_writes);
      previous = s.stall_cycles;
    }
    EXPECT_GT(previous, calc.compute_cycles) << "0.25 words/cycle must be DRAM-bound";
  }
}

TEST(Analytic, ResidentVersusStreamedDramCounts) {
  // os on 4x4, conv 8x8x2 -> 6 filters 1x1: M = 64, N = 6, K = 2; 16 row folds, 2 col folds.
  // Fi = 128, Ff = 12, Fo = 384.
  const Layer l = parse_layer_spec("conv2d h=8 w=8 c=2 k=6 r=1", "test");
  LayerStats s = simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary, 64), l);
  EXPECT_EQ(s.dram_ifmap_reads, 128);
  EXPECT_EQ(s.dram_filter_reads, 12);
  EXPECT_EQ(s.dram_ofmap_writes, 384);
  // 1 KiB of 8-byte words: 128 words, resident only up to 64. The ifmap streams once per col
  // fold; the 12-word filter stays resident.
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary, 1, 8, 4.0), l);
  EXPECT_EQ(s.dram_ifmap_reads, 2 * 128);
  EXPECT_EQ(s.dram_filter_reads, 12);
  EXPECT_EQ(s.dram_ofmap_writes, 384);
  // 40 filters: Ff = 80 > 64 streams once per row fold (16); ifmap once per col fold (10).
  const Layer wide = parse_layer_spec("conv2d h=8 w=8 c=2 k=40 r=1", "test");
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary, 1, 8, 4.0), wide);
  EXPECT_EQ(s.dram_ifmap_reads, 10 * 128);
  EXPECT_EQ(s.dram_filter_reads, 16 * 80);
  EXPECT_EQ(s.dram_ofmap_writes, 64 * 40);

  // ws GEMM M = 20, N = 4, K = 8 on 4x4: 2 row folds, 1 col fold; Fi = 160, Ff = 32, Fo = 80.
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kWeightStationary, 64, 1, 4.0), gemm(20, 4, 8));
  EXPECT_EQ(s.dram_ifmap_reads, 160);
  EXPECT_EQ(s.dram_filter_reads, 32);
  EXPECT_EQ(s.dram_ofmap_writes, 80);
  EXPECT_EQ(s.dram_ofmap_reads, 0);
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kWeightStationary, 1, 8, 4.0), gemm(20, 4, 8));
  EXPECT_EQ(s.dram_ifmap_reads, 160);  // one col fold: one pass even when streamed
  EXPECT_EQ(s.dram_filter_reads, 32);
  EXPECT_EQ(s.dram_ofmap_writes, 2 * 80);  // partial sums spill on both row folds
  EXPECT_EQ(s.dram_ofmap_reads, 80);       // and are read back before the second

  // is GEMM M = 20, N = 10, K = 8 on 4x4: 2 row folds, 5 col folds; Ff = 80 > 64, Fo = 200.
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kInputStationary, 1, 8, 4.0), gemm(20, 10, 8));
  EXPECT_EQ(s.dram_ifmap_reads, 160);
  EXPECT_EQ(s.dram_filter_reads, 5 * 80);
  EXPECT_EQ(s.dram_ofmap_writes, 2 * 200);
  EXPECT_EQ(s.dram_ofmap_reads, 200);
  s = simulate_layer_analytic(arch(4, 4, Dataflow::kInputStationary, 64, 1, 4.0), gemm(20, 10, 8));
  EXPECT_EQ(s.dram_filter_reads, 80);
  EXPECT_EQ(s.dram_ofmap_writes, 200);
  EXPECT_EQ(s.dram_ofmap_reads, 0);
}

TEST(Analytic, DramTotalsMatchClosedFormOverManyShapes) {
  // The per-fold shares must add up to the pass counts of docs/sim-model.md section 2.
  const char* specs[] = {"conv2d h=14 w=14 c=32 k=48 r=3 pad=1",
                         "conv2d h=9 w=7 c=6 k=10 r=3 stride=2",
                         "conv2d h=16 w=16 c=8 k=8 r=3 groups=4 pad=1",
                         "dwconv h=12 w=12 c=5 r=5 pad=2",
                         "gemm m=33 n=17 k=29",
                         "conv2d h=20 w=20 c=3 k=24 r=5 dilation=2"};
  for (const char* spec : specs) {
    const Layer l = parse_layer_spec(spec, "test");
    const GemmShape g = gemm_shape(l);
    const std::int64_t fi =
        l.kind == LayerKind::kGemm ? g.m * g.k : l.in_h * l.in_w * l.in_channels / l.groups;
    const std::int64_t ff = g.k * g.n, fo = g.m * g.n;
    for (Dataflow df : kAll) {
      for (std::int64_t kib : {1, 2, 1024}) {
        const ArchConfig a = arch(5, 3, df, kib, 8, 2.0);
        const std::int64_t half = a.ifmap_sram_words() / 2;
        const bool ri = fi <= half, rf_ = ff <= half, ro = fo <= half;
        const std::int64_t sr = df == Dataflow::kOutputStationary ? g.m : g.k;
        const std::int64_t sc = df == Dataflow::kInputStationary ? g.m : g.n;
        const std::int64_t row_folds = (sr + 4) / 5, col_folds = (sc + 2) / 3;
        std::int64_t want_i = 0, want_f = 0, want_ow = 0, want_or = 0;
        switch (df) {
          case Dataflow::kOutputStationary:
            want_i = (ri ? 1 : col_folds) * fi;
            want_f = (rf_ ? 1 : row_folds) * ff;
            want_ow = fo;
            break;
          case Dataflow::kWeightStationary:
            want_i = (ri ? 1 : col_folds) * fi;
            want_f = ff;
            want_ow = ro ? fo : row_folds * fo;
            want_or = ro ? 0 : (row_folds - 1) * fo;
            break;
          case Dataflow::kInputStationary:
            want_i = fi;
            want_f = (rf_ ? 1 : col_folds) * ff;
            want_ow = ro ? fo : row_folds * fo;
            want_or = ro ? 0 : (row_folds - 1) * fo;
            break;
        }
        const LayerStats s = simulate_layer_analytic(a, l);
        const std::string ctx =
            std::string(spec) + " " + dataflow_name(df) + " " + std::to_string(kib) + " KiB";
        EXPECT_EQ(s.dram_ifmap_reads, g.groups * want_i) << ctx;
        EXPECT_EQ(s.dram_filter_reads, g.groups * want_f) << ctx;
        EXPECT_EQ(s.dram_ofmap_writes, g.groups * want_ow) << ctx;
        EXPECT_EQ(s.dram_ofmap_reads, g.groups * want_or) << ctx;
      }
    }
  }
}

TEST(Analytic, VectorUnitLayers) {
  ArchConfig a = arch(4, 4, Dataflow::kOutputStationary, 64, 1, 2.0);
  a.vector_lanes = 8;
  // maxpool 3x3 stride 2 pad 1 on 16x16x4: 8x8x4 outputs x 9 taps = 2304 ops, 288 cycles.
  LayerStats s =
      simulate_layer_analytic(a, parse_layer_spec("maxpool h=16 w=16 c=4 r=3 stride=2 pad=1", "t"));
  EXPECT_EQ(s.vector_ops, 2304);
  EXPECT_EQ(s.vector_cycles, 288);
  EXPECT_EQ(s.total_cycles, 288);
  EXPECT_EQ(s.compute_cycles, 0);
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_EQ(s.macs, 0);
  EXPECT_EQ(s.sram_ofmap_reads, 16 * 16 * 4);
  EXPECT_EQ(s.sram_ofmap_writes, 8 * 8 * 4);
  EXPECT_EQ(s.dram_ifmap_reads, 0);
  // bn on 8x8x8: 2 ops per element = 1024 ops, 128 cycles.
  s = simulate_layer_analytic(a, parse_layer_spec("bn h=8 w=8 c=8", "t"));
  EXPECT_EQ(s.vector_cycles, 128);
  // add reads two tensors.
  s = simulate_layer_analytic(a, parse_layer_spec("add h=8 w=8 c=8", "t"));
  EXPECT_EQ(s.vector_ops, 512);
  EXPECT_EQ(s.sram_ofmap_reads, 1024);
  EXPECT_EQ(s.sram_ofmap_writes, 512);
  // relu on 256x256x1 = 65536 elements > 32768 (half of 64 KiB): streams in at 2 words/cycle,
  // 32768 cycles against 8192 cycles of vector work.
  s = simulate_layer_analytic(a, parse_layer_spec("relu h=256 w=256 c=1", "t"));
  EXPECT_EQ(s.dram_ifmap_reads, 65536);
  EXPECT_EQ(s.vector_cycles, 8192);
  EXPECT_EQ(s.total_cycles, 32768);
  EXPECT_EQ(s.stall_cycles, 32768 - 8192);
  // gap: 7x7x512 -> 512.
  s = simulate_layer_analytic(a, parse_layer_spec("gap h=7 w=7 c=512", "t"));
  EXPECT_EQ(s.vector_ops, 7 * 7 * 512);
  EXPECT_EQ(s.sram_ofmap_writes, 512);
}

TEST(Analytic, EnergyFollowsTheFormula) {
  ArchConfig a = arch(4, 4, Dataflow::kWeightStationary, 1, 8, 3.0);
  a.energy = EnergyModel{0.5, 2.0, 3.0, 100.0, 150.0, 0.25, 7.0};
  const Layer l = gemm(20, 10, 8);
  const LayerStats s = simulate_layer_analytic(a, l);
  ASSERT_GT(s.dram_ofmap_reads, 0);
  const double want =
      0.5 * static_cast<double>(s.macs) +
      2.0 * static_cast<double>(s.sram_ifmap_reads + s.sram_filter_reads + s.sram_ofmap_reads) +
      3.0 * static_cast<double>(s.sram_ofmap_writes) +
      100.0 * static_cast<double>(s.dram_ifmap_reads + s.dram_filter_reads + s.dram_ofmap_reads) +
      150.0 * static_cast<double>(s.dram_ofmap_writes) + 7.0 * static_cast<double>(s.total_cycles);
  EXPECT_NEAR(s.energy_total_pj(), want, 1e-6 * want);
  EXPECT_DOUBLE_EQ(s.energy_mac_pj, 0.5 * 20 * 10 * 8);
  EXPECT_DOUBLE_EQ(s.energy_leakage_pj, 7.0 * static_cast<double>(s.total_cycles));
  const LayerStats v = simulate_layer_analytic(a, parse_layer_spec("relu h=4 w=4 c=4", "t"));
  EXPECT_DOUBLE_EQ(v.energy_vector_pj, 0.25 * 64);
  EXPECT_DOUBLE_EQ(v.energy_sram_pj, 2.0 * 64 + 3.0 * 64);
}

TEST(Analytic, StatsJsonCarriesUnitsAndTotals) {
  const LayerStats s =
      simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary, 64, 1, 2.0),
                              parse_layer_spec("conv2d h=8 w=8 c=4 k=8 r=3 pad=1 name=c1", "t"));
  const nlohmann::json j = layer_stats_to_json(s);
  EXPECT_EQ(j.at("layer_name"), "c1");
  EXPECT_EQ(j.at("total_cycles").get<std::int64_t>(), s.total_cycles);
  EXPECT_EQ(j.at("compute_cycles").get<std::int64_t>(), s.compute_cycles);
  EXPECT_EQ(j.at("stall_cycles").get<std::int64_t>(), s.stall_cycles);
  EXPECT_EQ(j.at("macs").get<std::int64_t>(), s.macs);
  EXPECT_EQ(j.at("dram_ofmap_writes").get<std::int64_t>(), s.dram_ofmap_writes);
  EXPECT_DOUBLE_EQ(j.at("energy_total_pj").get<double>(), s.energy_total_pj());
  EXPECT_DOUBLE_EQ(j.at("overall_util_pct").get<double>(), s.overall_util_pct);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const bool unit = k == "layer_name" || k == "macs" || k == "mapped_macs" || k == "folds" ||
                      k == "vector_ops" || k.find("_cycles") != std::string::npos ||
                      k.find("_pct") != std::string::npos || k.find("_pj") != std::string::npos ||
                      k.rfind("sram_", 0) == 0 || k.rfind("dram_", 0) == 0;
    EXPECT_TRUE(unit) << k << " has no unit";
  }
}

TEST(Analytic, InvalidLayerIsRejected) {
  Layer l = parse_layer_spec("conv2d h=8 w=8 c=4 k=8 r=3", "t");
  l.groups = 3;
  EXPECT_THROW(simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary), l),
               std::invalid_argument);
}

TEST(Analytic, TotalCyclesEqualFoldByFoldTimelineWalk) {
  // The analytic twin sums one group's fold increments in closed form; a plain walk over every
  // fold of every group through DramTimeline must land on the same cycle.
  const char* specs[] = {"dwconv h=12 w=12 c=7 r=3 pad=1",
                         "dwconv h=3 w=3 c=5 r=3 pad=1",
                         "conv2d h=16 w=16 c=8 k=12 r=3 groups=4 pad=1",
                         "conv2d h=4 w=4 c=6 k=6 r=1 groups=6",
                         "conv2d h=10 w=10 c=12 k=20 r=3 pad=1",
                         "gemm m=30 n=9 k=40",
                         "gemm m=1 n=1 k=1",
                         "conv2d h=9 w=9 c=4 k=4 r=3 stride=2 groups=2"};
  for (const char* spec : specs) {
    const Layer l = parse_layer_spec(spec, "test");
    for (Dataflow df : kAll) {
      for (std::int64_t kib : {1, 1024}) {
        for (double bw : {0.0, 0.3, 1.0, 3.0, 50.0}) {
          const ArchConfig a = arch(4, 3, df, kib, 8, bw);
          const GemmMapping m = map_gemm(a, l);
          const DramPlan plan = plan_dram(a, l);
          DramTimeline walk(a);
          for (std::int64_t f = 0; f < m.folds(); ++f) {
            const FoldIndex idx = fold_index(m, f);
            const FoldDram d = fold_dram_words(m, plan, idx.col_fold, idx.row_fold);
            walk.add_fold(d, m.cycles_per_fold);
          }
          const LayerStats s = simulate_layer_analytic(a, l);
          EXPECT_EQ(s.total_cycles, walk.end_cycle() - 1)
              << spec << " " << dataflow_name(df) << " " << kib << " KiB bw " << bw;
          EXPECT_EQ(s.stall_cycles, walk.end_cycle() - walk.compute_cycles_sum());
        }
      }
    }
  }
}

TEST(Analytic, SinglePeArrayIsSerial) {
  // 1x1 os: one fold per output, T + 1 + 1 - 2 = K cycles each: M*N*K - 1 in total.
  const LayerStats s =
      simulate_layer_analytic(arch(1, 1, Dataflow::kOutputStationary), gemm(3, 4, 5));
  EXPECT_EQ(s.compute_cycles, 3 * 4 * 5 - 1);
  EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0);
  EXPECT_DOUBLE_EQ(s.compute_util_pct, 100.0);
  EXPECT_EQ(s.sram_ofmap_writes, 12 + 12 * 2);
}

TEST(Analytic, ArrayLargerThanLayerUsesOneFold) {
  // GEMM 3x2x5 on 8x8 ws: Sr = K = 5, Sc = N = 2: one fold of 3 + 16 + 8 - 2 = 25 cycles.
  const LayerStats s =
      simulate_layer_analytic(arch(8, 8, Dataflow::kWeightStationary), gemm(3, 2, 5));
  EXPECT_EQ(s.folds, 1);
  EXPECT_EQ(s.compute_cycles, 24);
  EXPECT_DOUBLE_EQ(s.mapping_efficiency_pct, 100.0 * 10 / 64);
  EXPECT_NEAR(s.compute_util_pct, 100.0 * 10 / 64 * 3 / (3 + 16 + 16 - 3), 1e-12);
}

TEST(Analytic, HugeFiniteBandwidthCostsOnlyFirstFetchAndLastDrain) {
  // With B far above any fold's traffic every transfer takes 1 cycle: the first fetch (1) and
  // the last write-back (1) are the only cycles not hidden behind compute.
  const Layer l = parse_layer_spec("conv2d h=14 w=14 c=16 k=32 r=3 pad=1", "t");
  for (Dataflow df : kAll) {
    const LayerStats s = simulate_layer_analytic(arch(8, 8, df, 1024, 1, 1e6), l);
    EXPECT_EQ(s.stall_cycles, 2) << dataflow_name(df);
  }
}

TEST(Analytic, VectorLayerJsonAndNoArrayWork) {
  const LayerStats s =
      simulate_layer_analytic(arch(4, 4, Dataflow::kOutputStationary),
                              parse_layer_spec("avgpool h=8 w=8 c=3 r=2 name=p", "t"));
  const nlohmann::json j = layer_stats_to_json(s);
  EXPECT_EQ(j.at("layer_name"), "p");
  EXPECT_EQ(j.at("vector_ops").get<std::int64_t>(), 4 * 4 * 3 * 4);
  EXPECT_EQ(j.at("vector_cycles").get<std::int64_t>(), 48);  // 192 ops on 4 lanes
  EXPECT_EQ(j.at("folds").get<std::int64_t>(), 0);
  EXPECT_EQ(j.at("mapped_macs").get<std::int64_t>(), 0);
  EXPECT_EQ(j.at("sram_ifmap_reads").get<std::int64_t>(), 0);
}

TEST(Analytic, WsPartialSumSpillTimingHandWorked) {
  // GEMM M=40, N=2, K=4 on 2x2 ws; 1 KiB of 8-byte words (128, resident up to 64):
  // Fi = 160 and Fo = 80 stream, the 8-word filter is tiled. Two row folds (K rows [0,2), [2,4)),
  // one col fold, 40 + 4 + 2 - 2 = 44 cycles each.
  // fold 0: ifmap 160*2/4 = 80, filter tile 4, writes its 40x2 partial sums (80).
  // fold 1: ifmap 80, filter 4, reads back those 80 partial sums, writes 80 final outputs.
  // B = 2: fold 0's 84 operand words load 0..42; fold 0 runs 42..86 while fold 1's 84 operand
  // words load 42..84. Fold 0's spill can leave only once fold 0 has ended: 80 words out 86..126,
  // then the same 80 back 126..166. Fold 1 runs 166..210; its 80 outputs drain 210..250.
  // Total = 249, compute = 87.
  const LayerStats s =
      simulate_layer_analytic(arch(2, 2, Dataflow::kWeightStationary, 1, 8, 2.0), gemm(40, 2, 4));
  EXPECT_EQ(s.dram_ifmap_reads, 160);
  EXPECT_EQ(s.dram_filter_reads, 8);
  EXPECT_EQ(s.dram_ofmap_reads, 80);
  EXPECT_EQ(s.dram_ofmap_writes, 160);
  EXPECT_EQ(s.compute_cycles, 87);
  EXPECT_EQ(s.total_cycles, 249);
  EXPECT_EQ(s.stall_cycles, 162);
}
