#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include <omp.h>

#include "hwnas/common/error.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "hwnas/nas/checkpoint.hpp"
#include "hwnas/nas/search.hpp"
#include "search_test_util.hpp"

namespace fs = std::filesystem;
using namespace hwnas::nas;

namespace {

// 4 classes of 1x8x8 images: a bright quadrant per class, plus seeded noise.
Dataset tiny_data(std::size_t per_class, bool poison = false) {
  Dataset d;
  d.class_names = {"a", "b", "c", "d"};
  DataRng rng(99);
  for (std::size_t i = 0; i < per_class * 4; ++i) {
    Image im;
    im.channels = 1;
    im.height = im.width = 8;
    im.label = static_cast<int>(i % 4);
    im.pixels.resize(64);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        const int q = (y >= 4) * 2 + (x >= 4);
        im.pixels[static_cast<std::size_t>(y * 8 + x)] =
            static_cast<float>((q == im.label ? 1.0 : 0.0) + 0.3 * rng.normal());
      }
    if (poison) im.pixels[5] = std::nanf("");
    d.samples.push_back(std::move(im));
  }
  return d;
}

SearchConfig tiny_config() {
  SearchConfig c;
  c.geometry.input_channels = 1;
  c.geometry.input_height = c.geometry.input_width = 8;
  c.geometry.num_classes = 4;
  c.geometry.cells = 3;
  c.geometry.channels = 4;
  c.geometry.nodes = 2;
  c.epochs = 3;
  c.batch = 8;
  c.max_steps_per_epoch = 3;
  c.a_lr = 0.01;
  c.seed = 5;
  return c;
}

CostTable tiny_table(const SearchGeometry& g) {
  const std::vector<std::string> ops = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                        "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};
  return CostTable::parse(testutil::make_table(g, ops, testutil::darts_like_costs(g, ops), 100, 10, 50), "hand.json");
}

// The tiny networks here are far below any useful parallel grain; on a loaded 2-core machine
// OpenMP's second thread only adds waiting (measured: 6.6 s vs 0.4 s for one tiny search).
struct SingleThread {
  SingleThread() { omp_set_num_threads(1); }
} const kSingleThread;

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("hwnas_test_search_" + name);
  fs::remove_all(p);
  return p;
}

void expect_same_state(Supernet& a, Supernet& b) {
  ASSERT_EQ(a.registry().params.size(), b.registry().params.size());
  for (std::size_t i = 0; i < a.registry().params.size(); ++i) {
    const Tensor& x = a.registry().params[i].var.value();
    const Tensor& y = b.registry().params[i].var.value();
    ASSERT_TRUE(x.same_shape(y));
    EXPECT_EQ(std::memcmp(x.data(), y.data(), static_cast<std::size_t>(x.numel()) * 4), 0) << a.registry().params[i].name;
  }
  for (std::size_t i = 0; i < a.registry().batch_norms.size(); ++i) {
    const auto& x = *a.registry().batch_norms[i].bn;
    const auto& y = *b.registry().batch_norms[i].bn;
    EXPECT_EQ(std::memcmp(x.running_mean.data(), y.running_mean.data(), static_cast<std::size_t>(x.running_mean.numel()) * 4), 0);
    EXPECT_EQ(std::memcmp(x.running_var.data(), y.running_var.data(), static_cast<std::size_t>(x.running_var.numel()) * 4), 0);
  }
  for (CellType t : {CellType::kNormal, CellType::kReduce}) {
    const Tensor& x = a.alpha(t).value();
    const Tensor& y = b.alpha(t).value();
    EXPECT_EQ(std::memcmp(x.data(), y.data(), static_cast<std::size_t>(x.numel()) * 4), 0);
  }
}

}  // namespace

TEST(Search, RaisingGammaLowersTheDerivedGenotypesCost) {
  const Dataset data = tiny_data(12);
  const auto cat = hwnas::OpCatalog::builtin();
  double cost[2] = {0, 0}, expected_first[2] = {0, 0}, expected_last[2] = {0, 0};
  const double gammas[2] = {0.0, 2.0};
  for (int k = 0; k < 2; ++k) {
    SearchConfig c = tiny_config();
    c.gamma = gammas[k];
    const CostTable table = tiny_table(c.geometry);
    Search s(c, data, cat, table, fresh_dir("gamma" + std::to_string(k)).string());
    s.run();
    cost[k] = genotype_cost(table, s.genotype(), c.metric);
    expected_first[k] = s.history().front().expected_cost_raw;
    expected_last[k] = s.history().back().expected_cost_raw;
    EXPECT_DOUBLE_EQ(s.history().back().genotype_cost_raw, cost[k]);
  }
  EXPECT_LT(cost[1], cost[0]);
  EXPECT_LT(expected_last[1], expected_first[1]);  // the penalty pulls E[cost] down epoch by epoch
  EXPECT_LT(expected_last[1], expected_last[0]);
}

TEST(Search, ResumeAfterOneEpochIsBitIdenticalToAStraightRun) {
  const Dataset data = tiny_data(12);
  const auto cat = hwnas::OpCatalog::builtin();
  SearchConfig c = tiny_config();
  c.epochs = 2;
  c.gamma = 0.5;
  c.warmup_epochs = 0;
  const CostTable table = tiny_table(c.geometry);
  Search straight(c, data, cat, table, fresh_dir("straight").string());
  straight.run();
  const std::string dir = fresh_dir("resumed").string();
  {
    Search first(c, data, cat, table, dir);
    first.run({}, 1);
    EXPECT_EQ(first.next_epoch(), 1);
  }
  Search second(c, data, cat, table, dir);
  EXPECT_EQ(second.resume(), 1);
  second.run();
  expect_same_state(straight.supernet(), second.supernet());
  ASSERT_EQ(second.history().size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(second.history()[e].train_loss, straight.history()[e].train_loss);
    EXPECT_EQ(second.history()[e].val_loss, straight.history()[e].val_loss);
    EXPECT_EQ(second.history()[e].expected_cost_raw, straight.history()[e].expected_cost_raw);
  }
  for (const char* f : {"config.json", "log.csv", "alphas.json", "genotype.json", "genotype.txt", "normal.dot",
                        "reduce.dot", "table.json", "checkpoint.bin"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  // A resume under a different configuration is refused.
  SearchConfig other = c;
  other.gamma = 0.7;
  Search wrong(other, data, cat, table, dir);
  EXPECT_THROW(wrong.resume(), hwnas::InputError);
}

TEST(Search, WarmupEpochsLeaveAlphasUntouched) {
  const Dataset data = tiny_data(8);
  SearchConfig c = tiny_config();
  c.epochs = 1;
  c.warmup_epochs = 1;
  Search s(c, data, hwnas::OpCatalog::builtin(), std::nullopt, fresh_dir("warmup").string());
  const Tensor before = s.supernet().alpha(CellType::kNormal).value();
  s.run();
  EXPECT_EQ(max_abs_diff(before, s.supernet().alpha(CellType::kNormal).value()), 0.0f);
}

TEST(Search, NonFiniteLossNamesEpochAndStep) {
  const Dataset data = tiny_data(8, true);
  SearchConfig c = tiny_config();
  Search s(c, data, hwnas::OpCatalog::builtin(), std::nullopt, fresh_dir("nan").string());
  try {
    s.run();
    FAIL() << "expected a failure";
  } catch (const hwnas::RuntimeFailure& e) {
    EXPECT_NE(std::string(e.what()).find("epoch 0 step 0"), std::string::npos) << e.what();
  }
}

TEST(Search, GammaWithoutTableAndMismatchedDataAreInputErrors) {
  const Dataset data = tiny_data(8);
  SearchConfig c = tiny_config();
  c.gamma = 1;
  EXPECT_THROW(Search(c, data, hwnas::OpCatalog::builtin(), std::nullopt, fresh_dir("x").string()), hwnas::InputError);
  c.gamma = 0;
  c.geometry.input_height = c.geometry.input_width = 16;
  EXPECT_THROW(Search(c, data, hwnas::OpCatalog::builtin(), std::nullopt, fresh_dir("x").string()), hwnas::InputError);
}

TEST(Search, ConfigJsonRoundTrips) {
  SearchConfig c = tiny_config();
  c.budget = 1234.5;
  c.max_normal_skips = 2;
  c.metric = CostMetric::kEnergyPj;
  const SearchConfig d = SearchConfig::from_json(c.to_json(), "config.json");
  EXPECT_EQ(d.to_json(), c.to_json());
}

TEST(Checkpoint, RoundTripsTensorsAndRejectsTruncation) {
  const fs::path dir = fresh_dir("ckpt");
  fs::create_directories(dir);
  Checkpoint c;
  c.meta["x"] = 3;
  c.put("a", Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  c.put("b", Tensor({1}, {-0.5f}));
  const std::string p = (dir / "c.bin").string();
  c.save(p);
  const Checkpoint d = Checkpoint::load(p);
  EXPECT_EQ(d.meta["x"], 3);
  EXPECT_EQ(d.tensor("a")[5], 6.0f);
  Tensor wrong({3, 2});
  EXPECT_THROW(d.get("a", wrong), hwnas::InputError);
  std::string bytes = hwnas::read_file(p);
  hwnas::write_file_atomically(p, bytes.substr(0, bytes.size() - 2));
  EXPECT_THROW(Checkpoint::load(p), hwnas::InputError);
}

TEST(Supernet, MemoryEstimateScalesWithBatchAndCountsEveryOp) {
  SearchConfig c = tiny_config();
  Supernet net(c.geometry, hwnas::OpCatalog::builtin().select("darts"), 1);
  const MemoryEstimate m8 = net.estimate_memory(8), m16 = net.estimate_memory(16);
  EXPECT_EQ(m16.activation_bytes, 2 * m8.activation_bytes);
  // Lower bound: every non-none op of every edge keeps at least its output (C x H' x W').
  std::int64_t lower = 0;
  for (const auto& s : c.geometry.cell_shapes())
    lower += 7 * edges_per_cell(c.geometry.nodes) * 8 * s.channels * s.out_height * s.out_width;
  EXPECT_GT(m8.activation_bytes, lower * 4);
}

// With xi = lr = 0 the unrolled model is the model itself and the Hessian term vanishes, so
// second order must reproduce first order bit for bit; with lr > 0 it must not.
TEST(Search, UnrolledEqualsFirstOrderAtZeroLearningRateOnly) {
  const Dataset data = tiny_data(8);
  const auto cat = hwnas::OpCatalog::builtin();
  auto alphas_after = [&](bool unrolled, double lr) {
    SearchConfig c = tiny_config();
    c.epochs = 1;
    c.max_steps_per_epoch = 2;
    c.w_lr = lr;
    c.w_lr_min = 0;
    c.unrolled = unrolled;
    Search s(c, data, cat, std::nullopt, fresh_dir(std::string("unrolled") + (unrolled ? "1" : "0")).string());
    s.run();
    return s.supernet().alpha(CellType::kNormal).value();
  };
  const Tensor first0 = alphas_after(false, 0.0), second0 = alphas_after(true, 0.0);
  EXPECT_EQ(std::memcmp(first0.data(), second0.data(), static_cast<std::size_t>(first0.numel()) * 4), 0);
  const Tensor first = alphas_after(false, 0.5), second = alphas_after(true, 0.5);
  EXPECT_GT(max_abs_diff(first, second), 0.0f);
}
