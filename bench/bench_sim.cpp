// Simulator speed. Every cycle-level benchmark runs through the process's single SystemC
// elaboration (simulate_layers_cycle), iteration after iteration, exactly as costgen uses it.
//
//   build-*/bench/bench_sim --benchmark_counters_tabular=true
//
// Reference point: SCALE-Sim v2 needs ~75 s for ResNet-18 conv3_1 on an 8x8 os array
// (925,119 cycles); the target here is >= 500x faster (< 0.15 s).
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/cycle_engine.hpp"
#include "hwnas/sim/cycle_sim.hpp"

namespace hwnas::sim {
namespace {

ArchConfig bench_arch(std::int64_t edge, bool unlimited) {
  ArchConfig a;
  a.name = "bench" + std::to_string(edge);
  a.array_rows = a.array_cols = edge;
  a.dataflow = Dataflow::kOutputStationary;
  a.ifmap_sram_kib = a.filter_sram_kib = a.ofmap_sram_kib = 256;
  a.word_bytes = 1;
  a.dram_bandwidth_unlimited = unlimited;
  a.dram_bandwidth_words_per_cycle = 16;
  a.clock_mhz = 1000;
  a.vector_lanes = 32;
  return a;
}

Layer conv(const std::string& name, std::int64_t hw, std::int64_t c, std::int64_t k,
           std::int64_t r, std::int64_t stride, std::int64_t pad,
           OutputRounding rounding = OutputRounding::kFloor) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::kConv2d;
  l.in_h = l.in_w = hw;
  l.in_channels = c;
  l.out_channels = k;
  l.kernel_h = l.kernel_w = r;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.rounding = rounding;
  return l;
}

// SCALE-Sim's rn18_conv3_1a row: 56x56x64 -> 128, 3x3, stride 2, no padding, ceil rounding.
Layer resnet18_conv3_1() {
  return conv("rn18_conv3_1a", 56, 64, 128, 3, 2, 0, OutputRounding::kCeil);
}

// The conv/fc layers of ResNet-18 (ImageNet, batch 1, PyTorch padding and floor rounding).
std::vector<Layer> resnet18_convs() {
  std::vector<Layer> net = {conv("conv1", 224, 3, 64, 7, 2, 3)};
  const std::int64_t widths[] = {64, 128, 256, 512};
  std::int64_t hw = 56, c = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t k = widths[stage];
    for (int block = 0; block < 2; ++block) {
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(block);
      const std::int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      net.push_back(conv(p + ".conv1", hw, c, k, 3, stride, 1));
      const std::int64_t out = (hw + 2 - 3) / stride + 1;
      net.push_back(conv(p + ".conv2", out, k, k, 3, 1, 1));
      if (stride == 2) net.push_back(conv(p + ".downsample", hw, c, k, 1, 2, 0));
      hw = out;
      c = k;
    }
  }
  Layer fc;
  fc.name = "fc";
  fc.kind = LayerKind::kGemm;
  fc.gemm_m = 1;
  fc.gemm_n = 1000;
  fc.gemm_k = 512;
  net.push_back(fc);
  return net;
}

void set_rate_counters(benchmark::State& state, std::int64_t cycles_per_iter, std::int64_t pes) {
  const double cycles = static_cast<double>(cycles_per_iter) * static_cast<double>(state.iterations());
  state.counters["sim_cycles"] = static_cast<double>(cycles_per_iter);
  state.counters["cycles_per_s"] = benchmark::Counter(cycles, benchmark::Counter::kIsRate);
  state.counters["pe_cycles_per_s"] =
      benchmark::Counter(cycles * static_cast<double>(pes), benchmark::Counter::kIsRate);
}

// conv3_1 at cycle level through SystemC, unlimited bandwidth (SCALE-Sim CALC mode).
void BM_CycleConv3_1(benchmark::State& state) {
  const ArchConfig arch = bench_arch(state.range(0), true);
  const std::vector<Layer> layers = {resnet18_conv3_1()};
  std::int64_t clocks = 0;
  for (auto _ : state) {
    const std::vector<LayerStats> s = simulate_layers_cycle(arch, layers);
    clocks = s[0].total_cycles + 1;
    benchmark::DoNotOptimize(clocks);
  }
  if (state.range(0) == 8 && clocks != 925'120)
    state.SkipWithError("conv3_1 on 8x8 os must take 925,119 cycles");
  set_rate_counters(state, clocks, arch.array_rows * arch.array_cols);
}
BENCHMARK(BM_CycleConv3_1)->Arg(8)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);

// conv3_1 on 32x32 for each dataflow (0 = os, 1 = ws, 2 = is) through SystemC.
void BM_CycleConv3_1Dataflow(benchmark::State& state) {
  ArchConfig arch = bench_arch(32, true);
  arch.dataflow = static_cast<Dataflow>(state.range(0));
  state.SetLabel(dataflow_name(arch.dataflow));
  const std::vector<Layer> layers = {resnet18_conv3_1()};
  std::int64_t clocks = 0;
  for (auto _ : state) {
    clocks = simulate_layers_cycle(arch, layers)[0].total_cycles + 1;
    benchmark::DoNotOptimize(clocks);
  }
  set_rate_counters(state, clocks, arch.array_rows * arch.array_cols);
}
BENCHMARK(BM_CycleConv3_1Dataflow)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// The same layer on the bare engine: what the SystemC clock costs on top.
void BM_EngineConv3_1(benchmark::State& state) {
  const ArchConfig arch = bench_arch(state.range(0), true);
  const Layer layer = resnet18_conv3_1();
  CycleEngine engine(arch);
  std::int64_t clocks = 0;
  for (auto _ : state) {
    engine.begin_layer(layer);
    clocks = engine.run_layer();
    benchmark::DoNotOptimize(clocks);
  }
  set_rate_counters(state, clocks, arch.array_rows * arch.array_cols);
}
BENCHMARK(BM_EngineConv3_1)->Arg(8)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);

// Every register of every PE moving and multiplying each clock (check_values).
void BM_CycleConv3_1Values(benchmark::State& state) {
  const ArchConfig arch = bench_arch(state.range(0), true);
  const std::vector<Layer> layers = {resnet18_conv3_1()};
  CycleRunOptions opt;
  opt.check_values = true;
  std::int64_t clocks = 0;
  for (auto _ : state) {
    clocks = simulate_layers_cycle(arch, layers, opt)[0].total_cycles + 1;
    benchmark::DoNotOptimize(clocks);
  }
  set_rate_counters(state, clocks, arch.array_rows * arch.array_cols);
}
BENCHMARK(BM_CycleConv3_1Values)->Arg(8)->Arg(32)->Unit(benchmark::kMillisecond);

// All of ResNet-18's convs + fc at cycle level on 32x32, 16 words/cycle DRAM (stalls modelled).
void BM_CycleResNet18(benchmark::State& state) {
  const ArchConfig arch = bench_arch(32, false);
  const std::vector<Layer> layers = resnet18_convs();
  std::int64_t clocks = 0;
  for (auto _ : state) {
    clocks = 0;
    for (const LayerStats& s : simulate_layers_cycle(arch, layers)) clocks += s.total_cycles + 1;
    benchmark::DoNotOptimize(clocks);
  }
  set_rate_counters(state, clocks, arch.array_rows * arch.array_cols);
  state.counters["layers"] = static_cast<double>(layers.size());
}
BENCHMARK(BM_CycleResNet18)->Unit(benchmark::kMillisecond);

// The analytic twin over the same ResNet-18 layers.
void BM_AnalyticResNet18(benchmark::State& state) {
  const ArchConfig arch = bench_arch(32, false);
  const std::vector<Layer> layers = resnet18_convs();
  for (auto _ : state)
    for (const Layer& l : layers) benchmark::DoNotOptimize(simulate_layer_analytic(arch, l));
  state.counters["layers_per_s"] = benchmark::Counter(
      static_cast<double>(layers.size()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AnalyticResNet18);

}  // namespace
}  // namespace hwnas::sim
