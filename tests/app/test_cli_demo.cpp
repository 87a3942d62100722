// The README's main command runs `hwnas demo`; this runs it end to end on a tiny geometry so a
// broken step (or a changed option of a subcommand it chains) fails the suite.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

int run(const std::string& cmd, std::string* output) {
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output->append(buf);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(CliDemo, RunsEveryStepAndWritesTheRuns) {
  const fs::path out = fs::temp_directory_path() / "hwnas_cli_demo";
  fs::remove_all(out);
  std::string output;
  const int rc = run(std::string("OMP_NUM_THREADS=1 ") + HWNAS_CLI +
                         " demo --epochs 1 --synthetic-per-class 4 --cells 3 --channels 4"
                         " --input 1x16x16 --out " + out.string(),
                     &output);
  ASSERT_EQ(rc, 0) << output;
  for (const char* f : {"sim/layers.json", "cost_table.json", "search_gamma0/genotype.json",
                        "search_hw/genotype.json", "search_hw/log.csv"})
    EXPECT_TRUE(fs::exists(out / f)) << f << "\n" << output;
  EXPECT_NE(output.find("=== Summary"), std::string::npos) << output;
  fs::remove_all(out);
}

TEST(CliDemo, BadOptionExitsTwo) {
  std::string output;
  EXPECT_EQ(run(std::string(HWNAS_CLI) + " demo --epochs zero", &output), 2) << output;
  EXPECT_NE(output.find("--epochs"), std::string::npos) << output;
}
