// hwnas cost: whole-network cost of a derived architecture (a genotype) or of any topology file,
// simulated layer by layer (docs/costmodels.md).
#include <cinttypes>
#include <cstdio>

#include "commands.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/costmodels/cost_table.hpp"
#include "hwnas/sim/presets.hpp"
#include "hwnas/sim/topology.hpp"
#include "options.hpp"

namespace hwnas::app::costgen_cli {
// Defined in cmd_costgen.cpp.
void declare_geometry_options(Options& o);
costmodels::SearchGeometry geometry_from_options(const Options& o);
OpCatalog catalog_from_options(const Options& o);
costmodels::SimulationOptions simulation_from_options(const Options& o);
void print_simulation_report(const costmodels::SimulationReport& r, const std::string& cache_dir);
}  // namespace hwnas::app::costgen_cli

namespace hwnas::app {

int cmd_cost(const Args& args) {
  Options o("cost", "Whole-network cost of a genotype's derived network (--genotype) or of a topology "
                    "file (--topology), simulated layer by layer.");
  o.add("arch", "FILE", "", "accelerator config file, or a preset name (e.g. gemmini_16x16)")
      .add("genotype", "FILE", "", "DARTS genotype JSON {normal, normal_concat, reduce, reduce_concat}")
      .add("topology", "FILE", "", "network topology (.csv or .json, see docs/sim-cli.md)");
  costgen_cli::declare_geometry_options(o);
  o.add("out", "FILE", "", "also write the per-part costs as JSON");
  if (!o.parse(args)) return 0;
  std::fprintf(stderr, "hwnas cost: effective settings:\n%s", o.effective_settings().c_str());
  if (o.is_set("genotype") == o.is_set("topology"))
    throw InputError("hwnas cost", "give exactly one of --genotype and --topology");

  const auto arch = sim::load_arch_config_or_preset(o.required("arch"));
  const auto simulation = costgen_cli::simulation_from_options(o);
  costmodels::NetworkCostResult res;
  if (o.is_set("genotype")) {
    const auto catalog = costgen_cli::catalog_from_options(o);
    const auto genotype = costmodels::load_genotype(o.str("genotype"), catalog);
    costmodels::NetVariant variant;
    variant.fuse_elementwise = o.enabled("fuse-elementwise");
    res = costmodels::network_cost(arch, costgen_cli::geometry_from_options(o), genotype, catalog, variant,
                                   simulation);
  } else {
    res = costmodels::layers_cost(arch, sim::load_topology(o.str("topology")).layers, simulation);
  }
  costgen_cli::print_simulation_report(res.report, simulation.cache_dir);

  std::printf("%-22s %7s %12s %11s %12s %10s %11s %6s\n", "part", "layers", "cycles", "energy_uJ", "MACs",
              "params_B", "dram_B", "util%");
  auto row = [&](const std::string& name, std::int64_t layers, const costmodels::Cost& c) {
    std::printf("%-22s %7" PRId64 " %12" PRId64 " %11.3f %12" PRId64 " %10" PRId64 " %11" PRId64 " %6.2f\n",
                name.c_str(), layers, c.latency_cycles, c.energy_pj * 1e-6, c.macs, c.param_bytes, c.dram_bytes,
                c.utilization_pct(arch));
  };
  std::int64_t total_layers = 0;
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : res.parts) {
    row(p.name, p.layers, p.cost);
    total_layers += p.layers;
    parts.push_back({{"name", p.name}, {"layers", p.layers}, {"cost", costmodels::cost_to_json(p.cost, arch)}});
  }
  row("total", total_layers, res.total);
  std::printf("latency at %.0f MHz: %.3f ms\n", arch.clock_mhz,
              static_cast<double>(res.total.latency_cycles) / (arch.clock_mhz * 1e3));
  if (o.is_set("out")) {
    nlohmann::json j = {{"arch", sim::arch_config_to_json(arch)},
                        {"arch_hash", sim::arch_config_hash(arch)},
                        {"fidelity", costmodels::fidelity_name(simulation.fidelity)},
                        {"parts", parts},
                        {"total", costmodels::cost_to_json(res.total, arch)}};
    write_file_atomically(o.str("out"), j.dump(1) + "\n");
  }
  return 0;
}

}  // namespace hwnas::app
