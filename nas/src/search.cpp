#include "hwnas/nas/search.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"
#include "hwnas/nas/checkpoint.hpp"
#include "hwnas/nas/ops.hpp"
#include "hwnas/nas/optim.hpp"

namespace hwnas::nas {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------------
// Config

nlohmann::json SearchConfig::to_json() const {
  nlohmann::json j = {
      {"geometry", geometry.to_json()},
      {"ops", ops},
      {"epochs", epochs},
      {"batch", batch},
      {"warmup_epochs", warmup_epochs},
      {"max_steps_per_epoch", max_steps_per_epoch},
      {"weights", {{"optimizer", "sgd"}, {"lr", w_lr}, {"lr_min", w_lr_min}, {"momentum", w_momentum},
                   {"weight_decay", w_weight_decay}, {"grad_clip", grad_clip}, {"schedule", "cosine"}}},
      {"alphas", {{"optimizer", "adam"}, {"lr", a_lr}, {"beta1", a_beta1}, {"beta2", a_beta2},
                  {"weight_decay", a_weight_decay}, {"order", unrolled ? "second" : "first"}}},
      {"train_portion", train_portion},
      {"seed", seed},
      {"hardware", {{"gamma", gamma}, {"metric", metric_key(metric)},
                    {"normalization", normalization_name(normalization)}}},
  };
  j["geometry"].erase("reduction_cells");
  if (budget) j["hardware"]["budget"] = *budget;
  if (max_normal_skips) j["max_normal_skips"] = *max_normal_skips;
  return j;
}

SearchConfig SearchConfig::from_json(const nlohmann::json& j, const std::string& src) {
  SearchConfig c;
  JsonObjectReader r(j, src, "");
  {
    JsonObjectReader g = r.required_object("geometry");
    c.geometry.input_channels = g.required_int("input_channels", 1, 64);
    c.geometry.input_height = g.required_int("input_height", 2, 4096);
    c.geometry.input_width = g.required_int("input_width", 2, 4096);
    c.geometry.num_classes = g.required_int("num_classes", 2, 100000);
    c.geometry.cells = g.required_int("cells", 1, 100);
    c.geometry.channels = g.required_int("channels", 2, 4096);
    c.geometry.nodes = g.required_int("nodes", 1, 16);
    c.geometry.stem_multiplier = g.optional_int("stem_multiplier", 3, 1, 64);
    g.reject_unknown_keys();
  }
  c.ops = r.required_string("ops");
  c.epochs = r.required_int("epochs", 1, 100000);
  c.batch = r.required_int("batch", 1, 1 << 20);
  c.warmup_epochs = r.optional_int("warmup_epochs", 0, 0);
  c.max_steps_per_epoch = r.optional_int("max_steps_per_epoch", 0, 0);
  {
    JsonObjectReader w = r.required_object("weights");
    w.optional_enum("optimizer", "sgd", {"sgd"});
    w.optional_enum("schedule", "cosine", {"cosine"});
    c.w_lr = w.required_number("lr", 0);
    c.w_lr_min = w.optional_number("lr_min", 0.001, 0);
    c.w_momentum = w.optional_number("momentum", 0.9, 0, 1);
    c.w_weight_decay = w.optional_number("weight_decay", 3e-4, 0);
    c.grad_clip = w.optional_number("grad_clip", 5, 0);
    w.reject_unknown_keys();
  }
  {
    JsonObjectReader a = r.required_object("alphas");
    a.optional_enum("optimizer", "adam", {"adam"});
    c.unrolled = a.optional_enum("order", "first", {"first", "second"}) == "second";
    c.a_lr = a.required_number("lr", 0);
    c.a_beta1 = a.optional_number("beta1", 0.5, 0, 1);
    c.a_beta2 = a.optional_number("beta2", 0.999, 0, 1);
    c.a_weight_decay = a.optional_number("weight_decay", 1e-3, 0);
    a.reject_unknown_keys();
  }
  c.train_portion = r.optional_number("train_portion", 0.5, 0.01, 0.99);
  c.seed = static_cast<std::uint64_t>(r.required_int("seed", 0));
  {
    JsonObjectReader h = r.required_object("hardware");
    c.gamma = h.optional_number("gamma", 0, 0);
    c.metric = parse_metric(h.optional_string("metric", "latency_cycles"), h.where("metric"));
    c.normalization = parse_normalization(h.optional_string("normalization", "per_edge_max"), h.where("normalization"));
    if (h.has("budget")) c.budget = h.required_number("budget", 0);
    h.reject_unknown_keys();
  }
  if (r.has("max_normal_skips")) c.max_normal_skips = r.required_int("max_normal_skips", 0, 64);
  r.reject_unknown_keys();
  return c;
}

nlohmann::json EpochRecord::to_json() const {
  return {{"epoch", epoch}, {"train_loss", train_loss}, {"train_acc", train_acc}, {"val_loss", val_loss},
          {"val_acc", val_acc}, {"expected_cost_raw", expected_cost_raw},
          {"expected_cost_normalized", expected_cost_normalized}, {"genotype_cost_raw", genotype_cost_raw},
          {"images_per_second", images_per_second}, {"lr", lr}};
}

EpochRecord EpochRecord::from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<std::int64_t>();
  r.train_loss = j.at("train_loss").get<double>();
  r.train_acc = j.at("train_acc").get<double>();
  r.val_loss = j.at("val_loss").get<double>();
  r.val_acc = j.at("val_acc").get<double>();
  r.expected_cost_raw = j.at("expected_cost_raw").get<double>();
  r.expected_cost_normalized = j.at("expected_cost_normalized").get<double>();
  r.genotype_cost_raw = j.at("genotype_cost_raw").get<double>();
  r.images_per_second = j.at("images_per_second").get<double>();
  r.lr = j.at("lr").get<double>();
  return r;
}

// ------------------------------------------------------------------------------------------
// Helpers

Var batch_input(Batch& b) {
  return make_constant(Tensor({b.n, b.channels, b.height, b.width}, std::move(b.data)));
}

EvalResult evaluate_dataset(const std::function<Var(Tape&, const Var&)>& logits_of, const Dataset& data,
                            const std::vector<std::size_t>& indices, std::int64_t batch, int classes) {
  EvalResult r;
  r.confusion.assign(static_cast<std::size_t>(classes), std::vector<std::int64_t>(static_cast<std::size_t>(classes), 0));
  BatchOptions bo;
  bo.batch_size = static_cast<int>(batch);
  bo.shuffle = false;
  BatchIterator it(data, indices, bo);
  it.start_epoch(0);
  Batch b;
  Tape tape(false);
  double loss_sum = 0;
  std::int64_t n = 0, correct = 0;
  while (it.next(b)) {
    const std::vector<int> labels = b.labels;
    const Var logits = logits_of(tape, batch_input(b));
    const Var loss = cross_entropy(tape, logits, labels);
    loss_sum += static_cast<double>(loss.value()[0]) * static_cast<double>(labels.size());
    const std::vector<int> pred = argmax_rows(logits.value());
    for (std::size_t i = 0; i < labels.size(); ++i) {
      correct += pred[i] == labels[i];
      if (labels[i] >= 0 && labels[i] < classes && pred[i] >= 0 && pred[i] < classes)
        ++r.confusion[static_cast<std::size_t>(labels[i])][static_cast<std::size_t>(pred[i])];
    }
    n += static_cast<std::int64_t>(labels.size());
    tape.clear();
  }
  r.loss = n ? loss_sum / static_cast<double>(n) : 0;
  r.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  return r;
}

std::int64_t peak_resident_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

std::string format_bytes(std::int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

namespace {

void check_finite(const Var& loss, const char* what, std::int64_t epoch, std::int64_t step) {
  const float v = loss.value()[0];
  if (!std::isfinite(v)) {
    std::ostringstream os;
    os << "search diverged: the " << what << " loss is " << v << " at epoch " << epoch << " step " << step
       << " (check the data for NaN/inf, or lower the learning rates)";
    throw RuntimeFailure(os.str());
  }
}

double accuracy_of(const Var& logits, const std::vector<int>& labels) {
  const std::vector<int> pred = argmax_rows(logits.value());
  std::int64_t c = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) c += pred[i] == labels[i];
  return labels.empty() ? 0 : static_cast<double>(c) / static_cast<double>(labels.size());
}

std::string csv_header() {
  return "epoch,train_loss,train_acc,val_loss,val_acc,expected_cost_raw,expected_cost_normalized,"
         "genotype_cost_raw,images_per_second,lr\n";
}

std::string csv_row(const EpochRecord& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%lld,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g,%.6g,%.2f,%.6g\n",
                static_cast<long long>(r.epoch), r.train_loss, r.train_acc, r.val_loss, r.val_acc,
                r.expected_cost_raw, r.expected_cost_normalized, r.genotype_cost_raw, r.images_per_second, r.lr);
  return buf;
}

nlohmann::json matrix_json(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(m(r, c));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Search

struct Search::Optimisers {
  Sgd sgd;
  Adam adam;
};

Search::Search(SearchConfig config, const Dataset& train, const OpCatalog& catalog, std::optional<CostTable> table,
               std::string run_dir)
    : config_(std::move(config)), data_(train), table_(std::move(table)), run_dir_(std::move(run_dir)) {
  const SearchGeometry& g = config_.geometry;
  g.validate("search geometry");
  g.cell_shapes();  // reductions need even sizes
  if (train.size() < 4) throw InputError("search data", "needs at least 4 training samples, got " + std::to_string(train.size()));
  if (train.channels() != g.input_channels || train.height() != g.input_height || train.width() != g.input_width)
    throw InputError("search data", "samples are " + std::to_string(train.channels()) + "x" + std::to_string(train.height()) +
                                        "x" + std::to_string(train.width()) + " but the network input is " +
                                        std::to_string(g.input_channels) + "x" + std::to_string(g.input_height) + "x" +
                                        std::to_string(g.input_width));
  if (static_cast<std::int64_t>(train.class_names.size()) != g.num_classes)
    throw InputError("search data", "has " + std::to_string(train.class_names.size()) + " classes but the network has " +
                                        std::to_string(g.num_classes));
  ops_ = catalog.select(config_.ops);
  net_ = std::make_unique<Supernet>(g, ops_, config_.seed);
  if (table_) {
    table_->check_geometry(g);
    hw_ = HardwareTerm(table_->edge_costs(config_.metric, net_->op_names(), config_.normalization), config_.gamma,
                       config_.budget);
  } else if (config_.gamma > 0 || config_.budget) {
    throw InputError("--table", "gamma > 0 or a budget needs a cost table");
  }
  split_ = split_indices(train.size(), config_.seed, config_.train_portion);
  SgdOptions so;
  so.lr = static_cast<float>(config_.w_lr);
  so.momentum = static_cast<float>(config_.w_momentum);
  so.weight_decay = static_cast<float>(config_.w_weight_decay);
  AdamOptions ao;
  ao.lr = static_cast<float>(config_.a_lr);
  ao.beta1 = static_cast<float>(config_.a_beta1);
  ao.beta2 = static_cast<float>(config_.a_beta2);
  ao.weight_decay = static_cast<float>(config_.a_weight_decay);
  opt_.reset(new Optimisers{Sgd(net_->weights(), so), Adam(net_->alphas(), ao)});
}

Search::~Search() = default;

std::int64_t Search::steps_per_epoch() const {
  const std::int64_t n = static_cast<std::int64_t>(split_.first.size());
  std::int64_t steps = n > config_.batch ? n / config_.batch : 1;
  if (config_.max_steps_per_epoch > 0) steps = std::min(steps, config_.max_steps_per_epoch);
  return steps;
}

Genotype Search::genotype() const {
  DeriveOptions d;
  d.max_normal_skips = config_.max_normal_skips;
  return derive_genotype(net_->alpha_matrix(CellType::kNormal), net_->alpha_matrix(CellType::kReduce),
                         net_->op_names(), config_.geometry.nodes, d);
}

std::optional<HardwareTermValue> Search::hardware_value() const {
  if (!hw_.enabled()) return std::nullopt;
  return hw_.evaluate(net_->alpha_matrix(CellType::kNormal), net_->alpha_matrix(CellType::kReduce));
}

EpochRecord Search::run_epoch(std::int64_t epoch, const std::function<void(const StepInfo&)>& on_step) {
  const std::int64_t steps = steps_per_epoch();
  const float lr = cosine_annealing_lr(static_cast<float>(config_.w_lr), static_cast<float>(config_.w_lr_min),
                                       static_cast<int>(epoch), static_cast<int>(config_.epochs));
  opt_->sgd.set_lr(lr);
  BatchOptions bo;
  bo.batch_size = static_cast<int>(config_.batch);
  bo.drop_last = static_cast<std::int64_t>(split_.first.size()) > config_.batch;
  bo.seed = config_.seed * 2 + 1;
  BatchIterator train_it(data_, split_.first, bo);
  BatchOptions vo = bo;
  vo.drop_last = static_cast<std::int64_t>(split_.second.size()) > config_.batch;
  vo.seed = config_.seed * 2 + 2;
  BatchIterator val_it(data_, split_.second, vo);
  // Data order is a pure function of (seed, epoch): a resumed epoch replays it exactly.
  train_it.start_epoch(static_cast<std::uint64_t>(epoch));
  std::uint64_t val_round = static_cast<std::uint64_t>(epoch) * 1000003ULL;
  val_it.start_epoch(val_round);
  const bool arch_step = epoch >= config_.warmup_epochs;
  const std::vector<Var> weights = net_->weights();
  const std::vector<Var> alphas = net_->alphas();
  Tape tape;
  Batch tb, vb;
  double loss_sum = 0, acc_sum = 0;
  std::int64_t images = 0;
  double seconds = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    if (!train_it.next(tb)) break;
    const auto t0 = std::chrono::steady_clock::now();
    if (arch_step) {
      if (!val_it.next(vb)) {
        val_it.start_epoch(++val_round);
        val_it.next(vb);
      }
      const std::vector<int> vlabels = vb.labels;
      if (config_.unrolled) {
        const Tensor xt({tb.n, tb.channels, tb.height, tb.width}, tb.data);
        const Tensor xv({vb.n, vb.channels, vb.height, vb.width}, vb.data);
        unrolled_alpha_gradient(xt, tb.labels, xv, vlabels, lr, epoch, step);
      } else {
        net_->set_weights_trainable(false);
        zero_grads(alphas);
        const Var vloss = cross_entropy(tape, net_->forward(tape, batch_input(vb), true), vlabels);
        check_finite(vloss, "validation (alpha step)", epoch, step);
        tape.backward(vloss);
        tape.clear();
      }
      if (hw_.enabled()) {
        const HardwareTermValue hv = hw_.evaluate(net_->alpha_matrix(CellType::kNormal), net_->alpha_matrix(CellType::kReduce));
        for (int t = 0; t < 2; ++t) {
          Var a = alphas[static_cast<std::size_t>(t)];
          Tensor& g = a.grad_mut();
          for (std::int64_t i = 0; i < g.numel(); ++i)
            g[i] += static_cast<float>(hv.grad[t](i / hv.grad[t].cols(), i % hv.grad[t].cols()));
        }
      }
      opt_->adam.step();
      net_->set_weights_trainable(true);
      images += static_cast<std::int64_t>(vlabels.size());
    }
    const std::vector<int> labels = tb.labels;
    for (auto a : alphas) a.set_requires_grad(false);
    opt_->sgd.zero_grad();
    const Var logits = net_->forward(tape, batch_input(tb), true);
    const Var loss = cross_entropy(tape, logits, labels);
    check_finite(loss, "training (weight step)", epoch, step);
    tape.backward(loss);
    tape.clear();
    clip_grad_norm(weights, static_cast<float>(config_.grad_clip));
    opt_->sgd.step();
    for (auto a : alphas) a.set_requires_grad(true);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    images += static_cast<std::int64_t>(labels.size());
    loss_sum += loss.value()[0];
    acc_sum += accuracy_of(logits, labels);
    if (on_step) {
      StepInfo s;
      s.epoch = epoch;
      s.epochs = config_.epochs;
      s.step = step + 1;
      s.steps = steps;
      s.loss = loss_sum / static_cast<double>(step + 1);
      s.acc = acc_sum / static_cast<double>(step + 1);
      if (auto hv = hardware_value()) s.expected_cost_raw = hv->expected_raw;
      s.images_per_second = seconds > 0 ? static_cast<double>(images) / seconds : 0;
      on_step(s);
    }
  }
  EpochRecord r;
  r.epoch = epoch;
  r.train_loss = loss_sum / static_cast<double>(steps);
  r.train_acc = acc_sum / static_cast<double>(steps);
  const EvalResult ev = evaluate_dataset([&](Tape& t, const Var& x) { return net_->forward(t, x, false); }, data_,
                                         split_.second, config_.batch, static_cast<int>(config_.geometry.num_classes));
  r.val_loss = ev.loss;
  r.val_acc = ev.accuracy;
  if (auto hv = hardware_value()) {
    r.expected_cost_raw = hv->expected_raw;
    r.expected_cost_normalized = hv->expected_normalized;
  }
  if (table_) r.genotype_cost_raw = genotype_cost(*table_, genotype(), config_.metric);
  r.images_per_second = seconds > 0 ? static_cast<double>(images) / seconds : 0;
  r.lr = lr;
  return r;
}

void Search::unrolled_alpha_gradient(const Tensor& xt, const std::vector<int>& lt, const Tensor& xv,
                                     const std::vector<int>& lv, float xi, std::int64_t epoch, std::int64_t step) {
  const std::vector<Var> weights = net_->weights();
  const std::vector<Var> alphas = net_->alphas();
  std::vector<Tensor> w0;
  for (const auto& w : weights) w0.push_back(w.value());
  Tape tape;
  auto set_alphas_trainable = [&](bool on) {
    for (auto a : alphas) a.set_requires_grad(on);
  };
  // Virtual step on the training batch: w' = w - xi (momentum * buf + g + wd * w).
  set_alphas_trainable(false);
  zero_grads(weights);
  const Var tloss = cross_entropy(tape, net_->forward(tape, make_constant(xt), true), lt);
  check_finite(tloss, "training (unrolled virtual step)", epoch, step);
  tape.backward(tloss);
  tape.clear();
  const float mom = static_cast<float>(config_.w_momentum), wd = static_cast<float>(config_.w_weight_decay);
  for (std::size_t i = 0; i < weights.size(); ++i) {
    Var w = weights[i];
    Eigen::VectorXf d = wd * w0[i].vec();
    if (w.has_grad()) d += w.grad().vec();
    if (!opt_->sgd.momentum_buffer(i).empty()) d += mom * opt_->sgd.momentum_buffer(i).vec();
    w.value().vec() -= xi * d;
  }
  set_alphas_trainable(true);
  // d L_val(w', alpha) / d alpha and v = d L_val / d w'.
  zero_grads(weights);
  zero_grads(alphas);
  const Var vloss = cross_entropy(tape, net_->forward(tape, make_constant(xv), true), lv);
  check_finite(vloss, "validation (alpha step)", epoch, step);
  tape.backward(vloss);
  tape.clear();
  std::vector<Tensor> dalpha, v;
  double norm2 = 0;
  for (const auto& a : alphas) dalpha.push_back(a.grad());
  for (const auto& w : weights) {
    v.push_back(w.has_grad() ? w.grad() : Tensor::zeros_like(w.value()));
    norm2 += static_cast<double>(v.back().vec().squaredNorm());
  }
  const float eps = norm2 > 0 ? static_cast<float>(0.01 / std::sqrt(norm2)) : 0.0f;
  // Hessian-vector product (d/dalpha grad_w L_train) . v by central differences at w +- eps v.
  net_->set_weights_trainable(false);
  auto alpha_grad_at = [&](float sign) {
    for (std::size_t i = 0; i < weights.size(); ++i) {
      Var w = weights[i];
      w.value() = w0[i];
      w.value().vec() += (sign * eps) * v[i].vec();
    }
    zero_grads(alphas);
    const Var l = cross_entropy(tape, net_->forward(tape, make_constant(xt), true), lt);
    check_finite(l, "training (unrolled Hessian)", epoch, step);
    tape.backward(l);
    tape.clear();
    std::vector<Tensor> g;
    for (const auto& a : alphas) g.push_back(a.grad());
    return g;
  };
  const std::vector<Tensor> gp = alpha_grad_at(1.0f), gm = alpha_grad_at(-1.0f);
  for (std::size_t i = 0; i < weights.size(); ++i) {
    Var w = weights[i];
    w.value() = w0[i];
  }
  net_->set_weights_trainable(true);
  for (std::size_t t = 0; t < alphas.size(); ++t) {
    Var a = alphas[t];
    Tensor& g = a.grad_mut();
    g = dalpha[t];
    if (eps > 0) g.vec() -= (xi / (2.0f * eps)) * (gp[t].vec() - gm[t].vec());
  }
}

void Search::run(const std::function<void(const StepInfo&)>& on_step, std::int64_t stop_after_epochs) {
  fs::create_directories(run_dir_);
  if (next_epoch_ == 0) {
    write_file_atomically(fs::path(run_dir_) / "config.json", config_.to_json().dump(2) + "\n");
    if (table_) write_file_atomically(fs::path(run_dir_) / "table.json", table_->document().dump(1) + "\n");
  }
  std::int64_t done = 0;
  while (next_epoch_ < config_.epochs && (stop_after_epochs < 0 || done < stop_after_epochs)) {
    const EpochRecord r = run_epoch(next_epoch_, on_step);
    history_.push_back(r);
    const Genotype g = genotype();
    alpha_history_.push_back({{"epoch", next_epoch_},
                              {"normal", matrix_json(net_->alpha_matrix(CellType::kNormal))},
                              {"reduce", matrix_json(net_->alpha_matrix(CellType::kReduce))},
                              {"genotype", g.to_json()}});
    ++next_epoch_;
    ++done;
    write_artefacts();
    save_checkpoint();
  }
}

void Search::write_artefacts() const {
  const fs::path dir(run_dir_);
  std::string csv = csv_header();
  for (const auto& r : history_) csv += csv_row(r);
  write_file_atomically(dir / "log.csv", csv);
  write_file_atomically(dir / "alphas.json",
                        nlohmann::json({{"ops", net_->op_names()}, {"epochs", alpha_history_}}).dump() + "\n");
  const Genotype g = genotype();
  write_file_atomically(dir / "genotype.json", g.to_json().dump() + "\n");
  write_file_atomically(dir / "genotype.txt", g.darts_string() + "\n");
  write_file_atomically(dir / "normal.dot", g.dot(CellType::kNormal));
  write_file_atomically(dir / "reduce.dot", g.dot(CellType::kReduce));
}

void Search::save_checkpoint() const {
  Checkpoint c;
  c.meta["format"] = "hwnas-search-checkpoint";
  c.meta["version"] = 1;
  c.meta["next_epoch"] = next_epoch_;
  c.meta["config"] = config_.to_json();
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& r : history_) hist.push_back(r.to_json());
  c.meta["history"] = hist;
  c.meta["alpha_history"] = alpha_history_;
  nlohmann::json bn_counts = nlohmann::json::object();
  for (const auto& p : net_->registry().params) c.put("w/" + p.name, p.var.value());
  for (const auto& b : net_->registry().batch_norms) {
    c.put("bn/" + b.name + "/running_mean", b.bn->running_mean);
    c.put("bn/" + b.name + "/running_var", b.bn->running_var);
    bn_counts[b.name] = b.bn->num_batches_tracked;
  }
  c.meta["bn_batches_tracked"] = bn_counts;
  c.put("alpha/normal", net_->alpha(CellType::kNormal).value());
  c.put("alpha/reduce", net_->alpha(CellType::kReduce).value());
  for (std::size_t i = 0; i < opt_->sgd.params().size(); ++i)
    if (!opt_->sgd.momentum_buffer(i).empty()) c.put("sgd/momentum/" + std::to_string(i), opt_->sgd.momentum_buffer(i));
  nlohmann::json adam_steps = nlohmann::json::array();
  for (std::size_t i = 0; i < opt_->adam.params().size(); ++i) {
    adam_steps.push_back(opt_->adam.steps(i));
    if (!opt_->adam.exp_avg(i).empty()) {
      c.put("adam/m/" + std::to_string(i), opt_->adam.exp_avg(i));
      c.put("adam/v/" + std::to_string(i), opt_->adam.exp_avg_sq(i));
    }
  }
  c.meta["adam_steps"] = adam_steps;
  c.save((fs::path(run_dir_) / "checkpoint.bin").string());
}

std::int64_t Search::resume() {
  const std::string path = (fs::path(run_dir_) / "checkpoint.bin").string();
  if (!fs::exists(path)) throw InputError(path, "no checkpoint to resume from");
  const Checkpoint c = Checkpoint::load(path);
  if (c.meta.value("format", "") != "hwnas-search-checkpoint")
    throw InputError(path, "not a search checkpoint");
  nlohmann::json saved = c.meta.at("config");
  nlohmann::json now = config_.to_json();
  saved.erase("epochs");
  now.erase("epochs");
  if (saved != now)
    throw InputError(path, "was written with a different configuration (only --epochs may change on resume): saved " +
                               saved.dump() + " vs now " + now.dump());
  for (const auto& p : net_->registry().params) {
    Var v = p.var;
    c.get("w/" + p.name, v.value());
  }
  for (const auto& b : net_->registry().batch_norms) {
    c.get("bn/" + b.name + "/running_mean", b.bn->running_mean);
    c.get("bn/" + b.name + "/running_var", b.bn->running_var);
    b.bn->num_batches_tracked = c.meta.at("bn_batches_tracked").at(b.name).get<std::int64_t>();
  }
  Var an = net_->alpha(CellType::kNormal), ar = net_->alpha(CellType::kReduce);
  c.get("alpha/normal", an.value());
  c.get("alpha/reduce", ar.value());
  for (std::size_t i = 0; i < opt_->sgd.params().size(); ++i) {
    const std::string key = "sgd/momentum/" + std::to_string(i);
    if (c.has(key)) opt_->sgd.momentum_buffer(i) = c.tensor(key);
  }
  for (std::size_t i = 0; i < opt_->adam.params().size(); ++i) {
    const std::string m = "adam/m/" + std::to_string(i);
    if (c.has(m))
      opt_->adam.set_state(i, c.tensor(m), c.tensor("adam/v/" + std::to_string(i)),
                           c.meta.at("adam_steps").at(i).get<std::int64_t>());
  }
  history_.clear();
  for (const auto& r : c.meta.at("history")) history_.push_back(EpochRecord::from_json(r));
  alpha_history_ = c.meta.at("alpha_history");
  next_epoch_ = c.meta.at("next_epoch").get<std::int64_t>();
  return next_epoch_;
}

}  // namespace hwnas::nas
