// Speed of `hwnas costgen`: the full table of the 8-cell DARTS search network (C=16, 1x64x64,
// darts+conv ops) from scratch, analytic (target < 1 s) and cycle level on 2 worker processes
// (target < 30 s), and the cache-hit rebuild.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "hwnas/costmodels/cost_table.hpp"

namespace hc = hwnas::costmodels;

namespace {

hc::CostTableRequest request(const std::string& preset, hc::Fidelity f) {
  hc::CostTableRequest r;
  r.arch = hwnas::sim::load_arch_config(std::string(HWNAS_SOURCE_DIR) + "/arch_configs/" + preset + ".json");
  r.ops = hwnas::OpCatalog::builtin().select("darts+conv");
  r.simulation.fidelity = f;
  r.simulation.jobs = 2;
  return r;
}

const char* kPresets[] = {"tiny_radhard_8x8", "tpuv1_256x256"};

void BM_CostgenAnalytic(benchmark::State& state) {
  const auto r = request(kPresets[state.range(0)], hc::Fidelity::kAnalytic);
  state.SetLabel(r.arch.name);
  std::size_t distinct = 0;
  for (auto _ : state) {
    const auto res = hc::build_cost_table(r);
    distinct = res.report.distinct;
    benchmark::DoNotOptimize(res.table);
  }
  state.counters["distinct_layers"] = static_cast<double>(distinct);
}
BENCHMARK(BM_CostgenAnalytic)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_CostgenCycle2Workers(benchmark::State& state) {
  const auto r = request(kPresets[state.range(0)], hc::Fidelity::kCycle);
  state.SetLabel(r.arch.name);
  for (auto _ : state) benchmark::DoNotOptimize(hc::build_cost_table(r).table);
}
BENCHMARK(BM_CostgenCycle2Workers)->Arg(0)->Arg(1)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

void BM_CostgenCacheHit(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("hwnas_bench_costgen_" + std::to_string(::getpid()));
  auto r = request(kPresets[0], hc::Fidelity::kAnalytic);
  r.simulation.cache_dir = dir.string();
  hc::build_cost_table(r);  // fill
  for (auto _ : state) benchmark::DoNotOptimize(hc::build_cost_table(r).table);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CostgenCacheHit)->Unit(benchmark::kMillisecond);

}  // namespace
