#pragma once
// Simulating a set of distinct layers once: a disk cache keyed by content hash, and parallel
// worker processes for the cycle-level model (SystemC allows one elaboration per process, so
// parallelism is fork(), each child elaborating once and streaming its results back as JSON).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"

namespace hwnas::costmodels {

enum class Fidelity { kAnalytic, kCycle };
const char* fidelity_name(Fidelity f);                  // "analytic", "cycle"
Fidelity parse_fidelity(const std::string& s, const std::string& where);  // InputError

// Simulates layers in order. Tests inject one to count calls; the defaults call the analytic
// twin or the SystemC cycle model.
using BatchSimulator = std::function<std::vector<sim::LayerStats>(const sim::ArchConfig&,
                                                                  const std::vector<sim::Layer>&)>;
BatchSimulator default_simulator(Fidelity f);

// What identifies a layer's shape for deduplication and caching (the name is not part of it).
std::string layer_shape_key(const sim::Layer& layer);

// Bumped whenever what a cache entry means changes (the decomposition, the stored fields, or the
// simulator's model). The cache key also includes the hwnas version.
inline constexpr int kLayerCacheFormatVersion = 2;
std::string default_simulator_version();  // "<hwnas version>/model-<kLayerCacheFormatVersion>"

struct SimulationOptions {
  Fidelity fidelity = Fidelity::kAnalytic;
  int jobs = 2;                     // worker processes for the cycle model (1: in this process)
  std::string cache_dir;            // empty: no disk cache
  bool progress = false;            // progress line on stderr
  BatchSimulator simulator;         // empty: default_simulator(fidelity)
  std::string simulator_version;    // empty: default_simulator_version()
  // Use worker processes even for the analytic twin (tests; the twin is fast in-process).
  bool force_workers = false;
};

struct SimulationReport {
  std::size_t layers = 0;          // layers asked for (with repeats)
  std::size_t distinct = 0;        // distinct shapes
  std::size_t cache_hits = 0;
  std::size_t cache_rejected = 0;  // entries found but stale or corrupt (rebuilt)
  std::size_t simulated = 0;
  int workers = 0;
  double seconds = 0;
  std::vector<std::string> warnings;  // one per rejected cache entry
};

// Default cache folder: $HWNAS_CACHE_DIR, else $XDG_CACHE_HOME/hwnas, else ~/.cache/hwnas.
std::string default_cache_dir();

// Simulates every layer, each distinct shape once (from the cache when a valid entry exists),
// and returns one LayerStats per input layer (named as the input layer).
std::vector<sim::LayerStats> simulate_layers_deduplicated(const sim::ArchConfig& arch,
                                                          const std::vector<sim::Layer>& layers,
                                                          const SimulationOptions& options,
                                                          SimulationReport* report = nullptr);

// Runs `layers` through `simulator` in `jobs` forked worker processes (balanced by an estimate
// of each layer's work) and returns the results in input order. A failing worker throws
// (InputError if the simulator threw one, RuntimeFailure otherwise).
std::vector<sim::LayerStats> simulate_in_workers(const sim::ArchConfig& arch,
                                                 const std::vector<sim::Layer>& layers,
                                                 const BatchSimulator& simulator, int jobs,
                                                 const std::function<void(std::size_t)>& on_progress);

// Full-precision round trip of every LayerStats field.
nlohmann::json stats_to_json(const sim::LayerStats& s);
sim::LayerStats stats_from_json(const nlohmann::json& j);  // throws on missing fields

}  // namespace hwnas::costmodels
