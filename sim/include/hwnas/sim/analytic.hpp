#pragma once
// The analytic twin: the model of docs/sim-model.md in closed form (one pass over the folds,
// no cycle stepping). Fast enough for thousands of layers a second.
#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"

namespace hwnas::sim {

LayerStats simulate_layer_analytic(const ArchConfig& arch, const Layer& layer);

}  // namespace hwnas::sim
