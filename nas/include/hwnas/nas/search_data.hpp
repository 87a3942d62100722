#pragma once
// The --data argument of `hwnas search|train|eval`: "synthetic", "mstar:PATH" (root/{train,test}/
// <CLASS>/ chips), "idx:PATH" (a folder of IDX files, e.g. Debian's Fashion-MNIST) or a bare
// folder (detected). Samples are centre-cropped to the network input and normalised with the
// training split's per-channel statistics.
#include <cstdint>
#include <string>

#include "hwnas/nas/dataset.hpp"

namespace hwnas::nas {

struct DataRequest {
  std::string spec = "synthetic";
  int channels = 1, height = 32, width = 32;
  int synthetic_classes = 10;
  int synthetic_train_per_class = 60;
  int synthetic_test_per_class = 30;
  std::uint64_t seed = 1;
};

struct LoadedData {
  SplitPair split;
  std::string description;  // "synthetic SAR, 10 classes, 600 train / 300 test, 1x32x32"
};

LoadedData load_search_data(const DataRequest& request);

}  // namespace hwnas::nas
