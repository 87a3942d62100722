// `hwnas costgen` and `hwnas cost` end to end: exit codes, messages, files written.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string output;  // stdout and stderr
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ") + HWNAS_CLI + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("hwnas_cli_costgen_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

const std::string kTiny = std::string(HWNAS_SOURCE_DIR) + "/arch_configs/tiny_radhard_8x8.json";
const std::string kSmall = " --input 1x16x16 --cells 5 --channels 8 ";

}  // namespace

TEST(CliCostgen, WritesTableAndSummaryThenHitsCache) {
  TempDir d;
  const std::string base = "costgen --arch " + kTiny + kSmall + "--space darts+conv --cache-dir " + (d / "cache") +
                           " --out " + (d / "t.json");
  const CliRun first = run(base);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("effective settings"), std::string::npos);
  EXPECT_NE(first.output.find("sep_conv_3x3"), std::string::npos);
  EXPECT_NE(first.output.find("cyc/kMAC"), std::string::npos);
  EXPECT_NE(first.output.find("from cache: 0,"), std::string::npos) << first.output;
  const auto t = nlohmann::json::parse(std::ifstream(d / "t.json"));
  EXPECT_EQ(t.at("schema"), "hwnas-cost-table");
  EXPECT_EQ(t.at("cells").size(), 5u);
  EXPECT_EQ(t.at("ops").size(), 10u);
  EXPECT_EQ(t.at("geometry").at("reduction_cells"), nlohmann::json({1, 3}));
  // Only the table itself is left in the folder: the atomic write's temporary file is gone.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(d.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);

  const CliRun second = run(base);
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("simulated: 0 "), std::string::npos) << second.output;
  auto t2 = nlohmann::json::parse(std::ifstream(d / "t.json"));
  auto t1 = t;
  t1["generator"].erase("simulation");
  t2["generator"].erase("simulation");
  EXPECT_EQ(t1, t2);
}

TEST(CliCostgen, CycleFidelityInWorkersMatchesAnalytic) {
  TempDir d;
  const std::string base = "costgen --arch " + kTiny + kSmall + "--no-cache --jobs 2 ";
  ASSERT_EQ(run(base + "--fidelity analytic --out " + (d / "a.json")).code, 0);
  const CliRun c = run(base + "--fidelity cycle --out " + (d / "c.json"));
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_NE(c.output.find("(2 processes)"), std::string::npos) << c.output;
  const auto a = nlohmann::json::parse(std::ifstream(d / "a.json"));
  const auto cy = nlohmann::json::parse(std::ifstream(d / "c.json"));
  EXPECT_EQ(cy.at("generator").at("fidelity"), "cycle");
  // docs/sim-model.md: both fidelities give identical cycles, MACs and traffic.
  EXPECT_EQ(a.at("cells"), cy.at("cells"));
}

TEST(CliCostgen, BadInputExitsTwoNamingTheProblem) {
  TempDir d;
  const std::string base = "costgen --arch " + kTiny + " --no-cache --out " + (d / "t.json") + " ";
  CliRun r = run(base + "--input abc");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--input"), std::string::npos) << r.output;
  r = run(base + "--space darts,warp_conv");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("warp_conv"), std::string::npos) << r.output;
  r = run(base + "--input 1x8x8 --cells 6 --reductions 0,1,2,3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("cell 3"), std::string::npos) << r.output;
  r = run(base + "--cells 0");
  EXPECT_EQ(r.code, 2);
  r = run(base + "--fidelity exact");
  EXPECT_EQ(r.code, 2);
  r = run(base + "--normalization softmax");
  EXPECT_EQ(r.code, 2);
  r = run("costgen --arch " + (d / "missing.json") + " --out " + (d / "t.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("missing.json"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(d / "t.json"));  // nothing half-written
  r = run("costgen --arch " + kTiny + " --no-cache");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--out"), std::string::npos) << r.output;
}

TEST(CliCost, GenotypeWholeNetwork) {
  TempDir d;
  std::ofstream(d / "g.json") << R"({
    "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
               ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
    "normal_concat": [2, 3, 4, 5],
    "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
               ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
    "reduce_concat": [2, 3, 4, 5]})";
  const CliRun r = run("cost --arch " + kTiny + " --genotype " + (d / "g.json") +
                    " --input 3x32x32 --no-cache --out " + (d / "c.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("classifier"), std::string::npos);
  EXPECT_NE(r.output.find("total"), std::string::npos);
  const auto j = nlohmann::json::parse(std::ifstream(d / "c.json"));
  EXPECT_EQ(j.at("parts").size(), 10u);  // stem, 8 cells, classifier
  // field-notes 6.2: DARTS_V2, C=16, L=8, 10 classes, 3-channel stem: 246,106 parameters (int8).
  EXPECT_EQ(j.at("total").at("param_bytes"), 246106);

  std::ofstream(d / "bad.json") << R"({"normal": [["sep_conv_3x3", 0]], "normal_concat": [2],
      "reduce": [["sep_conv_3x3", 0]], "reduce_concat": [2]})";
  const CliRun bad = run("cost --arch " + kTiny + " --genotype " + (d / "bad.json") + " --no-cache");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("bad.json"), std::string::npos) << bad.output;
  EXPECT_EQ(run("cost --arch " + kTiny + " --no-cache").code, 2);  // neither --genotype nor --topology
}

TEST(CliCostgen, ExtraOpFromJsonFileIsCosted) {
  TempDir d;
  std::ofstream(d / "ops.json") << R"({"ops": [{"name": "conv_5x5", "primitives": [
      {"type": "relu"}, {"type": "conv", "kernel": 5, "takes_edge_stride": true}, {"type": "bn"}]}]})";
  const CliRun r = run("costgen --arch " + kTiny + kSmall + "--no-cache --ops " + (d / "ops.json") +
                       " --space sep_conv_3x3,conv_5x5 --out " + (d / "t.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("conv_5x5"), std::string::npos);
  const auto t = nlohmann::json::parse(std::ifstream(d / "t.json"));
  ASSERT_EQ(t.at("ops"), nlohmann::json({"sep_conv_3x3", "conv_5x5"}));
  // cell 0 (C=8, 16x16, stride 1): 25 * 8 * 8 * 16 * 16 MACs, 25*8*8 + 2*8 params.
  const auto& costs = t.at("cells")[0].at("edges")[0].at("costs");
  EXPECT_EQ(costs.at("macs")[1], 25 * 8 * 8 * 16 * 16);
  EXPECT_EQ(costs.at("param_bytes")[1], 25 * 8 * 8 + 16);
}

TEST(CliCost, TopologyFile) {
  TempDir d;
  std::ofstream(d / "net.csv") << "name,spec\nc1,conv2d h=8 w=8 c=3 k=16 r=3 s=3 pad=1\nfc,gemm m=1 n=10 k=1024\n";
  const CliRun r = run("cost --arch " + kTiny + " --no-cache --topology " + (d / "net.csv") + " --out " + (d / "c.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(std::ifstream(d / "c.json"));
  ASSERT_EQ(j.at("parts").size(), 2u);
  EXPECT_EQ(j.at("parts")[0].at("cost").at("macs"), 8 * 8 * 16 * 27);
  EXPECT_EQ(j.at("parts")[1].at("cost").at("macs"), 10 * 1024);
  EXPECT_EQ(j.at("total").at("macs"), 8 * 8 * 16 * 27 + 10 * 1024);
}
