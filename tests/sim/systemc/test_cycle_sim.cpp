// The SystemC shell: queues of layers through the one elaboration, called repeatedly in one
// process, must agree with the analytic twin and compute real values when asked.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <stdexcept>

#include <systemc>

#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/cycle_engine.hpp"
#include "hwnas/sim/cycle_sim.hpp"

namespace hwnas::sim {
namespace {

ArchConfig make_arch(std::int64_t rows, std::int64_t cols, Dataflow df) {
  ArchConfig a;
  a.name = "sc-test";
  a.array_rows = rows;
  a.array_cols = cols;
  a.dataflow = df;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 1;
  a.word_bytes = 2;
  a.dram_bandwidth_words_per_cycle = 1.5;
  a.clock_mhz = 500;
  a.vector_lanes = 8;
  a.energy.mac_pj = 1;
  a.energy.sram_read_pj_per_word = 2;
  a.energy.dram_read_pj_per_word = 10;
  a.energy.dram_write_pj_per_word = 12;
  a.energy.leakage_pj_per_cycle = 0.5;
  return a;
}

Layer conv(std::int64_t h, std::int64_t c, std::int64_t k, std::int64_t r, std::int64_t stride,
           std::int64_t pad, std::int64_t dilation, std::int64_t groups) {
  Layer l;
  l.kind = LayerKind::kConv2d;
  l.in_h = l.in_w = h;
  l.in_channels = c;
  l.out_channels = k;
  l.kernel_h = l.kernel_w = r;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.dilation_h = l.dilation_w = dilation;
  l.groups = groups;
  l.name = layer_spec_string(l);
  return l;
}

std::vector<Layer> mixed_queue() {
  std::vector<Layer> q = {conv(10, 8, 16, 3, 1, 1, 1, 1), conv(12, 6, 6, 3, 2, 1, 1, 6),
                          conv(11, 4, 8, 3, 1, 2, 2, 2)};
  Layer g;
  g.kind = LayerKind::kGemm;
  g.name = "fc";
  g.gemm_m = 7;
  g.gemm_n = 33;
  g.gemm_k = 50;
  q.push_back(g);
  Layer pool;
  pool.kind = LayerKind::kElementwise;
  pool.elementwise_op = ElementwiseOp::kMaxPool;
  pool.name = "pool";
  pool.in_h = pool.in_w = 24;
  pool.in_channels = 16;
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride_h = pool.stride_w = 2;
  q.push_back(pool);
  return q;
}

void expect_same(const LayerStats& c, const LayerStats& a) {
  EXPECT_EQ(c.layer_name, a.layer_name);
  EXPECT_EQ(c.total_cycles, a.total_cycles);
  EXPECT_EQ(c.compute_cycles, a.compute_cycles);
  EXPECT_EQ(c.stall_cycles, a.stall_cycles);
  EXPECT_EQ(c.vector_cycles, a.vector_cycles);
  EXPECT_EQ(c.macs, a.macs);
  EXPECT_EQ(c.mapped_macs, a.mapped_macs);
  EXPECT_EQ(c.sram_ifmap_reads, a.sram_ifmap_reads);
  EXPECT_EQ(c.sram_filter_reads, a.sram_filter_reads);
  EXPECT_EQ(c.sram_ofmap_writes, a.sram_ofmap_writes);
  EXPECT_EQ(c.sram_ofmap_reads, a.sram_ofmap_reads);
  EXPECT_EQ(c.dram_ifmap_reads, a.dram_ifmap_reads);
  EXPECT_EQ(c.dram_filter_reads, a.dram_filter_reads);
  EXPECT_EQ(c.dram_ofmap_reads, a.dram_ofmap_reads);
  EXPECT_EQ(c.dram_ofmap_writes, a.dram_ofmap_writes);
  EXPECT_DOUBLE_EQ(c.energy_total_pj(), a.energy_total_pj());
}

// Three dataflows, one after another, through the same elaboration, each with values checked.
TEST(CycleSimSystemC, QueuesAgreeWithAnalyticAcrossRepeatedCalls) {
  const std::vector<Layer> q = mixed_queue();
  for (Dataflow df : {Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                      Dataflow::kInputStationary}) {
    const ArchConfig a = make_arch(5, 4, df);
    SCOPED_TRACE(dataflow_name(df));
    CycleRunOptions opt;
    opt.check_values = true;
    std::vector<std::size_t> progress;
    opt.on_layer_done = [&](std::size_t done, std::size_t total) {
      EXPECT_EQ(total, q.size());
      progress.push_back(done);
    };
    const std::vector<LayerStats> got = simulate_layers_cycle(a, q, opt);
    ASSERT_EQ(got.size(), q.size());
    EXPECT_EQ(progress, (std::vector<std::size_t>{1, 2, 3, 4, 5}));
    for (std::size_t i = 0; i < q.size(); ++i) {
      SCOPED_TRACE(q[i].name);
      expect_same(got[i], simulate_layer_analytic(a, q[i]));
    }
  }
}

// Random configs and layers, many calls in one process (the function-local elaboration).
TEST(CycleSimSystemC, RandomConfigsAgreeWithAnalytic) {
  const std::uint64_t seed = 77;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int call = 0; call < 40; ++call) {
    ArchConfig a = make_arch(uni(1, 8), uni(1, 8), static_cast<Dataflow>(uni(0, 2)));
    a.dram_bandwidth_unlimited = uni(0, 3) == 0;
    a.dram_bandwidth_words_per_cycle = 0.25 * uni(1, 16);
    a.word_bytes = 1 << uni(0, 3);
    std::vector<Layer> q;
    for (int i = uni(1, 4); i > 0; --i) {
      const int groups = uni(1, 3);
      const int r = uni(1, 3);
      q.push_back(conv(uni(r + 2, 12), groups * uni(1, 5), groups * uni(1, 6), r, uni(1, 2),
                       r > 1 ? uni(0, r - 1) : 0, 1, groups));
    }
    std::ostringstream where;
    where << "seed " << seed << " call " << call << " " << a.array_rows << "x" << a.array_cols
          << " " << dataflow_name(a.dataflow) << " B=" << a.dram_bandwidth_words_per_cycle;
    SCOPED_TRACE(where.str());
    const std::vector<LayerStats> got = simulate_layers_cycle(a, q);
    ASSERT_EQ(got.size(), q.size());
    for (std::size_t i = 0; i < q.size(); ++i) expect_same(got[i], simulate_layer_analytic(a, q[i]));
    if (HasFailure()) break;
  }
}

// The SystemC shell reports exactly what the bare engine reports.
TEST(CycleSimSystemC, ShellAddsNothingToTheEngine) {
  const ArchConfig a = make_arch(3, 6, Dataflow::kWeightStationary);
  const std::vector<Layer> q = mixed_queue();
  const std::vector<LayerStats> got = simulate_layers_cycle(a, q);
  for (std::size_t i = 0; i < q.size(); ++i)
    EXPECT_EQ(layer_stats_to_json(got[i]), layer_stats_to_json(simulate_layer_cycle_engine(a, q[i])));
}

// The kernel really runs one 1 ns clock per engine step: simulated time advances by exactly the
// layers' clock counts (array layers end at total_cycles + 1, vector layers at total_cycles).
TEST(CycleSimSystemC, SimulatedTimeIsOneNanosecondPerClock) {
  ArchConfig a = make_arch(4, 4, Dataflow::kOutputStationary);
  const std::vector<Layer> q = mixed_queue();
  for (int call = 0; call < 2; ++call) {
    const sc_core::sc_time before = sc_core::sc_time_stamp();
    const std::vector<LayerStats> got = simulate_layers_cycle(a, q);
    std::int64_t clocks = 0;
    for (std::size_t i = 0; i < q.size(); ++i)
      clocks += got[i].total_cycles + (q[i].kind == LayerKind::kElementwise ? 0 : 1);
    EXPECT_EQ((sc_core::sc_time_stamp() - before).value(),
              static_cast<sc_dt::uint64>(clocks) * sc_core::sc_time(1, sc_core::SC_NS).value());
  }
}

TEST(CycleSimSystemC, EmptyQueueAndBadLayer) {
  const ArchConfig a = make_arch(2, 2, Dataflow::kOutputStationary);
  EXPECT_TRUE(simulate_layers_cycle(a, {}).empty());
  Layer bad = conv(4, 3, 4, 3, 1, 0, 1, 1);
  bad.in_channels = 0;
  EXPECT_THROW(simulate_layers_cycle(a, {bad}), std::invalid_argument);
  // The elaboration is still usable after a rejected queue.
  EXPECT_EQ(simulate_layers_cycle(a, mixed_queue()).size(), mixed_queue().size());
}

}  // namespace
}  // namespace hwnas::sim
