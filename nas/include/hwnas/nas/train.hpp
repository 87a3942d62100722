#pragma once
// Training and evaluating the network of a genotype (quark0/darts train.py without the auxiliary
// head and cutout): SGD momentum 0.9, wd 3e-4, cosine lr to 0, grad clip 5, optional drop-path
// ramped linearly over the epochs, random crops (padding-free) and flips are the data loader's.
// The model file holds geometry, genotype and every weight and BN statistic.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/dataset.hpp"
#include "hwnas/nas/genotype.hpp"
#include "hwnas/nas/network.hpp"
#include "hwnas/nas/search.hpp"

namespace hwnas::nas {

struct TrainConfig {
  std::int64_t epochs = 20, batch = 64;
  double lr = 0.025, lr_min = 0.0, momentum = 0.9, weight_decay = 3e-4, grad_clip = 5.0;
  double drop_path = 0.0;
  bool hflip = false;
  std::uint64_t seed = 0;
};

struct TrainEpoch {
  std::int64_t epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, images_per_second = 0, lr = 0;
};

// Trains in place; evaluates on `test` after every epoch when it is non-empty.
std::vector<TrainEpoch> train_network(DerivedNetwork& net, const Dataset& train, const Dataset& test,
                                      const TrainConfig& config,
                                      const std::function<void(std::int64_t epoch, std::int64_t step,
                                                               std::int64_t steps, double loss)>& on_step = {});

void save_model(const std::string& path, const DerivedNetwork& net, const nlohmann::json& extra = {});
// Rebuilds the network from the file's geometry and genotype, then loads its weights.
std::unique_ptr<DerivedNetwork> load_model(const std::string& path, const OpCatalog& catalog);

EvalResult evaluate_network(DerivedNetwork& net, const Dataset& data, std::int64_t batch);

}  // namespace hwnas::nas
