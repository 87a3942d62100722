#pragma once
// The cycle-level model: the array, the double-buffered SRAMs and the DRAM channel advance one
// clock at a time inside one SystemC elaboration. SystemC allows one elaboration per process,
// so a process runs all its layers through one CycleSimulator; parallelism uses processes.
#include <functional>
#include <vector>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"

namespace hwnas::sim {

struct CycleRunOptions {
  // Compute the real GEMM values (random operands, checked against a naive reference).
  bool check_values = false;
  // Called after each layer with (layers done, layers total).
  std::function<void(std::size_t, std::size_t)> on_layer_done;
};

// Runs the layers in order on `arch` at cycle level. May be called more than once per process;
// every call reuses the process's single SystemC elaboration.
std::vector<LayerStats> simulate_layers_cycle(const ArchConfig& arch,
                                              const std::vector<Layer>& layers,
                                              const CycleRunOptions& options = {});

}  // namespace hwnas::sim
