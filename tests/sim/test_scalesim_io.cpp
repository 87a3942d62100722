// SCALE-Sim interoperability: config and topology readers, report writers, and the figures
// SCALE-Sim v2 reports in CALC mode, derived by hand from scalesim-semantics.md sections 3-5.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "sim_test_util.hpp"
#include "hwnas/sim/analytic.hpp"
#include "hwnas/sim/scalesim_io.hpp"

namespace fs = std::filesystem;
using hwnas::InputError;
using namespace hwnas::sim;

namespace {

using hwnas::sim::testing::contains;
using hwnas::sim::testing::input_error;

std::string cfg_text(int rows, int cols, const std::string& df, const std::string& mode,
                     const std::string& bandwidth = "10", int sram_kib = 64) {
  std::ostringstream o;
  o << "[general]\nrun_name = test_run\n\n[architecture_presets]\n"
    << "ArrayHeight:    " << rows << "\nArrayWidth:     " << cols << "\n"
    << "IfmapSramSzkB:    " << sram_kib << "\nFilterSramSzkB:   " << sram_kib
    << "\nOfmapSramSzkB:    " << sram_kib << "\n"
    << "IfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\n"
    << "Bandwidth : " << bandwidth << "\nDataflow : " << df << "\nMemoryBanks:   1\n\n"
    << "[run_presets]\nInterfaceBandwidth: " << mode << "\n";
  return o.str();
}

// One CSV line split on ", " into its fields (without the trailing empty field).
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::string f;
  std::istringstream in(line);
  while (std::getline(in, f, ',')) {
    const auto b = f.find_first_not_of(' ');
    out.push_back(b == std::string::npos ? "" : f.substr(b));
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::string l;
  std::istringstream in(text);
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// The figures SCALE-Sim v2 reports for one dense layer in CALC mode (sections 3-5).
struct Expected {
  std::int64_t total_cycles, ifmap_reads, filter_reads, ofmap_writes;
  double mapping_eff_pct, compute_util_pct, overall_util_pct;
};

void expect_scalesim_figures(const LayerStats& s, const Expected& e) {
  EXPECT_EQ(s.total_cycles, e.total_cycles);
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_EQ(s.sram_ifmap_reads, e.ifmap_reads);
  EXPECT_EQ(s.sram_filter_reads, e.filter_reads);
  EXPECT_EQ(s.sram_ofmap_writes, e.ofmap_writes);
  EXPECT_NEAR(s.mapping_efficiency_pct, e.mapping_eff_pct, 1e-9);
  EXPECT_NEAR(s.compute_util_pct, e.compute_util_pct, 1e-9);
  EXPECT_NEAR(s.overall_util_pct, e.overall_util_pct, 1e-9);
}

}  // namespace

TEST(ScaleSimConfig, ReadsSampleConfigCaseInsensitively) {
  const ScaleSimConfig c = parse_scalesim_config(
      "; SCALE-Sim sample\n[general]\nRUN_NAME = my_run\n[architecture_presets]\n"
      "arrayheight: 16\nARRAYWIDTH= 8\nIfmapSramSzkB:64\nfilterSRAMszkb = 32\n"
      "OfmapSramSzkB : 16   # annotated\nDataflow : WS\nBandwidth : 12, 7\n"
      "[run_presets]\nInterfaceBandwidth: USER\n",
      "a.cfg");
  EXPECT_EQ(c.run_name, "my_run");
  EXPECT_EQ(c.arch.array_rows, 16);
  EXPECT_EQ(c.arch.array_cols, 8);
  EXPECT_EQ(c.arch.ifmap_sram_kib, 64);
  EXPECT_EQ(c.arch.filter_sram_kib, 32);
  EXPECT_EQ(c.arch.ofmap_sram_kib, 16);
  EXPECT_EQ(c.arch.word_bytes, 1);
  EXPECT_EQ(c.arch.ifmap_sram_words(), 65536);
  EXPECT_EQ(c.arch.dataflow, Dataflow::kWeightStationary);
  EXPECT_FALSE(c.calc_bandwidth);
  EXPECT_FALSE(c.arch.dram_bandwidth_unlimited);
  EXPECT_EQ(c.arch.dram_bandwidth_words_per_cycle, 12);  // USER: first Bandwidth value only
  ASSERT_EQ(c.bandwidths_words_per_cycle.size(), 2u);
  EXPECT_EQ(c.arch.vector_lanes, 8);  // defaults to the array width
  EXPECT_GT(c.arch.energy.mac_pj, 0);
  EXPECT_GT(c.arch.clock_mhz, 0);
}

TEST(ScaleSimConfig, CalcModeMeansUnlimitedDramBandwidth) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(32, 32, "os", "CALC"), "s.cfg");
  EXPECT_TRUE(c.calc_bandwidth);
  EXPECT_TRUE(c.arch.dram_bandwidth_unlimited);
  EXPECT_EQ(c.run_name, "test_run");
  EXPECT_EQ(c.filter_offset, 10000000);
  ASSERT_EQ(c.warnings.size(), 1u);  // MemoryBanks is not read by SCALE-Sim v2
  EXPECT_TRUE(contains(c.warnings[0], "MemoryBanks"));
  // The config is a valid hwnas accelerator (round-trips through the JSON parser).
  const ArchConfig again = parse_arch_config(arch_config_to_json(c.arch), "x");
  EXPECT_EQ(arch_config_hash(again), arch_config_hash(c.arch));
}

TEST(ScaleSimConfig, ErrorsNameFileLineAndValue) {
  std::string m = input_error([] {
    std::string t = cfg_text(8, 8, "os", "CALC");
    t.insert(t.find("Dataflow"), "ArrayDepth: 3\n");
    parse_scalesim_config(t, "u.cfg");
  });
  EXPECT_TRUE(contains(m, "u.cfg:14")) << m;
  EXPECT_TRUE(contains(m, "arraydepth")) << m;
  EXPECT_TRUE(contains(m, "'3'")) << m;

  m = input_error([] {
    std::string t = cfg_text(8, 8, "os", "CALC");
    t.replace(t.find("ArrayHeight:    8"), 17, "ArrayHeight: 8x");
    parse_scalesim_config(t, "u.cfg");
  });
  EXPECT_TRUE(contains(m, "u.cfg:5")) << m;
  EXPECT_TRUE(contains(m, "'8x'")) << m;

  m = input_error([] { parse_scalesim_config(cfg_text(8, 8, "rs", "CALC"), "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:") && contains(m, "'rs'")) << m;

  m = input_error([] { parse_scalesim_config(cfg_text(8, 8, "os", "MAYBE"), "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:18") && contains(m, "MAYBE")) << m;

  m = input_error([] { parse_scalesim_config(cfg_text(8, 8, "os", "USER", "-2"), "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:") && contains(m, "-2")) << m;

  m = input_error([] { parse_scalesim_config("[general]\nrun_name = x\n", "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg") && contains(m, "arrayheight")) << m;

  m = input_error([] { parse_scalesim_config("[sparsity]\nSparsitySupport: true\n", "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:1") && contains(m, "sparsity")) << m;

  m = input_error([] { parse_scalesim_config("ArrayHeight: 8\n", "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:1")) << m;

  m = input_error([] { parse_scalesim_config("[general]\njust some words\n", "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg:2") && contains(m, "just some words")) << m;

  // 1 KiB = 1024 one-byte words; half of it cannot hold a 4096-wide array edge.
  m = input_error([] { parse_scalesim_config(cfg_text(8, 4096, "os", "CALC", "10", 1), "u.cfg"); });
  EXPECT_TRUE(contains(m, "u.cfg")) << m;
}

TEST(ScaleSimConfig, MissingFileIsAnInputError) {
  const std::string m = input_error([] { load_scalesim_config("/nonexistent/scale.cfg"); });
  EXPECT_TRUE(contains(m, "/nonexistent/scale.cfg")) << m;
}

TEST(ScaleSimTopology, ConvRowsStrideWidthAndCeilRounding) {
  const Topology t = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n"
      "Conv1, 224, 224, 7, 7, 3, 64, 2,\n"
      "\n"
      "Conv2, 34, 30, 3, 3, 8, 16, 2, 1,\n",
      "net.csv", ScaleSimTopologyFormat::kConv);
  EXPECT_TRUE(t.warnings.empty());
  ASSERT_EQ(t.layers.size(), 2u);
  const Layer& a = t.layers[0];
  EXPECT_EQ(a.name, "Conv1");
  EXPECT_EQ(a.rounding, OutputRounding::kCeil);
  EXPECT_EQ(a.pad_h, 0);
  EXPECT_EQ(a.stride_w, 2);
  EXPECT_EQ(a.out_h(), 110);  // ceil((224 - 7 + 2) / 2), one more than PyTorch's 109
  const Layer& b = t.layers[1];
  EXPECT_EQ(b.stride_h, 2);
  EXPECT_EQ(b.stride_w, 1);
  EXPECT_EQ(b.out_h(), 17);  // ceil((34 - 3 + 2) / 2)
  EXPECT_EQ(b.out_w(), 28);
  const GemmShape g = gemm_shape(b);
  EXPECT_EQ(g.m, 17 * 28);
  EXPECT_EQ(g.n, 16);
  EXPECT_EQ(g.k, 3 * 3 * 8);
}

TEST(ScaleSimTopology, DepthwiseNamesExpandIntoOneLayerPerChannel) {
  const Topology t = parse_scalesim_topology(
      "name,h,w,r,s,c,n,stride,\n"
      "mb_DP1, 6, 6, 3, 3, 3, 1, 1,\n"
      "dp_lowercase, 6, 6, 3, 3, 3, 1, 1,\n",
      "dw.csv", ScaleSimTopologyFormat::kConv);
  ASSERT_EQ(t.layers.size(), 4u);  // "DP" is case-sensitive: the second row stays one layer
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.layers[i].name, "mb_DP1Channel_" + std::to_string(i));
    EXPECT_EQ(t.layers[i].in_channels, 1);
    EXPECT_EQ(t.layers[i].out_channels, 1);
    EXPECT_EQ(t.layers[i].groups, 1);
  }
  EXPECT_EQ(t.layers[3].name, "dp_lowercase");
  EXPECT_EQ(t.layers[3].in_channels, 3);
}

TEST(ScaleSimTopology, GemmRowsMapToAConvAsScaleSimDoes) {
  const Topology t = parse_scalesim_topology("Layer, M, N, K,\nfc1, 10, 5, 7,\n", "g.csv",
                                             ScaleSimTopologyFormat::kGemm);
  ASSERT_EQ(t.layers.size(), 1u);
  const Layer& l = t.layers[0];
  EXPECT_EQ(l.kind, LayerKind::kConv2d);
  EXPECT_EQ(l.in_h, 10);  // ifmap M x K
  EXPECT_EQ(l.in_w, 7);
  EXPECT_EQ(l.kernel_h, 1);  // filter 1 x K
  EXPECT_EQ(l.kernel_w, 7);
  EXPECT_EQ(l.in_channels, 1);
  EXPECT_EQ(l.out_channels, 5);
  const GemmShape g = gemm_shape(l);
  EXPECT_EQ(g.m, 10);
  EXPECT_EQ(g.n, 5);
  EXPECT_EQ(g.k, 7);
}

TEST(ScaleSimTopology, MissingTrailingCommaAndDataFirstLineAreFlagged) {
  const Topology t = parse_scalesim_topology("c0, 8, 8, 3, 3, 1, 1, 1,\nc1, 8, 8, 3, 3, 1, 1, 1\n",
                                             "w.csv", ScaleSimTopologyFormat::kConv);
  ASSERT_EQ(t.layers.size(), 1u);  // the first line is the header, whatever it holds
  EXPECT_EQ(t.layers[0].name, "c1");
  ASSERT_EQ(t.warnings.size(), 2u);
  EXPECT_TRUE(contains(t.warnings[0], "w.csv:1"));
  EXPECT_TRUE(contains(t.warnings[1], "w.csv:2"));
}

TEST(ScaleSimTopology, QuirksOfScaleSimsOwnConvNetsFiles) {
  // As found in SCALE-Sim's conv_nets/*.csv: extra columns after the stride, a row of empty
  // fields, a "#dw" note after the trailing comma, a tab-indented row.
  const Topology t = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,,,Eh,Ew,e2\n"
      ",,,,,,,,,,,,\n"
      "Conv1,224,224,7,7,3,64,2,,,110,110,12100\n"
      "Conv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw\n"
      "\tConv3,14,14,1,1,512,512,1,\n",
      "zoo.csv", ScaleSimTopologyFormat::kConv);
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[0].name, "Conv1");
  EXPECT_EQ(t.layers[0].stride_w, 2);
  EXPECT_EQ(t.layers[0].out_w(), 110);
  EXPECT_EQ(t.layers[1].name, "Conv2_dw");
  EXPECT_EQ(t.layers[1].in_channels, 1);
  EXPECT_EQ(t.layers[2].name, "Conv3");
  EXPECT_EQ(t.layers[2].out_channels, 512);
  bool empty_row_noted = false, extra_noted = false;
  for (const auto& w : t.warnings) {
    empty_row_noted = empty_row_noted || contains(w, "zoo.csv:2");
    extra_noted = extra_noted || (contains(w, "zoo.csv:3") && contains(w, "ignored"));
  }
  EXPECT_TRUE(empty_row_noted);
  EXPECT_TRUE(extra_noted);
}

TEST(ScaleSimTopology, ShippedExamplesParse) {
  const fs::path root = HWNAS_SOURCE_DIR;
  const Topology rn = load_scalesim_topology((root / "topologies" / "resnet18.csv").string(),
                                             ScaleSimTopologyFormat::kConv);
  EXPECT_TRUE(rn.warnings.empty());
  ASSERT_EQ(rn.layers.size(), 21u);  // 20 convs + FC
  // The ifmap sizes are the rows the padded convolution touches, so SCALE-Sim's ceil rounding
  // gives ResNet-18's real output sizes: 112, 56, 28, 14, 7.
  EXPECT_EQ(rn.layers[0].out_h(), 112);
  EXPECT_EQ(rn.layers[1].out_h(), 56);
  EXPECT_EQ(rn.layers[5].out_h(), 28);
  EXPECT_EQ(rn.layers[7].out_h(), 28);
  EXPECT_EQ(rn.layers[10].out_h(), 14);
  EXPECT_EQ(rn.layers[12].out_h(), 14);
  EXPECT_EQ(rn.layers[15].out_h(), 7);
  EXPECT_EQ(rn.layers[17].out_h(), 7);
  std::int64_t macs = 0;
  for (const Layer& l : rn.layers) macs += layer_macs(l);
  EXPECT_EQ(macs, 1814073344);  // ResNet-18's published ~1.8 GMACs, conv + FC, counted exactly
  const Topology mb = load_scalesim_topology(
      (root / "topologies" / "mobilenet_v1_head.csv").string(), ScaleSimTopologyFormat::kConv);
  EXPECT_EQ(mb.layers.size(), 3u + 32u + 64u);
  EXPECT_EQ(mb.layers[1].name, "Conv2_DPChannel_0");
  EXPECT_EQ(mb.layers[1].out_h(), 112);
  EXPECT_EQ(mb.layers[34].name, "Conv4_DPChannel_0");
  EXPECT_EQ(mb.layers[34].out_h(), 56);
}

TEST(ScaleSimTopology, ErrorsNameFileLineAndValue) {
  const auto conv = ScaleSimTopologyFormat::kConv;
  std::string m = input_error([&] {
    parse_scalesim_topology("hdr,\nok, 8, 8, 3, 3, 1, 1, 1,\nbad, 8, 8, 3, three, 1, 1, 1,\n", "e.csv",
                            conv);
  });
  EXPECT_TRUE(contains(m, "e.csv:3") && contains(m, "'three'") && contains(m, "filter width"))
      << m;

  m = input_error([&] { parse_scalesim_topology("hdr,\nshort, 8, 8, 3,\n", "e.csv", conv); });
  EXPECT_TRUE(contains(m, "e.csv:2") && contains(m, "4 fields")) << m;

  m = input_error([&] { parse_scalesim_topology("hdr,\nbig, 8, 8, 9, 3, 1, 1, 1,\n", "e.csv", conv); });
  EXPECT_TRUE(contains(m, "e.csv:2") && contains(m, "9")) << m;

  m = input_error([&] { parse_scalesim_topology("hdr,\nzero, 8, 8, 3, 3, 0, 1, 1,\n", "e.csv", conv); });
  EXPECT_TRUE(contains(m, "e.csv:2") && contains(m, "channels")) << m;

  m = input_error([&] { parse_scalesim_topology("hdr,\n", "e.csv", conv); });
  EXPECT_TRUE(contains(m, "e.csv") && contains(m, "no layers")) << m;

  m = input_error([&] {
    parse_scalesim_topology("L,M,N,K,\ng, 4, 4,\n", "g.csv", ScaleSimTopologyFormat::kGemm);
  });
  EXPECT_TRUE(contains(m, "g.csv:2")) << m;

  m = input_error([] { parse_scalesim_topology_format("fc"); });
  EXPECT_TRUE(contains(m, "'fc'")) << m;
}

TEST(ScaleSimReports, HeadersAndLineFormat) {
  LayerStats s;
  s.total_cycles = 99;
  s.stall_cycles = 0;
  s.overall_util_pct = 12.5;
  s.mapping_efficiency_pct = 100;
  s.compute_util_pct = 50;
  s.sram_ifmap_reads = 198;
  s.sram_filter_reads = 33;
  s.sram_ofmap_writes = 9;
  s.dram_ifmap_reads = 50;
  s.dram_filter_reads = 25;
  s.dram_ofmap_writes = 10;
  const std::vector<LayerStats> stats = {s, s};

  const auto compute = lines(scalesim_compute_report(stats));
  ASSERT_EQ(compute.size(), 3u);
  EXPECT_EQ(compute[0],
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute "
            "Util %,");
  EXPECT_EQ(compute[1], "0, 99, 0, 12.5, 100.0, 50.0,");
  EXPECT_EQ(compute[2], "1, 99, 0, 12.5, 100.0, 50.0,");

  const auto bw = lines(scalesim_bandwidth_report(stats));
  ASSERT_EQ(bw.size(), 3u);
  EXPECT_EQ(bw[0],
            "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
            "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,");
  // SRAM: count / Total Cycles; DRAM: count / (stop - start + 1) over hwnas's span [0, 99].
  EXPECT_EQ(bw[1], "0, 2.0, 0.3333333333333333, 0.09090909090909091, 0.5, 0.25, 0.1,");

  const auto detail = lines(scalesim_detailed_access_report(stats));
  ASSERT_EQ(detail.size(), 3u);
  EXPECT_EQ(detail[0],
            "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter "
            "Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM "
            "OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, "
            "DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
            "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,");
  EXPECT_EQ(detail[2], "1, 0, 99, 198, 0, 99, 33, 0, 99, 9, 0, 99, 50, 0, 99, 25, 0, 99, 10,");
}

TEST(ScaleSimReports, PythonFloatFormatting) {
  EXPECT_EQ(python_float_string(100), "100.0");
  EXPECT_EQ(python_float_string(0), "0.0");
  EXPECT_EQ(python_float_string(97.5), "97.5");
  EXPECT_EQ(python_float_string(0.1), "0.1");
  EXPECT_EQ(python_float_string(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(python_float_string(1e6), "1000000.0");
  EXPECT_EQ(python_float_string(1.5e-5), "1.5e-05");
  EXPECT_EQ(python_float_string(2e16), "2e+16");
}

TEST(ScaleSimReports, WritesTheThreeFiles) {
  const fs::path dir = fs::temp_directory_path() / ("hwnas_ssr_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write_scalesim_reports(dir.string(), {LayerStats{}});
  for (const char* f : {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"})
    EXPECT_EQ(lines(hwnas::read_file(dir / f)).size(), 2u) << f;
  fs::remove_all(dir);
}

// ---- SCALE-Sim v2's CALC-mode figures, by hand (dense layers, no stalls) ----------------------
// 56x56x64 -> 128 filters 3x3 stride 2: E = ceil((56-3+2)/2) = 28, M = 784, N = 128, K = 576.

TEST(ScaleSimFigures, Conv3x3Stride2On8x8OutputStationary) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(8, 8, "os", "CALC"), "os.cfg");
  const Topology t = parse_scalesim_topology("hdr,\nc, 56, 56, 3, 3, 64, 128, 2,\n", "t.csv",
                                             ScaleSimTopologyFormat::kConv);
  // os: Sr = M = 784 -> 98 row folds, Sc = N = 128 -> 16 col folds, T = K = 576,
  // 576 + 8 + 8 - 2 = 590 rows per fold; 98*16*590 = 925,120 demand rows -> 925,119 cycles.
  expect_scalesim_figures(simulate_layer_analytic(c.arch, t.layers.at(0)),
                          {925119, 16 * 784 * 576, 98 * 576 * 128, 784 * 128 + 98 * 16 * 16, 100.0,
                           100.0 * 576 / 590, 100.0 * 784 * 128 * 576 / (925119.0 * 64)});
}

TEST(ScaleSimFigures, Conv3x3Stride2On8x8WeightStationary) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(8, 8, "ws", "CALC"), "ws.cfg");
  const Topology t = parse_scalesim_topology("hdr,\nc, 56, 56, 3, 3, 64, 128, 2,\n", "t.csv",
                                             ScaleSimTopologyFormat::kConv);
  // ws: Sr = K = 576 -> 72, Sc = N = 128 -> 16, T = M = 784; 784 + 16 + 8 - 2 = 806 rows per
  // fold; 72*16*806 = 928,512 -> 928,511. Compute util uses cyc_fold = T + 2r + 2c - 3 = 813.
  expect_scalesim_figures(simulate_layer_analytic(c.arch, t.layers.at(0)),
                          {928511, 16 * 784 * 576, 576 * 128, 72 * 784 * 128, 100.0,
                           100.0 * 784 / 813, 100.0 * 784 * 128 * 576 / (928511.0 * 64)});
}

TEST(ScaleSimFigures, Conv3x3Stride2On8x8InputStationary) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(8, 8, "is", "CALC"), "is.cfg");
  const Topology t = parse_scalesim_topology("hdr,\nc, 56, 56, 3, 3, 64, 128, 2,\n", "t.csv",
                                             ScaleSimTopologyFormat::kConv);
  // is: Sr = K = 576 -> 72, Sc = M = 784 -> 98, T = N = 128; 128 + 16 + 8 - 2 = 150 rows per
  // fold; 72*98*150 = 1,058,400 -> 1,058,399. cyc_fold = 128 + 16 + 16 - 3 = 157.
  expect_scalesim_figures(simulate_layer_analytic(c.arch, t.layers.at(0)),
                          {1058399, 784 * 576, 98 * 576 * 128, 72 * 784 * 128, 100.0,
                           100.0 * 128 / 157, 100.0 * 784 * 128 * 576 / (1058399.0 * 64)});
}

TEST(ScaleSimFigures, PartlyFilledGemmOn4x4OutputStationary) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(4, 4, "os", "CALC"), "os.cfg");
  const Topology t =
      parse_scalesim_topology("L,M,N,K,\ng, 10, 5, 7,\n", "g.csv", ScaleSimTopologyFormat::kGemm);
  // M = 10 -> 3 row folds, N = 5 -> 2 col folds, T = 7; 7 + 4 + 4 - 2 = 13 rows per fold;
  // 3*2*13 = 78 -> 77. Mapping 10*5 / (12*8) ; SRAM ifmap 2*70, filter 3*35, ofmap 50 + 6*8.
  const double map = 100.0 * 50 / 96;
  expect_scalesim_figures(simulate_layer_analytic(c.arch, t.layers.at(0)),
                          {77, 140, 105, 98, map, map * 7 / 13, 100.0 * 350 / (77.0 * 16)});
}

TEST(ScaleSimFigures, DepthwiseSublayersEachPayTheirOwnFolds) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(4, 4, "os", "CALC"), "os.cfg");
  const Topology t = parse_scalesim_topology("hdr,\ndw_DP, 6, 6, 3, 3, 2, 1, 1,\n", "d.csv",
                                             ScaleSimTopologyFormat::kConv);
  ASSERT_EQ(t.layers.size(), 2u);
  // Each sublayer: E = 4, M = 16, N = 1, K = 9: 4 row folds x 1 col fold of 9 + 6 = 15 rows
  // -> 59 cycles; mapping 16 / 64 = 25 %; ifmap 16*9, filter 4*9, ofmap 16 + 4*8.
  for (const Layer& l : t.layers)
    expect_scalesim_figures(simulate_layer_analytic(c.arch, l),
                            {59, 144, 36, 48, 25.0, 25.0 * 9 / 15, 100.0 * 144 / (59.0 * 16)});
}

TEST(ScaleSimFigures, ComputeReportLineForTheReferenceLayer) {
  const ScaleSimConfig c = parse_scalesim_config(cfg_text(8, 8, "os", "CALC"), "os.cfg");
  const Topology t = parse_scalesim_topology("hdr,\nc, 56, 56, 3, 3, 64, 128, 2,\n", "t.csv",
                                             ScaleSimTopologyFormat::kConv);
  const auto report = lines(scalesim_compute_report({simulate_layer_analytic(c.arch, t.layers[0])}));
  ASSERT_EQ(report.size(), 2u);
  const auto f = fields(report[1]);
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0], "0");
  EXPECT_EQ(f[1], "925119");
  EXPECT_EQ(f[2], "0");
  EXPECT_NEAR(std::stod(f[3]), 100.0 * 57802752 / 59207616, 1e-12);
  EXPECT_EQ(f[4], "100.0");
  EXPECT_NEAR(std::stod(f[5]), 100.0 * 576 / 590, 1e-12);
}

TEST(ScaleSimFigures, UserModeOnlyAddsStallsToTheCalcFigures) {
  // USER mode limits DRAM to Bandwidth[0] words/cycle; the mapping, compute cycles and SRAM
  // counts are those of CALC mode, and total = compute + stall.
  const Topology t = parse_scalesim_topology("hdr,\nc, 56, 56, 3, 3, 64, 128, 2,\n", "t.csv",
                                             ScaleSimTopologyFormat::kConv);
  const ScaleSimConfig calc = parse_scalesim_config(cfg_text(8, 8, "ws", "CALC"), "c.cfg");
  const ScaleSimConfig user = parse_scalesim_config(cfg_text(8, 8, "ws", "USER", "1"), "u.cfg");
  EXPECT_EQ(user.arch.dram_bandwidth_words_per_cycle, 1);
  const LayerStats a = simulate_layer_analytic(calc.arch, t.layers[0]);
  const LayerStats b = simulate_layer_analytic(user.arch, t.layers[0]);
  EXPECT_EQ(b.compute_cycles, a.compute_cycles);
  EXPECT_EQ(b.total_cycles, b.compute_cycles + b.stall_cycles);
  // At 1 word/cycle the DRAM words alone take longer than the compute.
  EXPECT_GE(b.total_cycles, b.dram_ifmap_reads + b.dram_filter_reads);
  EXPECT_GT(b.stall_cycles, 0);
  EXPECT_EQ(b.sram_ifmap_reads, a.sram_ifmap_reads);
  EXPECT_EQ(b.sram_filter_reads, a.sram_filter_reads);
  EXPECT_EQ(b.sram_ofmap_writes, a.sram_ofmap_writes);
  EXPECT_DOUBLE_EQ(b.mapping_efficiency_pct, a.mapping_efficiency_pct);
  EXPECT_DOUBLE_EQ(b.compute_util_pct, a.compute_util_pct);
  EXPECT_LT(b.overall_util_pct, a.overall_util_pct);
}
