// `hwnas demo`: the embedded default the README runs. It chains the real subcommands on built-in
// inputs, so what it shows is exactly what a user gets from the same commands by hand:
//   1. simulate A-ConvNets (the MSTAR reference CNN) layer by layer on a preset accelerator;
//   2. build the cost table of a small DARTS search space for that accelerator;
//   3. search on synthetic SAR-like data, once without (gamma = 0) and once with the hardware
//      term, and compare the whole-network cost of the two genotypes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "options.hpp"

namespace hwnas::app {

namespace {

// A-ConvNets (Chen et al., TGRS 2016) on an 88x88 magnitude chip: valid convs, 2x2 max pools.
const char* kAConvNetTopology = R"({
  "name": "aconvnet_mstar",
  "layers": [
    {"name": "conv1", "spec": "conv2d h=88 w=88 c=1 k=16 r=5"},
    {"name": "pool1", "spec": "maxpool h=84 w=84 c=16 r=2"},
    {"name": "conv2", "spec": "conv2d h=42 w=42 c=16 k=32 r=5"},
    {"name": "pool2", "spec": "maxpool h=38 w=38 c=32 r=2"},
    {"name": "conv3", "spec": "conv2d h=19 w=19 c=32 k=64 r=6"},
    {"name": "pool3", "spec": "maxpool h=14 w=14 c=64 r=2"},
    {"name": "conv4", "spec": "conv2d h=7 w=7 c=64 k=128 r=5"},
    {"name": "conv5", "spec": "conv2d h=3 w=3 c=128 k=10 r=3"}
  ]
}
)";

int step(const char* title, int (*cmd)(const Args&), const Args& args) {
  std::string line = "hwnas";
  for (const auto& a : args) line += " " + a;
  std::printf("\n=== %s\n$ %s\n", title, line.c_str());
  std::fflush(stdout);
  const int rc = cmd(Args(args.begin() + 1, args.end()));
  if (rc != 0) std::fprintf(stderr, "hwnas demo: step '%s' failed (exit %d)\n", title, rc);
  return rc;
}

// The last row of a search's log.csv as column -> text (empty when the file is unreadable).
std::map<std::string, std::string> last_log_row(const std::string& path) {
  std::ifstream in(path);
  std::string header, line, last;
  std::getline(in, header);
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  std::map<std::string, std::string> row;
  std::stringstream hs(header), ls(last);
  std::string key, value;
  while (std::getline(hs, key, ',') && std::getline(ls, value, ',')) row[key] = value;
  return row;
}

}  // namespace

int cmd_demo(const Args& args) {
  Options o("demo",
            "The embedded default: simulate A-ConvNets on a preset accelerator, build a cost table,\n"
            "then run a short hardware-aware search on synthetic SAR-like data with and without the\n"
            "hardware term. Needs no data download.");
  o.add("arch", "FILE|PRESET", "tiny_radhard_8x8", "accelerator config file or preset name")
      .add("out", "DIR", "runs/demo", "where the demo writes its tables, runs and reports")
      .add("epochs", "N", "6", "search epochs per run")
      .add("cells", "L", "5", "cells of the search network")
      .add("channels", "C", "8", "channels of its first cell")
      .add("input", "CxHxW", "1x32x32", "input size of the synthetic images")
      .add("classes", "N", "4", "classes of the synthetic SAR-like data set")
      .add("synthetic-per-class", "N", "80", "synthetic training images per class")
      .add("gamma", "G", "0.1", "weight of the hardware term in the second search")
      .add("metric", "NAME", "latency", "hardware metric the search penalises")
      .add("seed", "N", "1", "random seed");
  if (!o.parse(args)) return 0;
  // Check the numbers before any step runs, so a typo does not cost a simulation and a search.
  o.integer("epochs", 1, 100000);
  o.integer("cells", 1, 64);
  o.integer("channels", 1, 4096);
  o.integer("classes", 2, 1000);
  o.integer("synthetic-per-class", 1, 1000000);
  o.integer("seed", 0, 1LL << 62);
  o.number("gamma", 0, 1e12);
  std::fprintf(stderr, "hwnas demo: effective settings\n%s", o.effective_settings().c_str());

  namespace fs = std::filesystem;
  const fs::path out = o.str("out");
  fs::create_directories(out);
  const std::string topology = (out / "aconvnet_mstar.json").string();
  write_file_atomically(topology, kAConvNetTopology);
  const std::string arch = o.str("arch");
  const std::string table = (out / "cost_table.json").string();
  // The defaults are small enough that both searches finish in about two minutes on two cores.
  const std::string geometry_cells = o.str("cells"), geometry_channels = o.str("channels");
  const std::string input = o.str("input");
  const std::string classes = o.str("classes");

  if (int rc = step("1. A-ConvNets on the accelerator, cycle-level SystemC model", cmd_sim,
                    {"sim", "--arch", arch, "--topology", topology, "--fidelity", "cycle", "--out",
                     (out / "sim").string()}))
    return rc;
  if (int rc = step("2. Cost table of the DARTS search space on this accelerator", cmd_costgen,
                    {"costgen", "--arch", arch, "--space", "darts", "--cells", geometry_cells,
                     "--channels", geometry_channels, "--input", input, "--classes", classes, "--out",
                     table}))
    return rc;
  const std::string runs[2] = {(out / "search_gamma0").string(), (out / "search_hw").string()};
  const std::string gammas[2] = {"0", o.str("gamma")};
  for (int i = 0; i < 2; ++i) {
    const std::string title = i == 0 ? "3a. Plain DARTS search (gamma = 0), synthetic SAR data"
                                     : "3b. Hardware-aware search (gamma = " + gammas[1] + ")";
    if (int rc = step(title.c_str(), cmd_search,
                      {"search", "--table", table, "--data", "synthetic", "--classes", classes,
                       "--synthetic-per-class", o.str("synthetic-per-class"), "--gamma", gammas[i], "--metric", o.str("metric"), "--epochs", o.str("epochs"),
                       "--cells", geometry_cells, "--channels", geometry_channels, "--input", input,
                       "--seed", o.str("seed"), "--out", runs[i]}))
      return rc;
  }
  for (int i = 0; i < 2; ++i) {
    const std::string title = std::string("4") + (i == 0 ? "a" : "b") +
                              ". Whole-network cost of the genotype found with gamma = " + gammas[i];
    if (int rc = step(title.c_str(), cmd_cost,
                      {"cost", "--arch", arch, "--genotype", runs[i] + "/genotype.json", "--cells",
                       geometry_cells, "--channels", geometry_channels, "--input", input,
                       "--classes", classes}))
      return rc;
  }
  std::printf("\n=== Summary (%s, latency in cycles from the cost table)\n", arch.c_str());
  std::printf("%-10s %14s %16s %12s %10s\n", "gamma", "E[latency]", "genotype latency", "train acc",
              "val acc");
  for (int i = 0; i < 2; ++i) {
    auto row = last_log_row(runs[i] + "/log.csv");
    std::printf("%-10s %14s %16s %12s %10s\n", gammas[i].c_str(), row["expected_cost_raw"].c_str(),
                row["genotype_cost_raw"].c_str(), row["train_acc"].c_str(), row["val_acc"].c_str());
  }
  std::printf("\nDone. Results are in %s/ (sim/, cost_table.json, search_gamma0/, search_hw/).\n",
              out.string().c_str());
  return 0;
}

}  // namespace hwnas::app
