#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "hwnas/common/error.hpp"
#include "hwnas/sim/arch_config.hpp"

namespace fs = std::filesystem;
using hwnas::InputError;
using namespace hwnas::sim;
using nlohmann::json;

namespace {

json minimal() {
  return json{{"name", "m"},          {"array_rows", 8},
              {"array_cols", 4},      {"dataflow", "ws"},
              {"ifmap_sram_kib", 16}, {"filter_sram_kib", 8},
              {"ofmap_sram_kib", 4},  {"dram_bandwidth_words_per_cycle", 2.5}};
}

std::string error_of(const json& doc) {
  try {
    parse_arch_config(doc, "cfg.json");
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected InputError for " << doc.dump();
  return "";
}

::testing::AssertionResult mentions(const std::string& msg,
                                    std::initializer_list<std::string> parts) {
  for (const auto& p : parts)
    if (msg.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "'" << msg << "' does not mention '" << p << "'";
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(ArchConfig, MinimalConfigGetsDocumentedDefaults) {
  const ArchConfig c = parse_arch_config(minimal(), "cfg.json");
  EXPECT_EQ(c.name, "m");
  EXPECT_EQ(c.description, "");
  EXPECT_EQ(c.array_rows, 8);
  EXPECT_EQ(c.array_cols, 4);
  EXPECT_EQ(c.dataflow, Dataflow::kWeightStationary);
  EXPECT_EQ(c.word_bytes, 1);
  EXPECT_EQ(c.ifmap_sram_words(), 16 * 1024);
  EXPECT_EQ(c.ofmap_sram_words(), 4 * 1024);
  EXPECT_DOUBLE_EQ(c.dram_bandwidth_words_per_cycle, 2.5);
  EXPECT_FALSE(c.dram_bandwidth_unlimited);
  EXPECT_DOUBLE_EQ(c.clock_mhz, 1000.0);
  EXPECT_EQ(c.vector_lanes, 4);  // one lane per array column
  // Horowitz ISSCC 2014 (45 nm), 8-bit: multiply 0.2 + add 0.03 pJ; SRAM 10 pJ per 64 bits;
  // DRAM 640 pJ per 32 bits.
  EXPECT_NEAR(c.energy.mac_pj, 0.23, 1e-12);
  EXPECT_NEAR(c.energy.sram_read_pj_per_word, 10.0 / 8, 1e-12);
  EXPECT_NEAR(c.energy.sram_write_pj_per_word, 10.0 / 8, 1e-12);
  EXPECT_NEAR(c.energy.dram_read_pj_per_word, 640.0 / 4, 1e-12);
  EXPECT_NEAR(c.energy.dram_write_pj_per_word, 640.0 / 4, 1e-12);
  EXPECT_NEAR(c.energy.vector_op_pj, 0.03, 1e-12);
  EXPECT_EQ(c.energy.leakage_pj_per_cycle, 0.0);
}

TEST(ArchConfig, EnergyDefaultsScaleWithWordSize) {
  // 4-byte words: 32-bit multiply ~3.1 pJ + add 0.1 pJ in Horowitz; the width^2 rule gives 3.32.
  const EnergyModel e = default_energy_model(4);
  EXPECT_NEAR(e.mac_pj, 3.2, 0.15);
  EXPECT_NEAR(e.sram_read_pj_per_word, 5.0, 1e-12);    // 10 pJ per 64 bits
  EXPECT_NEAR(e.dram_read_pj_per_word, 640.0, 1e-12);  // 640 pJ per 32 bits
}

TEST(ArchConfig, ExplicitFieldsAndUnlimitedBandwidth) {
  json d = minimal();
  d["dram_bandwidth_words_per_cycle"] = "unlimited";
  d["word_bytes"] = 2;
  d["clock_mhz"] = 250.5;
  d["vector_lanes"] = 16;
  d["description"] = "x";
  d["energy"] = {{"mac_pj", 1.5}, {"leakage_pj_per_cycle", 7}};
  const ArchConfig c = parse_arch_config(d, "cfg.json");
  EXPECT_TRUE(c.dram_bandwidth_unlimited);
  EXPECT_EQ(c.ifmap_sram_words(), 16 * 1024 / 2);
  EXPECT_DOUBLE_EQ(c.clock_mhz, 250.5);
  EXPECT_EQ(c.vector_lanes, 16);
  EXPECT_DOUBLE_EQ(c.energy.mac_pj, 1.5);
  EXPECT_DOUBLE_EQ(c.energy.leakage_pj_per_cycle, 7.0);
  // Unset energy keys keep the word-size default.
  EXPECT_DOUBLE_EQ(c.energy.sram_read_pj_per_word, 2.5);
}

TEST(ArchConfig, JsonRoundTripAndHash) {
  json d = minimal();
  d["energy"] = {{"dram_read_pj_per_word", 100.25}};
  const ArchConfig a = parse_arch_config(d, "cfg.json");
  const json canon = arch_config_to_json(a);
  const ArchConfig b = parse_arch_config(canon, "canon");
  EXPECT_EQ(arch_config_to_json(b), canon);
  EXPECT_EQ(arch_config_hash(a), arch_config_hash(b));
  EXPECT_EQ(arch_config_hash(a).size(), 16u);

  ArchConfig c = a;
  c.description = "reworded";
  EXPECT_EQ(arch_config_hash(c), arch_config_hash(a));
  c.array_rows = 9;
  EXPECT_NE(arch_config_hash(c), arch_config_hash(a));
  ArchConfig e = a;
  e.energy.mac_pj += 0.01;
  EXPECT_NE(arch_config_hash(e), arch_config_hash(a));
  ArchConfig u = a;
  u.dram_bandwidth_unlimited = true;
  u.dram_bandwidth_words_per_cycle = 0;
  EXPECT_EQ(arch_config_to_json(u)["dram_bandwidth_words_per_cycle"], "unlimited");
  EXPECT_NE(arch_config_hash(u), arch_config_hash(a));
}

TEST(ArchConfig, ErrorsNameFilePathAndValue) {
  auto with = [](const char* key, json value) {
    json d = minimal();
    d[key] = std::move(value);
    return d;
  };
  auto without = [](const char* key) {
    json d = minimal();
    d.erase(key);
    return d;
  };
  EXPECT_TRUE(mentions(error_of(with("array_colums", 4)), {"cfg.json", "/array_colums", "4"}));
  EXPECT_TRUE(mentions(error_of(without("array_rows")), {"cfg.json", "/array_rows", "missing"}));
  EXPECT_TRUE(mentions(error_of(without("dram_bandwidth_words_per_cycle")),
                       {"cfg.json", "/dram_bandwidth_words_per_cycle", "missing"}));
  EXPECT_TRUE(mentions(error_of(with("array_rows", "8")), {"cfg.json", "/array_rows", "\"8\""}));
  EXPECT_TRUE(mentions(error_of(with("array_rows", 4.5)), {"cfg.json", "/array_rows", "4.5"}));
  EXPECT_TRUE(mentions(error_of(with("array_rows", 0)), {"cfg.json", "/array_rows", "0"}));
  EXPECT_TRUE(mentions(error_of(with("array_cols", 5000)), {"cfg.json", "/array_cols", "5000"}));
  EXPECT_TRUE(mentions(error_of(with("dataflow", "rs")), {"cfg.json", "/dataflow", "rs"}));
  EXPECT_TRUE(mentions(error_of(with("dataflow", 1)), {"cfg.json", "/dataflow", "1"}));
  EXPECT_TRUE(mentions(error_of(with("ifmap_sram_kib", 0)), {"cfg.json", "/ifmap_sram_kib", "0"}));
  EXPECT_TRUE(mentions(error_of(with("word_bytes", 3)), {"cfg.json", "/word_bytes", "3"}));
  EXPECT_TRUE(mentions(error_of(with("dram_bandwidth_words_per_cycle", 0)),
                       {"cfg.json", "/dram_bandwidth_words_per_cycle", "0"}));
  EXPECT_TRUE(mentions(error_of(with("dram_bandwidth_words_per_cycle", -2)),
                       {"cfg.json", "/dram_bandwidth_words_per_cycle", "-2"}));
  EXPECT_TRUE(mentions(error_of(with("dram_bandwidth_words_per_cycle", "fast")),
                       {"cfg.json", "/dram_bandwidth_words_per_cycle", "fast"}));
  EXPECT_TRUE(mentions(error_of(with("dram_bandwidth_words_per_cycle", true)),
                       {"cfg.json", "/dram_bandwidth_words_per_cycle", "true"}));
  EXPECT_TRUE(mentions(error_of(with("clock_mhz", 0)), {"cfg.json", "/clock_mhz", "0"}));
  EXPECT_TRUE(mentions(error_of(with("vector_lanes", 0)), {"cfg.json", "/vector_lanes", "0"}));
  EXPECT_TRUE(mentions(error_of(with("name", "")), {"cfg.json", "/name"}));
  EXPECT_TRUE(
      mentions(error_of(with("energy", {{"mac_pj", -1}})), {"cfg.json", "/energy/mac_pj", "-1"}));
  EXPECT_TRUE(
      mentions(error_of(with("energy", {{"mac_pJ", 1}})), {"cfg.json", "/energy/mac_pJ", "1"}));
  EXPECT_TRUE(mentions(error_of(with("energy", 3)), {"cfg.json", "/energy", "3"}));
  EXPECT_TRUE(mentions(error_of(json::array({1, 2})), {"cfg.json", "[1,2]"}));
}

TEST(ArchConfig, RejectsSramThatCannotHoldOneArrayEdge) {
  // 4096 columns need 4096 words per active half; 4 KiB of 1-byte words gives 2048.
  json d = minimal();
  d["array_cols"] = 4096;
  d["ifmap_sram_kib"] = 8192;
  d["filter_sram_kib"] = 8192;
  d["ofmap_sram_kib"] = 4;
  EXPECT_TRUE(mentions(error_of(d), {"cfg.json", "/ofmap_sram_kib", "4 KiB", "2048", "4096"}));
  d["ofmap_sram_kib"] = 8;  // exactly 4096 words per half: accepted
  EXPECT_NO_THROW(parse_arch_config(d, "cfg.json"));
  // Word size counts: 8 KiB of 8-byte words is 1024 words, half 512 < 4096.
  d["word_bytes"] = 8;
  EXPECT_TRUE(mentions(error_of(d), {"cfg.json", "_sram_kib", "512"}));
}

TEST(ArchConfig, FileErrorsNameTheFile) {
  const fs::path dir = fs::temp_directory_path() / "hwnas_simcore_arch_test";
  fs::create_directories(dir);
  const fs::path bad = dir / "broken.json";
  std::ofstream(bad) << "{\"name\": \"x\", \"array_rows\": 8,,}";
  try {
    load_arch_config(bad.string());
    ADD_FAILURE() << "malformed JSON accepted";
  } catch (const InputError& e) {
    EXPECT_TRUE(mentions(e.what(), {bad.string(), "JSON"}));
  }
  const fs::path wrong = dir / "wrong.json";
  json d = minimal();
  d["dataflow"] = "rowstationary";
  std::ofstream(wrong) << d.dump();
  try {
    load_arch_config(wrong.string());
    ADD_FAILURE() << "bad dataflow accepted";
  } catch (const InputError& e) {
    EXPECT_TRUE(mentions(e.what(), {wrong.string(), "/dataflow", "rowstationary"}));
  }
  EXPECT_THROW(load_arch_config((dir / "absent.json").string()), InputError);
  fs::remove_all(dir);
}

TEST(ArchConfig, EveryPresetLoadsAndIsDocumented) {
  const fs::path presets = fs::path(HWNAS_SOURCE_DIR) / "arch_configs";
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(presets)) {
    if (entry.path().extension() != ".json") continue;
    const ArchConfig c = load_arch_config(entry.path().string());
    EXPECT_EQ(c.name, entry.path().stem().string()) << "name must match the file name";
    EXPECT_GT(c.description.size(), 80u) << c.name << " needs a description with sources";
    names.insert(c.name);
  }
  for (const char* want : {"tiny_radhard_8x8", "eyeriss_12x14", "gemmini_16x16", "edge_tpu_32x32",
                           "tpuv1_256x256", "scalesim_default_32x32"})
    EXPECT_EQ(names.count(want), 1u) << want;
}

TEST(ArchConfig, PresetFiguresMatchTheirSources) {
  const fs::path presets = fs::path(HWNAS_SOURCE_DIR) / "arch_configs";
  const ArchConfig tpu = load_arch_config((presets / "tpuv1_256x256.json").string());
  EXPECT_EQ(tpu.array_rows, 256);
  EXPECT_EQ(tpu.dataflow, Dataflow::kWeightStationary);
  EXPECT_EQ(tpu.ifmap_sram_kib, 24 * 1024);  // 24 MiB unified buffer
  EXPECT_EQ(tpu.ofmap_sram_kib, 4 * 1024);   // 4 MiB accumulators
  EXPECT_DOUBLE_EQ(tpu.clock_mhz, 700);
  EXPECT_NEAR(tpu.dram_bandwidth_words_per_cycle * tpu.clock_mhz * 1e6 * tpu.word_bytes, 30e9,
              1e6);  // 30 GB/s
  const ArchConfig eyeriss = load_arch_config((presets / "eyeriss_12x14.json").string());
  EXPECT_EQ(eyeriss.array_rows * eyeriss.array_cols, 168);
  EXPECT_EQ(eyeriss.ifmap_sram_kib + eyeriss.filter_sram_kib + eyeriss.ofmap_sram_kib, 108);
  EXPECT_EQ(eyeriss.word_bytes, 2);
  const ArchConfig gemmini = load_arch_config((presets / "gemmini_16x16.json").string());
  EXPECT_EQ(gemmini.ifmap_sram_kib + gemmini.filter_sram_kib, 256);
  EXPECT_EQ(gemmini.ofmap_sram_kib, 64);
  EXPECT_EQ(gemmini.dataflow, Dataflow::kWeightStationary);
  const ArchConfig ss = load_arch_config((presets / "scalesim_default_32x32.json").string());
  EXPECT_TRUE(ss.dram_bandwidth_unlimited);
  EXPECT_EQ(ss.dataflow, Dataflow::kOutputStationary);
  EXPECT_EQ(ss.ifmap_sram_kib, 64);
}

TEST(ArchConfig, MoreEdgeValues) {
  json d = minimal();
  d["dram_bandwidth_words_per_cycle"] = "Unlimited";  // one spelling only
  EXPECT_TRUE(mentions(error_of(d), {"cfg.json", "/dram_bandwidth_words_per_cycle", "Unlimited"}));
  d = minimal();
  d["energy"] = {{"mac_pj", nullptr}};
  EXPECT_TRUE(mentions(error_of(d), {"cfg.json", "/energy/mac_pj", "null"}));
  d = minimal();
  d["word_bytes"] = 2.0;  // an integral JSON number is an integer
  EXPECT_EQ(parse_arch_config(d, "cfg.json").word_bytes, 2);
  d = minimal();
  d["array_rows"] = 1;
  d["array_cols"] = 1;
  d["ifmap_sram_kib"] = d["filter_sram_kib"] = d["ofmap_sram_kib"] = 1;
  d["dram_bandwidth_words_per_cycle"] = 0.001;
  const ArchConfig c = parse_arch_config(d, "cfg.json");
  EXPECT_EQ(c.ifmap_sram_words(), 1024);
  EXPECT_DOUBLE_EQ(c.dram_bandwidth_words_per_cycle, 0.001);
  d["name"] = 7;
  EXPECT_TRUE(mentions(error_of(d), {"cfg.json", "/name", "7"}));
}
