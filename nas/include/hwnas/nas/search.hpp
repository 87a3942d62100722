#pragma once
// First-order DARTS bilevel search with a hardware term (quark0/darts train_search.py +
// architect.py, first order), deterministic and resumable:
//   per step: (epoch >= warmup) alpha step on a validation batch: Adam on
//             CE(val) + hardware penalty (closed-form gradient added to alpha's grad);
//             then the weight step on a training batch: SGD momentum, grad clip, cosine lr.
// Weights train on one half of the training set, alphas on the other (disjoint, seeded split).
// The run directory receives config.json, log.csv, alphas.json, genotype.{json,txt},
// normal.dot, reduce.dot, table.json (the cost table used) and checkpoint.bin (every epoch,
// atomically). See docs/search.md.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/cost_table.hpp"
#include "hwnas/nas/dataset.hpp"
#include "hwnas/nas/genotype.hpp"
#include "hwnas/nas/hardware_term.hpp"
#include "hwnas/nas/search_space.hpp"
#include "hwnas/nas/supernet.hpp"

namespace hwnas::nas {

struct SearchConfig {
  SearchGeometry geometry;
  std::string ops = "darts";
  std::int64_t epochs = 50;
  std::int64_t batch = 64;
  std::int64_t warmup_epochs = 0;       // weight-only epochs before alpha updates start
  std::int64_t max_steps_per_epoch = 0; // 0 = the whole half split
  double w_lr = 0.025, w_lr_min = 0.001, w_momentum = 0.9, w_weight_decay = 3e-4, grad_clip = 5.0;
  double a_lr = 3e-4, a_beta1 = 0.5, a_beta2 = 0.999, a_weight_decay = 1e-3;
  // Second order (DARTS --unrolled): grad_alpha L_val(w', alpha) - xi * Hessian-vector product by
  // central finite differences, with w' = w - xi (momentum buf + grad_w L_train + wd w), xi = lr.
  bool unrolled = false;
  double train_portion = 0.5;
  std::uint64_t seed = 2;
  // Hardware term (gamma = 0 or no table: plain DARTS).
  double gamma = 0;
  CostMetric metric = CostMetric::kLatencyCycles;
  CostNormalization normalization = CostNormalization::kPerEdgeMax;
  std::optional<double> budget;  // raw metric units
  std::optional<std::int64_t> max_normal_skips;

  nlohmann::json to_json() const;
  static SearchConfig from_json(const nlohmann::json& j, const std::string& source);
};

struct EpochRecord {
  std::int64_t epoch = 0;
  double train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0;
  double expected_cost_raw = 0, expected_cost_normalized = 0, genotype_cost_raw = 0;
  double images_per_second = 0, lr = 0;
  nlohmann::json to_json() const;
  static EpochRecord from_json(const nlohmann::json& j);
};

struct StepInfo {
  std::int64_t epoch = 0, epochs = 0, step = 0, steps = 0;
  double loss = 0, acc = 0, expected_cost_raw = 0, images_per_second = 0;
};

class Search {
 public:
  // train: the full training set (split in two halves here); table may be empty when gamma == 0.
  Search(SearchConfig config, const Dataset& train, const OpCatalog& catalog, std::optional<CostTable> table,
         std::string run_dir);
  ~Search();

  // Restores from run_dir/checkpoint.bin; returns the epoch to continue from.
  std::int64_t resume();
  // Runs epochs [next, config.epochs) (stop_after_epoch limits how many, for tests). Writes
  // every artefact after each epoch.
  void run(const std::function<void(const StepInfo&)>& on_step = {}, std::int64_t stop_after_epochs = -1);

  Supernet& supernet() { return *net_; }
  const SearchConfig& config() const { return config_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  Genotype genotype() const;
  std::optional<HardwareTermValue> hardware_value() const;
  MemoryEstimate memory_estimate() const { return net_->estimate_memory(config_.batch); }
  std::int64_t next_epoch() const { return next_epoch_; }
  std::int64_t steps_per_epoch() const;

 private:
  void save_checkpoint() const;
  void write_artefacts() const;
  // Leaves d L_val / d alpha of the unrolled model in the alphas' grads; weights unchanged.
  void unrolled_alpha_gradient(const Tensor& xt, const std::vector<int>& lt, const Tensor& xv,
                               const std::vector<int>& lv, float xi, std::int64_t epoch, std::int64_t step);
  EpochRecord run_epoch(std::int64_t epoch, const std::function<void(const StepInfo&)>& on_step);

  SearchConfig config_;
  const Dataset& data_;
  std::vector<OpDef> ops_;
  std::optional<CostTable> table_;
  std::string run_dir_;
  std::unique_ptr<Supernet> net_;
  HardwareTerm hw_;
  IndexSplit split_;
  struct Optimisers;
  std::unique_ptr<Optimisers> opt_;
  std::vector<EpochRecord> history_;
  nlohmann::json alpha_history_ = nlohmann::json::array();
  std::int64_t next_epoch_ = 0;
};

// Evaluation of a network's logits function over a dataset (no grad, eval-mode BN).
struct EvalResult {
  double loss = 0, accuracy = 0;
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted]
};

// Runs `logits_of` over data[indices] in batches without gradients and counts predictions.
EvalResult evaluate_dataset(const std::function<Var(Tape&, const Var&)>& logits_of, const Dataset& data,
                            const std::vector<std::size_t>& indices, std::int64_t batch, int classes);

// A Batch as an NCHW constant.
Var batch_input(Batch& batch);

// Peak resident memory of this process so far (VmHWM), bytes; 0 if unknown.
std::int64_t peak_resident_bytes();
std::string format_bytes(std::int64_t bytes);

}  // namespace hwnas::nas
