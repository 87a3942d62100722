// hwnas sim: simulate one layer or a whole network on one accelerator and report per-layer
// cycles, utilisation, SRAM/DRAM traffic and energy (docs/sim-cli.md).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/progress.hpp"
#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/presets.hpp"
#include "hwnas/sim/cycle_sim.hpp"
#include "hwnas/sim/report.hpp"
#include "hwnas/sim/scalesim_io.hpp"
#include "hwnas/sim/topology.hpp"
#include "options.hpp"

namespace hwnas::app {

namespace {

namespace fs = std::filesystem;
using sim::ArchConfig;
using sim::Layer;
using sim::LayerStats;

// Options allows one value per option; --layer may be repeated, so every occurrence is folded
// into one "--layer=SPEC1;SPEC2" before parsing (a spec never contains ';').
Args fold_repeated_layers(const Args& args) {
  Args out;
  std::vector<std::string> specs;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--layer" && i + 1 < args.size()) {
      specs.push_back(args[++i]);
    } else if (a.rfind("--layer=", 0) == 0) {
      specs.push_back(a.substr(8));
    } else {
      out.push_back(a);
    }
  }
  if (specs.size() == 1 && specs.front().empty()) specs.clear();
  if (!specs.empty()) {
    std::string joined;
    for (const auto& s : specs) joined += (joined.empty() ? "" : ";") + s;
    out.push_back("--layer=" + joined);
  } else if (!args.empty() && args.back() == "--layer") {
    out.push_back("--layer");  // let Options report the missing value
  }
  return out;
}

std::vector<Layer> layers_from_specs(const std::string& joined) {
  std::vector<Layer> layers;
  std::size_t start = 0;
  while (start <= joined.size()) {
    std::size_t end = joined.find(';', start);
    if (end == std::string::npos) end = joined.size();
    std::string spec = joined.substr(start, end - start);
    const auto b = spec.find_first_not_of(" \t");
    if (b != std::string::npos) {
      const std::string where = "--layer #" + std::to_string(layers.size() + 1);
      Layer l = sim::parse_layer_spec(spec.substr(b), where);
      if (l.name.empty()) l.name = "layer" + std::to_string(layers.size());
      layers.push_back(std::move(l));
    }
    start = end + 1;
  }
  return layers;
}

bool has_csv_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".csv";
}

std::string describe_arch(const ArchConfig& a) {
  char buf[512];
  std::string bw = a.dram_bandwidth_unlimited
                       ? std::string("unlimited (SCALE-Sim CALC)")
                       : std::to_string(a.dram_bandwidth_words_per_cycle) + " words/cycle";
  std::snprintf(buf, sizeof buf,
                "accelerator %s: %lldx%lld %s, SRAM ifmap/filter/ofmap %lld/%lld/%lld KiB, "
                "%lld B/word, DRAM %s, %lld vector lanes, %.0f MHz",
                a.name.c_str(), static_cast<long long>(a.array_rows),
                static_cast<long long>(a.array_cols), sim::dataflow_name(a.dataflow),
                static_cast<long long>(a.ifmap_sram_kib), static_cast<long long>(a.filter_sram_kib),
                static_cast<long long>(a.ofmap_sram_kib), static_cast<long long>(a.word_bytes),
                bw.c_str(), static_cast<long long>(a.vector_lanes), a.clock_mhz);
  return buf;
}

}  // namespace

int cmd_sim(const Args& raw_args) {
  Options opts("sim", "simulate a layer or a network on a systolic-array accelerator");
  opts.add("arch", "FILE.json", "", "accelerator config file, or a preset name (e.g. gemmini_16x16)")
      .add("scalesim-cfg", "FILE.cfg", "", "SCALE-Sim v2 config instead of --arch")
      .add("layer", "SPEC",
           "", "one layer, e.g. 'conv2d h=32 w=32 c=16 k=16 r=3 pad=1' (repeatable)")
      .add("topology", "FILE",
           "", "network: hwnas .csv/.json, or a SCALE-Sim topology CSV with --scalesim-cfg")
      .add("topology-format", "conv|gemm", "",
           "read --topology as a SCALE-Sim CSV of this kind (SCALE-Sim's -i; default conv)")
      .add("fidelity", "cycle|analytic", "cycle", "cycle-level SystemC model or analytic twin")
      .add("out", "DIR", "", "write layers.json and layers.csv (and SCALE-Sim reports) here")
      .flag("scalesim-reports", "also write SCALE-Sim's three report CSVs to --out")
      .flag("check-values", "cycle fidelity: compute real GEMM values and check them");
  if (!opts.parse(fold_repeated_layers(raw_args))) return 0;
  std::fprintf(stderr, "hwnas sim: effective settings\n%s", opts.effective_settings().c_str());

  // --- accelerator
  const bool have_arch = opts.is_set("arch"), have_cfg = opts.is_set("scalesim-cfg");
  if (have_arch == have_cfg)
    throw InputError("hwnas sim", "give exactly one of --arch FILE.json or --scalesim-cfg FILE.cfg");
  ArchConfig arch;
  if (have_cfg) {
    const sim::ScaleSimConfig cfg = sim::load_scalesim_config(opts.str("scalesim-cfg"));
    for (const auto& w : cfg.warnings) std::fprintf(stderr, "hwnas sim: note: %s\n", w.c_str());
    arch = cfg.arch;
  } else {
    arch = sim::load_arch_config_or_preset(opts.str("arch"));
  }

  // --- layers
  const bool have_layer = opts.is_set("layer"), have_topo = opts.is_set("topology");
  if (have_layer == have_topo)
    throw InputError("hwnas sim", "give either --layer SPEC (repeatable) or --topology FILE");
  if (opts.is_set("topology-format") && !have_topo)
    throw InputError("hwnas sim", "--topology-format needs --topology");
  std::vector<Layer> layers;
  std::string source;
  if (have_layer) {
    layers = layers_from_specs(opts.str("layer"));
    if (layers.empty()) throw InputError("--layer", "no layer spec given");
    source = "--layer";
  } else {
    const std::string path = opts.str("topology");
    source = path;
    sim::Topology topo;
    const bool scalesim_topo =
        has_csv_extension(path) && (have_cfg || opts.is_set("topology-format"));
    if (scalesim_topo) {
      const auto format = sim::parse_scalesim_topology_format(
          opts.is_set("topology-format") ? opts.str("topology-format") : "conv");
      topo = sim::load_scalesim_topology(path, format);
    } else {
      if (opts.is_set("topology-format"))
        throw InputError("--topology-format", "applies to SCALE-Sim .csv topologies only, not '" +
                                                  path + "'");
      topo = sim::load_topology(path);
    }
    for (const auto& w : topo.warnings) std::fprintf(stderr, "hwnas sim: note: %s\n", w.c_str());
    layers = std::move(topo.layers);
  }

  const std::string fidelity = opts.str("fidelity");
  if (fidelity != "cycle" && fidelity != "analytic")
    throw InputError("--fidelity", "'" + fidelity + "' is not one of cycle, analytic");
  const bool check_values = opts.enabled("check-values");
  if (check_values && fidelity != "cycle")
    throw InputError("--check-values", "needs --fidelity cycle (the analytic twin has no values)");
  const bool scalesim_reports = have_cfg || opts.enabled("scalesim-reports");
  if (opts.enabled("scalesim-reports") && !opts.is_set("out"))
    throw InputError("--scalesim-reports", "needs --out DIR");

  std::fprintf(stderr, "hwnas sim: %s\n", describe_arch(arch).c_str());
  std::fprintf(stderr, "hwnas sim: %zu layer%s from %s, fidelity %s%s\n", layers.size(),
               layers.size() == 1 ? "" : "s", source.c_str(), fidelity.c_str(),
               check_values ? ", checking GEMM values" : "");

  // --- simulate
  ProgressLine progress("sim", static_cast<std::int64_t>(layers.size()), "layers",
                        ProgressLine::stderr_is_terminal() && layers.size() > 1);
  std::vector<LayerStats> stats;
  if (fidelity == "cycle") {
    sim::CycleRunOptions run;
    run.check_values = check_values;
    run.on_layer_done = [&](std::size_t done, std::size_t) {
      progress.update(static_cast<std::int64_t>(done));
    };
    stats = sim::simulate_layers_cycle(arch, layers, run);
  } else {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      stats.push_back(sim::simulate_layer_analytic(arch, layers[i]));
      progress.update(static_cast<std::int64_t>(i + 1));
    }
  }
  progress.finish();
  if (stats.size() != layers.size())
    throw RuntimeFailure("simulator returned " + std::to_string(stats.size()) + " results for " +
                         std::to_string(layers.size()) + " layers");
  for (std::size_t i = 0; i < layers.size(); ++i) stats[i].layer_name = layers[i].name;

  const LayerStats total = sim::total_layer_stats(layers, stats, arch);
  std::fputs(sim::format_layer_table(stats, total).c_str(), stdout);
  std::fflush(stdout);

  // --- files
  if (opts.is_set("out")) {
    const fs::path dir = opts.str("out");
    write_file_atomically(dir / "layers.json",
                          sim::layers_json(arch, layers, stats, fidelity, source).dump(2) + "\n");
    write_file_atomically(dir / "layers.csv", sim::layers_csv(layers, stats));
    std::string written = "layers.json, layers.csv";
    if (scalesim_reports) {
      sim::write_scalesim_reports(dir.string(), stats);
      written += ", COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, DETAILED_ACCESS_REPORT.csv";
    }
    std::fprintf(stderr, "hwnas sim: wrote %s to %s\n", written.c_str(), dir.string().c_str());
  }
  return 0;
}

}  // namespace hwnas::app
