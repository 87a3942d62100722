// hwnas search: hardware-aware first-order DARTS on a supernet, with the expected cost of a cost
// table in the architecture loss (docs/search.md).
#include <cstdio>
#include <filesystem>
#include <limits>

#include "commands.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/progress.hpp"
#include "hwnas/costmodels/cost_table.hpp"
#include "hwnas/nas/search.hpp"
#include "hwnas/nas/search_data.hpp"
#include "hwnas/sim/presets.hpp"
#include "options.hpp"

namespace hwnas::app {

namespace {

nas::CostTable build_table_from_arch(const Options& o, const nas::SearchGeometry& g, const OpCatalog& catalog,
                                     const std::string& ops) {
  costmodels::CostTableRequest req;
  req.arch = sim::load_arch_config_or_preset(o.str("arch"));
  req.geometry.input_channels = g.input_channels;
  req.geometry.input_height = g.input_height;
  req.geometry.input_width = g.input_width;
  req.geometry.num_classes = g.num_classes;
  req.geometry.cells = g.cells;
  req.geometry.channels = g.channels;
  req.geometry.nodes = g.nodes;
  req.geometry.stem_multiplier = g.stem_multiplier;
  req.ops = catalog.select(ops);
  req.normalization = costmodels::parse_normalization(o.str("normalization"), "--normalization");
  req.simulation.fidelity = costmodels::parse_fidelity(o.str("fidelity"), "--fidelity");
  req.simulation.cache_dir = costmodels::default_cache_dir();
  req.simulation.progress = ProgressLine::stderr_is_terminal();
  std::fprintf(stderr, "building the cost table on %s ...\n", o.str("arch").c_str());
  const auto res = costmodels::build_cost_table(req);
  return nas::CostTable::parse(res.table, o.str("arch") + " (cost table built by costgen)");
}

}  // namespace

int cmd_search(const Args& args) {
  Options o("search", "Hardware-aware DARTS: search a cell on a supernet with loss = CE + gamma * E[cost] "
                      "(docs/search.md). DARTS's own sizes are --cells 8 --channels 16 --batch 64 --epochs 50.");
  o.add("data", "SPEC", "synthetic", "synthetic | mstar:PATH | idx:PATH")
      .add("input", "CxHxW", "1x32x32", "network input (samples are centre-cropped to it)")
      .add("classes", "N", "10", "classes of the synthetic set (real data: taken from the data)")
      .add("synthetic-per-class", "N", "60", "synthetic training images per class")
      .add("cells", "L", "5", "cells (reductions at L//3 and 2L//3)")
      .add("channels", "C", "8", "channels of the first cell")
      .add("nodes", "N", "4", "intermediate nodes per cell")
      .add("ops", "LIST", "darts", "op list: darts, darts+conv or comma-separated names")
      .add("ops-file", "FILE", "", "extra ops JSON merged over the built-in catalogue")
      .add("epochs", "N", "10", "search epochs")
      .add("batch", "N", "32", "batch size (weights and alphas)")
      .add("warmup", "N", "0", "epochs of weight training before alpha updates start")
      .add("max-steps", "N", "0", "cap on steps per epoch (0: the whole half split)")
      .add("lr", "X", "0.025", "weight SGD learning rate (cosine to --lr-min)")
      .add("lr-min", "X", "0.001", "final weight learning rate")
      .add("arch-lr", "X", "3e-4", "alpha Adam learning rate")
      .add("seed", "N", "2", "seed of weights, alphas, split and batch order")
      .flag("unrolled", "second-order DARTS (finite-difference Hessian-vector product; ~3x the alpha step)")
      .add("table", "FILE", "", "cost table JSON (docs/cost-table-format.md)")
      .add("arch", "FILE|PRESET", "", "build the cost table for this accelerator instead of --table")
      .add("fidelity", "analytic|cycle", "analytic", "simulator fidelity when building the table")
      .add("gamma", "X", "0", "weight of the hardware term (0: plain DARTS)")
      .add("metric", "NAME", "latency", "latency | energy | dram | sram | params | macs")
      .add("normalization", "METHOD", "per_edge_max", "none | per_edge_max | network_max")
      .add("budget", "X", "", "penalise only E[cost] above this (raw metric units)")
      .add("skip-budget", "M", "", "PDARTS: at most M skip_connect in the derived normal cell")
      .add("out", "DIR", "", "run directory")
      .flag("resume", "continue the run in --out from its last checkpoint (same options)");
  if (!o.parse(args)) return 0;
  std::fprintf(stderr, "hwnas search: effective settings:\n%s", o.effective_settings().c_str());

  nas::SearchConfig c;
  nas::parse_input_shape(o.str("input"), "--input", c.geometry);
  c.geometry.cells = o.integer("cells", 1, 100);
  c.geometry.channels = o.integer("channels", 2, 1024);
  c.geometry.nodes = o.integer("nodes", 1, 16);
  c.ops = o.str("ops");
  c.epochs = o.integer("epochs", 1, 100000);
  c.batch = o.integer("batch", 1, 100000);
  c.warmup_epochs = o.integer("warmup", 0, 100000);
  c.max_steps_per_epoch = o.integer("max-steps", 0, 1 << 30);
  c.w_lr = o.number("lr", 0, 10);
  c.w_lr_min = o.number("lr-min", 0, 10);
  c.a_lr = o.number("arch-lr", 0, 10);
  c.seed = static_cast<std::uint64_t>(o.integer("seed", 0, std::numeric_limits<std::int64_t>::max()));
  c.unrolled = o.enabled("unrolled");
  c.gamma = o.number("gamma", 0, 1e12);
  c.metric = nas::parse_metric(o.str("metric"), "--metric");
  c.normalization = nas::parse_normalization(o.str("normalization"), "--normalization");
  if (o.is_set("budget")) c.budget = o.number("budget", 0, 1e300);
  if (o.is_set("skip-budget")) c.max_normal_skips = o.integer("skip-budget", 0, 64);
  const std::string out = o.required("out");
  if (o.is_set("table") && o.is_set("arch")) throw InputError("hwnas search", "give --table or --arch, not both");
  const OpCatalog catalog = o.is_set("ops-file") ? OpCatalog::from_json_file(o.str("ops-file")) : OpCatalog::builtin();
  const bool resume = o.enabled("resume");
  if (!resume && std::filesystem::exists(std::filesystem::path(out) / "checkpoint.bin"))
    throw InputError("--out", out + " already holds a search; add --resume to continue it or choose another folder");

  nas::DataRequest dr;
  dr.spec = o.str("data");
  dr.channels = static_cast<int>(c.geometry.input_channels);
  dr.height = static_cast<int>(c.geometry.input_height);
  dr.width = static_cast<int>(c.geometry.input_width);
  dr.synthetic_classes = static_cast<int>(o.integer("classes", 2, 16));
  dr.synthetic_train_per_class = static_cast<int>(o.integer("synthetic-per-class", 2, 100000));
  dr.seed = c.seed;
  const nas::LoadedData data = nas::load_search_data(dr);
  c.geometry.num_classes = static_cast<std::int64_t>(data.split.train.class_names.size());
  std::fprintf(stderr, "data: %s\n", data.description.c_str());
  std::fprintf(stderr, "network: %s\n", c.geometry.describe().c_str());

  std::optional<nas::CostTable> table;
  const auto saved_table = std::filesystem::path(out) / "table.json";
  if (o.is_set("table")) {
    table = nas::CostTable::load(o.str("table"));
  } else if (resume && std::filesystem::exists(saved_table)) {
    table = nas::CostTable::load(saved_table.string());
  } else if (o.is_set("arch")) {
    table = build_table_from_arch(o, c.geometry, catalog, c.ops);
  }
  if (table) table->check_geometry(c.geometry);

  nas::Search search(c, data.split.train, catalog, table, out);
  if (resume) {
    const std::int64_t next = search.resume();
    std::fprintf(stderr, "resuming %s at epoch %lld of %lld\n", out.c_str(), static_cast<long long>(next),
                 static_cast<long long>(c.epochs));
  }
  const nas::MemoryEstimate m = search.memory_estimate();
  std::fprintf(stderr,
               "supernet: %lld weights, %lld steps/epoch; estimated peak memory %s (activations %s, "
               "gradients in flight %s, parameters+optimiser %s, batches %s)\n",
               static_cast<long long>(search.supernet().weight_count()),
               static_cast<long long>(search.steps_per_epoch()), nas::format_bytes(m.total_bytes()).c_str(),
               nas::format_bytes(m.activation_bytes).c_str(), nas::format_bytes(m.gradient_bytes).c_str(),
               nas::format_bytes(m.parameter_bytes).c_str(), nas::format_bytes(m.input_bytes).c_str());

  const bool tty = ProgressLine::stderr_is_terminal();
  const std::int64_t steps = search.steps_per_epoch();
  ProgressLine progress("search", (c.epochs - search.next_epoch()) * steps, "step", tty);
  const std::int64_t first_epoch = search.next_epoch();
  search.run([&](const nas::StepInfo& s) {
    char extra[200];
    std::snprintf(extra, sizeof extra, "epoch %lld/%lld step %lld/%lld loss %.3f acc %.3f E[cost] %.4g %.1f img/s",
                  static_cast<long long>(s.epoch + 1), static_cast<long long>(s.epochs), static_cast<long long>(s.step),
                  static_cast<long long>(s.steps), s.loss, s.acc, s.expected_cost_raw, s.images_per_second);
    progress.update((s.epoch - first_epoch) * steps + s.step, extra);
  });
  progress.finish();

  const nas::Genotype g = search.genotype();
  const nas::EpochRecord& last = search.history().back();
  std::printf("genotype: %s\n", g.darts_string().c_str());
  std::printf("epochs %lld: train acc %.3f, val acc %.3f, %.1f img/s\n", static_cast<long long>(search.history().size()),
              last.train_acc, last.val_acc, last.images_per_second);
  if (table)
    std::printf("%s: expected (supernet) %.6g, derived network %.6g (gamma %g, %s normalisation)\n",
                nas::metric_key(c.metric), last.expected_cost_raw, last.genotype_cost_raw, c.gamma,
                nas::normalization_name(c.normalization));
  std::printf("peak resident memory: %s (estimate was %s)\n", nas::format_bytes(nas::peak_resident_bytes()).c_str(),
              nas::format_bytes(m.total_bytes()).c_str());
  std::printf("run directory: %s (config.json, log.csv, alphas.json, genotype.json/.txt, normal.dot, reduce.dot%s, "
              "checkpoint.bin)\n",
              out.c_str(), table ? ", table.json" : "");
  return 0;
}

}  // namespace hwnas::app
