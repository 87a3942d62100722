// hwnas costgen: the cost table of a search space on one accelerator (docs/costmodels.md).
#include <cstdio>

#include "commands.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/op_catalog.hpp"
#include "hwnas/costmodels/cost_table.hpp"
#include "hwnas/sim/presets.hpp"
#include "options.hpp"

namespace hwnas::app::costgen_cli {

// Shared with cmd_cost.cpp: the network geometry and simulation flags, declared once here.
void declare_geometry_options(Options& o) {
  o.add("input", "CxHxW", "1x64x64", "input channels x height x width")
      .add("classes", "N", "10", "number of classes")
      .add("cells", "L", "8", "number of cells")
      .add("channels", "C", "16", "channels of the first cell (doubles at each reduction)")
      .add("nodes", "N", "4", "intermediate nodes per cell")
      .add("stem-multiplier", "M", "3", "stem outputs M*C channels")
      .add("reductions", "LIST", "default", "reduction cells, e.g. 2,5; 'default' = L//3,2L//3; 'none'")
      .add("ops", "FILE", "", "extra ops JSON merged over the built-in catalogue")
      .add("fidelity", "analytic|cycle", "analytic", "simulator fidelity")
      .flag("fuse-elementwise", "ReLU and BN are free (fused into the convs); pools and adds still cost")
      .add("jobs", "N", "2", "worker processes for the cycle-level simulator")
      .add("cache-dir", "DIR", "", "layer cache folder [default: $HWNAS_CACHE_DIR or ~/.cache/hwnas]")
      .flag("no-cache", "neither read nor write the layer cache");
}

costmodels::SearchGeometry geometry_from_options(const Options& o) {
  costmodels::SearchGeometry g;
  costmodels::parse_input_shape(o.str("input"), "--input", g);
  g.num_classes = o.integer("classes", 1, 1000000);
  g.cells = o.integer("cells", 1, 256);
  g.channels = o.integer("channels", 1, 4096);
  g.nodes = o.integer("nodes", 1, 16);
  g.stem_multiplier = o.integer("stem-multiplier", 1, 64);
  g.reduction_cells = costmodels::parse_reduction_cells(o.str("reductions"), "--reductions");
  return g;
}

OpCatalog catalog_from_options(const Options& o) {
  return o.is_set("ops") ? OpCatalog::from_json_file(o.str("ops")) : OpCatalog::builtin();
}

costmodels::SimulationOptions simulation_from_options(const Options& o) {
  costmodels::SimulationOptions s;
  s.fidelity = costmodels::parse_fidelity(o.str("fidelity"), "--fidelity");
  s.jobs = static_cast<int>(o.integer("jobs", 1, 256));
  if (!o.enabled("no-cache")) s.cache_dir = o.is_set("cache-dir") ? o.str("cache-dir") : costmodels::default_cache_dir();
  s.progress = true;
  return s;
}

void print_simulation_report(const costmodels::SimulationReport& r, const std::string& cache_dir) {
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::fprintf(stderr, "layers: %zu, distinct shapes: %zu, from cache: %zu, simulated: %zu (%d process%s), %.3f s%s%s\n",
               r.layers, r.distinct, r.cache_hits, r.simulated, r.workers, r.workers == 1 ? "" : "es",
               r.seconds, cache_dir.empty() ? "" : ", cache ", cache_dir.c_str());
}

}  // namespace hwnas::app::costgen_cli

namespace hwnas::app {

int cmd_costgen(const Args& args) {
  Options o("costgen", "Build the cost table of a search space on one accelerator: every op on every edge of "
                       "every cell of the search network, simulated layer by layer (docs/costmodels.md).");
  o.add("arch", "FILE", "", "accelerator config file, or a preset name (e.g. gemmini_16x16)")
      .add("space", "NAME|LIST", "darts", "'darts', 'darts+conv' or a comma-separated op list");
  costgen_cli::declare_geometry_options(o);
  o.add("normalization", "METHOD", "per_edge_max", "recommended normalisation: per_edge_max, network_max, none")
      .flag("search-only-primitives", "also cost the search net's BN after pools (default: ops as derived)")
      .add("out", "FILE", "", "cost table to write (JSON)");
  if (!o.parse(args)) return 0;
  std::fprintf(stderr, "hwnas costgen: effective settings:\n%s", o.effective_settings().c_str());

  costmodels::CostTableRequest req;
  const std::string out = o.required("out");
  req.arch = sim::load_arch_config_or_preset(o.required("arch"));
  req.geometry = costgen_cli::geometry_from_options(o);
  req.ops = costgen_cli::catalog_from_options(o).select(o.str("space"));
  req.normalization = costmodels::parse_normalization(o.str("normalization"), "--normalization");
  req.variant.fuse_elementwise = o.enabled("fuse-elementwise");
  req.variant.include_search_only = o.enabled("search-only-primitives");
  req.simulation = costgen_cli::simulation_from_options(o);

  const auto res = costmodels::build_cost_table(req);
  costgen_cli::print_simulation_report(res.report, req.simulation.cache_dir);
  write_file_atomically(out, res.table.dump(1) + "\n");
  std::fprintf(stderr, "wrote %s\n", out.c_str());

  const auto& g = res.table.at("geometry");
  std::printf("cost table: %s, %s fidelity, %lldx%lld %s array; %lld cells x %zu edges x %zu ops\n",
              req.arch.name.c_str(), costmodels::fidelity_name(req.simulation.fidelity),
              static_cast<long long>(req.arch.array_rows), static_cast<long long>(req.arch.array_cols),
              sim::dataflow_name(req.arch.dataflow), static_cast<long long>(g.at("cells").get<std::int64_t>()),
              res.table.at("cells")[0].at("edges").size(), req.ops.size());
  std::printf("per op, summed over every edge of every cell (x_: relative to the cheapest op that costs anything):\n%s",
              costmodels::format_summary(res.summary, req.arch).c_str());
  return 0;
}

}  // namespace hwnas::app
