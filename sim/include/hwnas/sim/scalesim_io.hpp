#pragma once
// SCALE-Sim v2 interoperability: its config (.cfg) and topology CSVs in, its three report CSVs
// out. What is read and how each quirk is handled is in docs/sim-cli.md; the reference semantics
// are in scalesim-semantics.md. Every malformed input is a hwnas::InputError naming the file, the
// line and the value.
#include <string>
#include <vector>

#include "hwnas/sim/arch_config.hpp"
#include "hwnas/sim/layer.hpp"
#include "hwnas/sim/layer_stats.hpp"
#include "hwnas/sim/topology.hpp"

namespace hwnas::sim {

struct ScaleSimConfig {
  std::string run_name;           // [general] run_name (reports go to <dir>/<run_name>/ there)
  ArchConfig arch;                // the accelerator, with hwnas defaults for what SCALE-Sim lacks
  bool calc_bandwidth = true;     // [run_presets] InterfaceBandwidth: CALC (true) or USER
  std::vector<double> bandwidths_words_per_cycle;  // [architecture_presets] Bandwidth, as listed
  std::int64_t ifmap_offset = 0, filter_offset = 10000000, ofmap_offset = 20000000;
  std::vector<std::string> warnings;  // keys SCALE-Sim itself ignores, and similar remarks
};

// Fills the fields a SCALE-Sim config does not have: clock, vector lanes (= array_cols, which must
// be set first) and energy per event. The values are listed in docs/sim-cli.md.
void apply_scalesim_defaults(ArchConfig& arch);

ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& file);
ScaleSimConfig load_scalesim_config(const std::string& path);

enum class ScaleSimTopologyFormat { kConv, kGemm };  // SCALE-Sim's -i conv | gemm
ScaleSimTopologyFormat parse_scalesim_topology_format(const std::string& name);  // InputError

// Reads a SCALE-Sim topology CSV as SCALE-Sim does: first line is a header, trailing commas, an
// optional 9th stride_w column, layers named with "DP" expanded into one single-channel layer per
// channel ("<name>Channel_<i>"), ceil output rounding, no padding. GEMM rows "name, M, N, K,"
// become a conv with an M x K ifmap, a 1 x K filter, 1 channel and N filters.
Topology parse_scalesim_topology(const std::string& text, const std::string& file,
                                 ScaleSimTopologyFormat format);
Topology load_scalesim_topology(const std::string& path, ScaleSimTopologyFormat format);

// The three report files, one line per layer, with SCALE-Sim's exact headers. SRAM counts and
// cycles are hwnas's (equal to SCALE-Sim's for dense layers in CALC mode); start/stop cycles and
// DRAM columns follow hwnas's own memory model (see docs/sim-cli.md).
std::string scalesim_compute_report(const std::vector<LayerStats>& stats);
std::string scalesim_bandwidth_report(const std::vector<LayerStats>& stats);
std::string scalesim_detailed_access_report(const std::vector<LayerStats>& stats);
// Writes DIR/COMPUTE_REPORT.csv, DIR/BANDWIDTH_REPORT.csv and DIR/DETAILED_ACCESS_REPORT.csv.
void write_scalesim_reports(const std::string& dir, const std::vector<LayerStats>& stats);

// Python's str(float): the shortest text that reads back as the same double ("100.0", "97.5").
std::string python_float_string(double x);

}  // namespace hwnas::sim
