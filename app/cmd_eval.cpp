// hwnas eval: accuracy and confusion counts of a trained model on a data set's test split.
#include <cstdio>

#include "commands.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/nas/search_data.hpp"
#include "hwnas/nas/train.hpp"
#include "options.hpp"

namespace hwnas::app {

int cmd_eval(const Args& args) {
  Options o("eval", "Evaluate a model written by `hwnas train` on the test split of a data set.");
  o.add("model", "FILE", "", "model file from hwnas train")
      .add("data", "SPEC", "synthetic", "synthetic | mstar:PATH | idx:PATH (the test split is used)")
      .add("classes", "N", "10", "classes of the synthetic set")
      .add("synthetic-per-class", "N", "60", "synthetic training images per class (normalisation statistics)")
      .add("seed", "N", "1", "synthetic data seed (hwnas train uses its --seed + 1)")
      .add("ops-file", "FILE", "", "extra ops JSON merged over the built-in catalogue")
      .add("batch", "N", "64", "batch size");
  if (!o.parse(args)) return 0;
  std::fprintf(stderr, "hwnas eval: effective settings:\n%s", o.effective_settings().c_str());
  const OpCatalog catalog = o.is_set("ops-file") ? OpCatalog::from_json_file(o.str("ops-file")) : OpCatalog::builtin();
  auto net = nas::load_model(o.required("model"), catalog);
  const nas::SearchGeometry& g = net->geometry();
  nas::DataRequest dr;
  dr.spec = o.str("data");
  dr.channels = static_cast<int>(g.input_channels);
  dr.height = static_cast<int>(g.input_height);
  dr.width = static_cast<int>(g.input_width);
  dr.synthetic_classes = static_cast<int>(o.integer("classes", 2, 16));
  dr.synthetic_train_per_class = static_cast<int>(o.integer("synthetic-per-class", 2, 100000));
  dr.seed = static_cast<std::uint64_t>(o.integer("seed", 0, 1LL << 62));
  const nas::LoadedData data = nas::load_search_data(dr);
  if (static_cast<std::int64_t>(data.split.test.class_names.size()) != g.num_classes)
    throw InputError(dr.spec, "has " + std::to_string(data.split.test.class_names.size()) +
                                  " classes but the model has " + std::to_string(g.num_classes));
  if (data.split.test.size() == 0) throw InputError(dr.spec, "has no test split");
  const nas::EvalResult r = nas::evaluate_network(*net, data.split.test, o.integer("batch", 1, 100000));
  std::printf("accuracy %.4f on %zu test images (%s), loss %.4f\n", r.accuracy, data.split.test.size(),
              data.description.c_str(), r.loss);
  std::printf("confusion (rows: true class, columns: predicted):\n");
  const auto& names = data.split.test.class_names;
  for (std::size_t i = 0; i < r.confusion.size(); ++i) {
    std::printf("  %-12s", names[i].substr(0, 12).c_str());
    for (std::int64_t v : r.confusion[i]) std::printf(" %5lld", static_cast<long long>(v));
    std::printf("\n");
  }
  return 0;
}

}  // namespace hwnas::app
