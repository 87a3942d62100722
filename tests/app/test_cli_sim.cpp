// `hwnas sim` end to end: the real binary, its exit codes, messages and files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/common/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A scratch folder per test, removed at the end.
class CliSim : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("hwnas_cli_sim_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliResult run(const std::vector<std::string>& args) const {
    std::string cmd = "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 " + quote(HWNAS_CLI) + " sim";
    for (const auto& a : args) cmd += " " + quote(a);
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    cmd += " >" + quote(out.string()) + " 2>" + quote(err.string());
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = hwnas::read_file(out);
    r.err = hwnas::read_file(err);
    return r;
  }

  std::string write(const std::string& name, const std::string& text) const {
    hwnas::write_file_atomically(dir_ / name, text);
    return (dir_ / name).string();
  }

  static std::string preset(const std::string& name) {
    return (fs::path(HWNAS_SOURCE_DIR) / "arch_configs" / (name + ".json")).string();
  }

  fs::path dir_;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::string l;
  std::istringstream in(text);
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// Fields of one SCALE-Sim report line ("a, b, c,").
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

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const char* kScaleSimCfg =
    "[general]\nrun_name = cli_test\n\n[architecture_presets]\nArrayHeight:    8\n"
    "ArrayWidth:     8\nIfmapSramSzkB:    64\nFilterSramSzkB:   64\nOfmapSramSzkB:    64\n"
    "IfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : 10\n"
    "Dataflow : os\nMemoryBanks:   1\n\n[run_presets]\nInterfaceBandwidth: CALC\n";

}  // namespace

TEST_F(CliSim, OneLayerOnAPresetGivesTheSameFiguresInBothFidelities) {
  const std::vector<std::string> common = {
      "--arch", preset("scalesim_default_32x32"), "--layer",
      "conv2d h=30 w=30 c=16 k=40 r=3 stride=1 pad=1", "--layer", "maxpool h=30 w=30 c=40 r=2"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const CliResult cycle = run(with({"--fidelity", "cycle", "--out", (dir_ / "cycle").string()}));
  ASSERT_EQ(cycle.exit_code, 0) << cycle.err;
  const CliResult analytic = run(with({"--fidelity", "analytic", "--out", (dir_ / "analytic").string()}));
  ASSERT_EQ(analytic.exit_code, 0) << analytic.err;
  EXPECT_EQ(cycle.out, analytic.out);  // the printed tables are identical
  EXPECT_TRUE(contains(cycle.err, "--fidelity cycle")) << cycle.err;  // effective settings
  const auto jc = nlohmann::json::parse(hwnas::read_file(dir_ / "cycle" / "layers.json"));
  const auto ja = nlohmann::json::parse(hwnas::read_file(dir_ / "analytic" / "layers.json"));
  EXPECT_EQ(jc.at("fidelity"), "cycle");
  EXPECT_EQ(ja.at("fidelity"), "analytic");
  ASSERT_EQ(jc.at("layers").size(), 2u);
  EXPECT_EQ(jc.at("layers"), ja.at("layers"));
  EXPECT_EQ(jc.at("total"), ja.at("total"));
  // os on 32x32: M = 30*30 = 900 -> 29 row folds, N = 40 -> 2 col folds, K = 144;
  // (144 + 32 + 32 - 2) * 29 * 2 - 1 = 11,947 cycles; CALC mode, so no stalls.
  const auto& conv = jc.at("layers")[0].at("stats");
  EXPECT_EQ(conv.at("total_cycles"), 11947);
  EXPECT_EQ(conv.at("stall_cycles"), 0);
  const auto table = lines(cycle.out);
  ASSERT_EQ(table.size(), 6u);  // header, rule, 2 layers, rule, TOTAL
  EXPECT_TRUE(contains(table[2], "11,947")) << table[2];
  EXPECT_EQ(table[5].rfind("TOTAL", 0), 0u);
}

TEST_F(CliSim, TopologyWritesParseableLayersJsonAndCsv) {
  const fs::path out = dir_ / "out";
  const CliResult r = run({"--arch", preset("tiny_radhard_8x8"), "--topology",
                     (fs::path(HWNAS_SOURCE_DIR) / "topologies" / "aconvnet_mstar.json").string(),
                     "--fidelity", "analytic", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 8u + 4u);
  const auto j = nlohmann::json::parse(hwnas::read_file(out / "layers.json"));
  ASSERT_EQ(j.at("layers").size(), 8u);
  EXPECT_EQ(j.at("layers")[0].at("name"), "conv1");
  EXPECT_EQ(j.at("arch").at("name"), "tiny_radhard_8x8");
  // conv1: 84*84 outputs x 16 filters x 25 taps; conv5: 1 x 10 x 3*3*128.
  EXPECT_EQ(j.at("layers")[0].at("stats").at("macs"), 84 * 84 * 16 * 25);
  EXPECT_EQ(j.at("layers")[7].at("stats").at("macs"), 10 * 9 * 128);
  std::int64_t macs = 0;
  for (const auto& l : j.at("layers")) macs += l.at("stats").at("macs").get<std::int64_t>();
  EXPECT_EQ(j.at("total").at("macs"), macs);
  const auto csv = lines(hwnas::read_file(out / "layers.csv"));
  ASSERT_EQ(csv.size(), 9u);
  EXPECT_TRUE(contains(csv[0], "total_cycles,") && contains(csv[0], "sram_ifmap_reads_words") &&
              contains(csv[0], "energy_total_pj"))
      << csv[0];
  EXPECT_EQ(csv[8].rfind("conv5,conv2d h=3 w=3 c=128 k=10 r=3", 0), 0u) << csv[8];
  EXPECT_FALSE(fs::exists(out / "COMPUTE_REPORT.csv"));  // only with --scalesim-reports
}

TEST_F(CliSim, ScaleSimConfigAndTopologyGiveScaleSimReports) {
  const std::string cfg = write("scale.cfg", kScaleSimCfg);
  const std::string topo = write("net.csv",
                                 "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter "
                                 "Width, Channels, Num Filter, Strides,\n"
                                 "conv3, 56, 56, 3, 3, 64, 128, 2,\n"
                                 "dw_DP, 6, 6, 3, 3, 2, 1, 1,\n");
  const fs::path out = dir_ / "reports";
  const CliResult r = run({"--scalesim-cfg", cfg, "--topology", topo, "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "MemoryBanks")) << r.err;  // noted as ignored

  const auto compute = lines(hwnas::read_file(out / "COMPUTE_REPORT.csv"));
  ASSERT_EQ(compute.size(), 4u);  // header + conv3 + two DP sublayers
  EXPECT_EQ(compute[0],
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute "
            "Util %,");
  // conv3 on 8x8 os (scalesim-semantics.md section 3): E = 28, M = 784, N = 128, K = 576;
  // 98 row folds x 16 col folds x (576 + 14) rows - 1 = 925,119 cycles.
  auto c = fields(compute[1]);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0], "0");
  EXPECT_EQ(c[1], "925119");
  EXPECT_EQ(c[2], "0");
  EXPECT_NEAR(std::stod(c[3]), 100.0 * 784 * 128 * 576 / (925119.0 * 64), 1e-9);
  EXPECT_EQ(c[4], "100.0");
  EXPECT_NEAR(std::stod(c[5]), 100.0 * 576 / 590, 1e-9);
  // DP sublayer on 8x8: M = 16, N = 1, K = 9: 2 row folds x (9 + 14) rows - 1 = 45 cycles,
  // mapping 16 / (16 * 8) = 12.5 %, compute util 12.5 * 9 / 23.
  c = fields(compute[3]);
  EXPECT_EQ(c[0], "2");
  EXPECT_EQ(c[1], "45");
  EXPECT_EQ(c[4], "12.5");
  EXPECT_NEAR(std::stod(c[5]), 12.5 * 9 / 23, 1e-9);

  const auto detail = lines(hwnas::read_file(out / "DETAILED_ACCESS_REPORT.csv"));
  ASSERT_EQ(detail.size(), 4u);
  EXPECT_EQ(detail[0].rfind("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP "
                            "Reads, SRAM Filter Start Cycle",
                            0),
            0u)
      << detail[0];
  auto d = fields(detail[1]);
  ASSERT_EQ(d.size(), 19u);
  EXPECT_EQ(d[3], "7225344");  // 16 col folds x 784 x 576
  EXPECT_EQ(d[6], "7225344");  // 98 row folds x 576 x 128
  EXPECT_EQ(d[9], "125440");   // 784*128 + 98*16*(8+8)
  d = fields(detail[2]);
  EXPECT_EQ(d[3], "144");  // DP sublayer: 16 x 9
  EXPECT_EQ(d[6], "18");   // 2 row folds x 9
  EXPECT_EQ(d[9], "48");   // 16 + 2 * 16

  const auto bw = lines(hwnas::read_file(out / "BANDWIDTH_REPORT.csv"));
  ASSERT_EQ(bw.size(), 4u);
  EXPECT_NEAR(std::stod(fields(bw[1])[1]), 7225344.0 / 925119, 1e-9);
  EXPECT_TRUE(fs::exists(out / "layers.json"));
  const auto j = nlohmann::json::parse(hwnas::read_file(out / "layers.json"));
  EXPECT_EQ(j.at("layers")[1].at("name"), "dw_DPChannel_0");
}

TEST_F(CliSim, GemmTopologyFormat) {
  const std::string topo = write("mnk.csv", "Layer, M, N, K,\nfc, 10, 5, 7,\n");
  const fs::path out = dir_ / "g";
  const CliResult r = run({"--scalesim-cfg", write("s.cfg", kScaleSimCfg), "--topology", topo,
                     "--topology-format", "gemm", "--fidelity", "analytic", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // M = 10 -> 2 row folds, N = 5 -> 1 col fold, T = 7: 2 x (7 + 14) - 1 = 41 cycles.
  const auto c = fields(lines(hwnas::read_file(out / "COMPUTE_REPORT.csv")).at(1));
  EXPECT_EQ(c.at(1), "41");
  EXPECT_NEAR(std::stod(c.at(4)), 100.0 * 50 / (16 * 8), 1e-9);
}

TEST_F(CliSim, ScaleSimReportsFromAJsonArch) {
  const fs::path out = dir_ / "r";
  const CliResult r = run({"--arch", preset("scalesim_default_32x32"), "--layer", "gemm m=64 n=64 k=64",
                     "--fidelity", "analytic", "--out", out.string(), "--scalesim-reports"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2 x 2 folds of (64 + 62) rows - 1 = 503 cycles.
  EXPECT_EQ(fields(lines(hwnas::read_file(out / "COMPUTE_REPORT.csv")).at(1)).at(1), "503");
}

TEST_F(CliSim, CheckValuesRunsTheGemmsAtCycleLevel) {
  const CliResult r = run({"--arch", preset("tiny_radhard_8x8"), "--layer",
                     "conv2d h=6 w=6 c=3 k=5 r=3 pad=1", "--check-values"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "checking GEMM values")) << r.err;
}

TEST_F(CliSim, HelpExitsZero) {
  const CliResult r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "--scalesim-cfg")) << r.out;
}

TEST_F(CliSim, ErrorsExitTwoNamingFileLineAndValue) {
  const std::string arch = preset("tiny_radhard_8x8");
  // missing file
  CliResult r = run({"--arch", (dir_ / "nope.json").string(), "--layer", "relu h=2 w=2 c=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "nope.json")) << r.err;
  // malformed SCALE-Sim topology row
  const std::string bad_topo = write("bad.csv", "hdr,\nc1, 8, 8, 3, 3, 1, 1, 1,\nc2, 8, 8, x3, 3, 1, 1, 1,\n");
  r = run({"--scalesim-cfg", write("s.cfg", kScaleSimCfg), "--topology", bad_topo});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "bad.csv:3") && contains(r.err, "'x3'")) << r.err;
  // malformed hwnas topology row
  const std::string bad_net = write("net.csv", "name,spec\na,relu h=2 w=2 c=1\nb,conv2d h=4 w=4 c=1 k=1 r=7\n");
  r = run({"--arch", arch, "--topology", bad_net});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "net.csv:3")) << r.err;
  // unknown key in a SCALE-Sim config
  std::string cfg_text = kScaleSimCfg;
  cfg_text.insert(cfg_text.find("Dataflow"), "ArrayDepth: 4\n");
  r = run({"--scalesim-cfg", write("u.cfg", cfg_text), "--layer", "relu h=2 w=2 c=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "u.cfg:14") && contains(r.err, "arraydepth") &&
              contains(r.err, "'4'"))
      << r.err;
  // bad layer spec
  r = run({"--arch", arch, "--layer", "relu h=2 w=2 c=1", "--layer", "conv2d h=8 w=8 c=1 k=2 r=3 bogus=5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--layer #2") && contains(r.err, "bogus") && contains(r.err, "5"))
      << r.err;
  // unknown option
  r = run({"--arch", arch, "--layer", "relu h=2 w=2 c=1", "--fast"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--fast")) << r.err;
  // contradictory or incomplete choices
  r = run({"--arch", arch, "--scalesim-cfg", write("s2.cfg", kScaleSimCfg), "--layer", "relu h=2 w=2 c=1"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"--arch", arch});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--layer")) << r.err;
  r = run({"--arch", arch, "--layer", "relu h=2 w=2 c=1", "--fidelity", "analytic", "--check-values"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"--arch", arch, "--layer", "relu h=2 w=2 c=1", "--fidelity", "rtl"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "'rtl'")) << r.err;
  r = run({"--arch", arch, "--topology", bad_net, "--topology-format", "fc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "'fc'")) << r.err;
}
