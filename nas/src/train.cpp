#include "hwnas/nas/train.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/checkpoint.hpp"
#include "hwnas/nas/optim.hpp"

namespace hwnas::nas {

std::vector<TrainEpoch> train_network(DerivedNetwork& net, const Dataset& train, const Dataset& test,
                                      const TrainConfig& c,
                                      const std::function<void(std::int64_t, std::int64_t, std::int64_t, double)>& on_step) {
  if (train.size() < 2) throw InputError("training data", "needs at least 2 samples");
  SgdOptions so;
  so.lr = static_cast<float>(c.lr);
  so.momentum = static_cast<float>(c.momentum);
  so.weight_decay = static_cast<float>(c.weight_decay);
  const std::vector<Var> params = net.parameters();
  Sgd sgd(params, so);
  BatchOptions bo;
  bo.batch_size = static_cast<int>(c.batch);
  bo.drop_last = static_cast<std::int64_t>(train.size()) > c.batch;
  bo.hflip = c.hflip;
  bo.seed = c.seed * 2 + 1;
  BatchIterator it(train, {}, bo);
  std::mt19937_64 drop_rng(c.seed + 17);
  std::vector<TrainEpoch> out;
  Tape tape;
  for (std::int64_t e = 0; e < c.epochs; ++e) {
    const float lr = cosine_annealing_lr(static_cast<float>(c.lr), static_cast<float>(c.lr_min), static_cast<int>(e),
                                         static_cast<int>(c.epochs));
    sgd.set_lr(lr);
    const float drop = static_cast<float>(c.drop_path * static_cast<double>(e) / static_cast<double>(c.epochs));
    it.start_epoch(static_cast<std::uint64_t>(e));
    const std::int64_t steps = static_cast<std::int64_t>(it.batches_per_epoch());
    TrainEpoch r;
    r.epoch = e;
    r.lr = lr;
    Batch b;
    std::int64_t step = 0, images = 0;
    double seconds = 0;
    while (it.next(b)) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<int> labels = b.labels;
      sgd.zero_grad();
      const Var logits = net.forward(tape, batch_input(b), true, drop, &drop_rng);
      const Var loss = cross_entropy(tape, logits, labels);
      if (!std::isfinite(loss.value()[0]))
        throw RuntimeFailure("training diverged: loss " + std::to_string(loss.value()[0]) + " at epoch " +
                             std::to_string(e) + " step " + std::to_string(step));
      tape.backward(loss);
      tape.clear();
      clip_grad_norm(params, static_cast<float>(c.grad_clip));
      sgd.step();
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      images += static_cast<std::int64_t>(labels.size());
      const std::vector<int> pred = argmax_rows(logits.value());
      std::int64_t correct = 0;
      for (std::size_t i = 0; i < labels.size(); ++i) correct += pred[i] == labels[i];
      r.train_loss += loss.value()[0];
      r.train_acc += static_cast<double>(correct) / static_cast<double>(labels.size());
      ++step;
      if (on_step) on_step(e, step, steps, r.train_loss / static_cast<double>(step));
    }
    if (step) {
      r.train_loss /= static_cast<double>(step);
      r.train_acc /= static_cast<double>(step);
    }
    r.images_per_second = seconds > 0 ? static_cast<double>(images) / seconds : 0;
    if (test.size()) {
      const EvalResult ev = evaluate_network(net, test, c.batch);
      r.test_loss = ev.loss;
      r.test_acc = ev.accuracy;
    }
    out.push_back(r);
  }
  return out;
}

EvalResult evaluate_network(DerivedNetwork& net, const Dataset& data, std::int64_t batch) {
  std::vector<std::size_t> idx(data.size());
  std::iota(idx.begin(), idx.end(), 0);
  return evaluate_dataset([&](Tape& t, const Var& x) { return net.forward(t, x, false); }, data, idx, batch,
                          static_cast<int>(net.geometry().num_classes));
}

void save_model(const std::string& path, const DerivedNetwork& net, const nlohmann::json& extra) {
  Checkpoint c;
  c.meta["format"] = "hwnas-model";
  c.meta["version"] = 1;
  nlohmann::json g = net.geometry().to_json();
  g.erase("reduction_cells");
  c.meta["geometry"] = g;
  c.meta["genotype"] = net.genotype().to_json();
  if (!extra.is_null()) c.meta["extra"] = extra;
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& p : net.registry().params) c.put("w/" + p.name, p.var.value());
  for (const auto& b : net.registry().batch_norms) {
    c.put("bn/" + b.name + "/running_mean", b.bn->running_mean);
    c.put("bn/" + b.name + "/running_var", b.bn->running_var);
    counts[b.name] = b.bn->num_batches_tracked;
  }
  c.meta["bn_batches_tracked"] = counts;
  c.save(path);
}

std::unique_ptr<DerivedNetwork> load_model(const std::string& path, const OpCatalog& catalog) {
  const Checkpoint c = Checkpoint::load(path);
  if (c.meta.value("format", "") != "hwnas-model")
    throw InputError(path, "not an hwnas model file (write one with hwnas train)");
  SearchGeometry g;
  try {
    const auto& j = c.meta.at("geometry");
    g.input_channels = j.at("input_channels");
    g.input_height = j.at("input_height");
    g.input_width = j.at("input_width");
    g.num_classes = j.at("num_classes");
    g.cells = j.at("cells");
    g.channels = j.at("channels");
    g.nodes = j.at("nodes");
    g.stem_multiplier = j.at("stem_multiplier");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("bad geometry in model header: ") + e.what());
  }
  const Genotype genotype = Genotype::from_json(c.meta.at("genotype"), path + " (genotype)");
  auto net = std::make_unique<DerivedNetwork>(g, genotype, catalog, 0);
  for (const auto& p : net->registry().params) {
    Var v = p.var;
    c.get("w/" + p.name, v.value());
  }
  for (const auto& b : net->registry().batch_norms) {
    c.get("bn/" + b.name + "/running_mean", b.bn->running_mean);
    c.get("bn/" + b.name + "/running_var", b.bn->running_var);
    b.bn->num_batches_tracked = c.meta.at("bn_batches_tracked").value(b.name, std::int64_t{0});
  }
  return net;
}

}  // namespace hwnas::nas
