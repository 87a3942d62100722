// End-to-end runs of `hwnas search`, `hwnas train` and `hwnas eval` on tiny synthetic
// configurations with a hand-written cost table.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/common/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kOps = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                       "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};

// 1x8x8 input, 4 classes, 3 cells (1 and 2 reduce), C=4, 2 nodes: 5 edges per cell.
nlohmann::json hand_table(const std::vector<std::string>& ops) {
  const int from[5] = {0, 1, 0, 1, 2}, to[5] = {2, 2, 3, 3, 3};
  nlohmann::json cells = nlohmann::json::array();
  for (int c = 0; c < 3; ++c) {
    const bool red = c >= 1;
    nlohmann::json edges = nlohmann::json::array();
    for (int e = 0; e < 5; ++e) {
      std::vector<double> lat;
      for (std::size_t k = 0; k < ops.size(); ++k) lat.push_back(ops[k] == "none" ? 0.0 : 10.0 * static_cast<double>(k) + c);
      edges.push_back({{"index", e}, {"from", from[e]}, {"to", to[e]}, {"stride", red && from[e] < 2 ? 2 : 1},
                       {"costs", {{"latency_cycles", lat}}}});
    }
    cells.push_back({{"index", c}, {"type", red ? "reduce" : "normal"}, {"edges", edges}});
  }
  return {{"schema", "hwnas-cost-table"},
          {"schema_version", 1},
          {"geometry", {{"input_channels", 1}, {"input_height", 8}, {"input_width", 8}, {"num_classes", 4},
                        {"cells", 3}, {"channels", 4}, {"nodes", 2}, {"stem_multiplier", 3}}},
          {"ops", ops},
          {"cells", cells}};
}

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun run(const std::string& args, const fs::path& dir) {
  const fs::path o = dir / "stdout.txt", e = dir / "stderr.txt";
  // One OpenMP thread: these networks are far below any parallel grain (see test_search.cpp).
  const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(HWNAS_CLI) + " " + args + " >" + o.string() + " 2>" + e.string();
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = hwnas::read_file(o);
  r.err = hwnas::read_file(e);
  return r;
}

fs::path fresh(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("hwnas_cli_search_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

const char* kTiny =
    "--data synthetic --input 1x8x8 --classes 4 --synthetic-per-class 8 --cells 3 --channels 4 --nodes 2 "
    "--batch 8 --max-steps 2 --seed 3";

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST(CliSearch, WritesTheRunDirectoryAndResumes) {
  const fs::path dir = fresh("run");
  hwnas::write_file_atomically(dir / "table.json", hand_table(kOps).dump());
  const fs::path out = dir / "run";
  const std::string base = std::string("search ") + kTiny + " --table " + (dir / "table.json").string() +
                           " --gamma 1 --out " + out.string();
  CliRun r = run(base + " --epochs 1", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("genotype: Genotype(normal=["), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("estimated peak memory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("\r"), std::string::npos);  // no progress redraws when piped
  for (const char* f : {"config.json", "log.csv", "alphas.json", "genotype.json", "genotype.txt", "normal.dot",
                        "reduce.dot", "table.json", "checkpoint.bin"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_EQ(lines(hwnas::read_file(out / "log.csv")), 2u);
  const auto g = nlohmann::json::parse(hwnas::read_file(out / "genotype.json"));
  EXPECT_EQ(g["normal"].size(), 4u);
  EXPECT_EQ(g["reduce_concat"], nlohmann::json::array({2, 3}));
  const auto cfg = nlohmann::json::parse(hwnas::read_file(out / "config.json"));
  EXPECT_EQ(cfg["hardware"]["gamma"], 1.0);
  EXPECT_EQ(cfg["geometry"]["num_classes"], 4);

  // The same folder without --resume is refused; with --resume and more epochs it continues.
  r = run(base + " --epochs 2", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  r = run(base + " --epochs 2 --resume", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  EXPECT_EQ(lines(hwnas::read_file(out / "log.csv")), 3u);
  const auto alphas = nlohmann::json::parse(hwnas::read_file(out / "alphas.json"));
  EXPECT_EQ(alphas["epochs"].size(), 2u);
  EXPECT_EQ(alphas["epochs"][1]["normal"].size(), 5u);
}

TEST(CliSearch, TableWithoutASearchOpIsAnInputError) {
  const fs::path dir = fresh("missing_op");
  std::vector<std::string> ops = kOps;
  ops.pop_back();  // no dil_conv_5x5
  hwnas::write_file_atomically(dir / "table.json", hand_table(ops).dump());
  const CliRun r = run(std::string("search ") + kTiny + " --epochs 1 --gamma 1 --table " + (dir / "table.json").string() +
                        " --out " + (dir / "run").string(),
                    dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("dil_conv_5x5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("table.json"), std::string::npos) << r.err;
}

TEST(CliSearch, BadDataPathAndGeometryMismatchAreInputErrors) {
  const fs::path dir = fresh("bad");
  CliRun r = run("search --data mstar:/nonexistent/mstar --input 1x8x8 --out " + (dir / "run").string(), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/mstar"), std::string::npos) << r.err;
  hwnas::write_file_atomically(dir / "table.json", hand_table(kOps).dump());
  r = run(std::string("search ") + kTiny + " --channels 6 --gamma 1 --table " + (dir / "table.json").string() +
              " --out " + (dir / "run").string(),
          dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/geometry/channels"), std::string::npos) << r.err;
}

TEST(CliSearch, TrainAndEvalAGenotype) {
  const fs::path dir = fresh("train");
  hwnas::write_file_atomically(
      dir / "g.json",
      R"({"normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["max_pool_3x3", 0], ["dil_conv_3x3", 2]],
          "normal_concat": [2, 3],
          "reduce": [["max_pool_3x3", 0], ["avg_pool_3x3", 1], ["skip_connect", 2], ["sep_conv_5x5", 1]],
          "reduce_concat": [2, 3]})");
  const std::string data = " --data synthetic --classes 4 --synthetic-per-class 8";
  CliRun r = run("train --genotype " + (dir / "g.json").string() + data + " --input 1x8x8" +
                  " --cells 3 --channels 4 --epochs 1 --batch 8 --seed 4 --out " + (dir / "m.bin").string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("test acc"), std::string::npos) << r.out;
  r = run("eval --model " + (dir / "m.bin").string() + data + " --seed 5", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy"), std::string::npos) << r.out;
  // 4 rows of 4 confusion counts summing to the test size (4 classes x the generator's default
  // test images per class).
  std::istringstream is(r.out.substr(r.out.find("predicted):") + 12));
  std::int64_t total = 0;
  for (int row = 0; row < 4; ++row) {
    std::string name;
    is >> name;
    for (int k = 0; k < 4; ++k) {
      std::int64_t v = -1;
      is >> v;
      ASSERT_GE(v, 0);
      total += v;
    }
  }
  EXPECT_EQ(total, 4 * 30);
  r = run("eval --model " + (dir / "g.json").string() + data, dir);
  EXPECT_EQ(r.code, 2);
}
