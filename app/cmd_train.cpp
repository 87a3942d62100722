// hwnas train: train the network of a genotype (from `hwnas search`) and write a model file.
#include <cstdio>
#include <filesystem>
#include <limits>

#include "commands.hpp"
#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/progress.hpp"
#include "hwnas/nas/search_data.hpp"
#include "hwnas/nas/train.hpp"
#include "options.hpp"

namespace hwnas::app {

int cmd_train(const Args& args) {
  Options o("train", "Train the network of a genotype (DARTS train.py without auxiliary head or cutout) and "
                     "write a model file for `hwnas eval` (docs/search.md).");
  o.add("genotype", "FILE", "", "genotype JSON (RUN/genotype.json of a search)")
      .add("data", "SPEC", "synthetic", "synthetic | mstar:PATH | idx:PATH")
      .add("input", "CxHxW", "1x32x32", "network input")
      .add("classes", "N", "10", "classes of the synthetic set")
      .add("synthetic-per-class", "N", "60", "synthetic training images per class")
      .add("cells", "L", "8", "cells")
      .add("channels", "C", "16", "channels of the first cell")
      .add("ops-file", "FILE", "", "extra ops JSON merged over the built-in catalogue")
      .add("epochs", "N", "20", "epochs")
      .add("batch", "N", "64", "batch size")
      .add("lr", "X", "0.025", "SGD learning rate (cosine to 0)")
      .add("drop-path", "P", "0", "drop-path probability (ramped linearly over the epochs)")
      .flag("flip", "random horizontal flips")
      .add("seed", "N", "0", "seed of weights and batch order")
      .add("out", "FILE", "", "model file to write");
  if (!o.parse(args)) return 0;
  std::fprintf(stderr, "hwnas train: effective settings:\n%s", o.effective_settings().c_str());
  const OpCatalog catalog = o.is_set("ops-file") ? OpCatalog::from_json_file(o.str("ops-file")) : OpCatalog::builtin();
  const nas::Genotype genotype = nas::Genotype::load(o.required("genotype"));
  genotype.validate(catalog.names(), o.str("genotype"));
  const std::string out = o.required("out");

  nas::SearchGeometry g;
  nas::parse_input_shape(o.str("input"), "--input", g);
  g.cells = o.integer("cells", 1, 100);
  g.channels = o.integer("channels", 2, 4096);
  g.nodes = genotype.nodes();
  nas::TrainConfig tc;
  tc.epochs = o.integer("epochs", 1, 100000);
  tc.batch = o.integer("batch", 1, 100000);
  tc.lr = o.number("lr", 0, 10);
  tc.drop_path = o.number("drop-path", 0, 0.99);
  tc.hflip = o.enabled("flip");
  tc.seed = static_cast<std::uint64_t>(o.integer("seed", 0, std::numeric_limits<std::int64_t>::max()));

  nas::DataRequest dr;
  dr.spec = o.str("data");
  dr.channels = static_cast<int>(g.input_channels);
  dr.height = static_cast<int>(g.input_height);
  dr.width = static_cast<int>(g.input_width);
  dr.synthetic_classes = static_cast<int>(o.integer("classes", 2, 16));
  dr.synthetic_train_per_class = static_cast<int>(o.integer("synthetic-per-class", 2, 100000));
  dr.seed = tc.seed + 1;
  const nas::LoadedData data = nas::load_search_data(dr);
  g.num_classes = static_cast<std::int64_t>(data.split.train.class_names.size());
  std::fprintf(stderr, "data: %s\n", data.description.c_str());

  nas::DerivedNetwork net(g, genotype, catalog, tc.seed);
  std::fprintf(stderr, "network: %s, %lld parameters\n", g.describe().c_str(),
               static_cast<long long>(net.parameter_count()));
  ProgressLine progress("train", 0, "step", ProgressLine::stderr_is_terminal());
  std::int64_t done = 0;
  const auto history = nas::train_network(net, data.split.train, data.split.test, tc,
                                          [&](std::int64_t e, std::int64_t s, std::int64_t steps, double loss) {
                                            char extra[96];
                                            std::snprintf(extra, sizeof extra, "epoch %lld step %lld/%lld loss %.3f",
                                                          static_cast<long long>(e + 1), static_cast<long long>(s),
                                                          static_cast<long long>(steps), loss);
                                            progress.update(++done, extra);
                                          });
  progress.finish();
  std::string csv = "epoch,train_loss,train_acc,test_loss,test_acc,images_per_second,lr\n";
  for (const auto& r : history) {
    char line[256];
    std::snprintf(line, sizeof line, "%lld,%.6f,%.6f,%.6f,%.6f,%.2f,%.6g\n", static_cast<long long>(r.epoch),
                  r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.images_per_second, r.lr);
    csv += line;
  }
  nas::save_model(out, net, {{"data", dr.spec}, {"epochs", tc.epochs}});
  write_file_atomically(out + ".log.csv", csv);
  const auto& last = history.back();
  std::printf("trained %lld epochs: train acc %.4f, test acc %.4f (%zu test images), %.1f img/s\n",
              static_cast<long long>(tc.epochs), last.train_acc, last.test_acc, data.split.test.size(),
              last.images_per_second);
  std::printf("model: %s (log %s.log.csv)\n", out.c_str(), out.c_str());
  return 0;
}

}  // namespace hwnas::app
