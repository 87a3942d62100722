#include "hwnas/nas/search_data.hpp"

#include <algorithm>
#include <sstream>

#include "hwnas/common/error.hpp"

namespace hwnas::nas {

namespace {

void fit_to_input(Dataset& d, const DataRequest& r, const std::string& where) {
  if (d.size() == 0) throw InputError(where, "holds no samples");
  if (d.channels() != r.channels)
    throw InputError(where, "samples have " + std::to_string(d.channels()) + " channel(s) but the network input has " +
                                std::to_string(r.channels) + " (see --input)");
  if (d.height() < r.height || d.width() < r.width)
    throw InputError(where, "samples are " + std::to_string(d.height()) + "x" + std::to_string(d.width()) +
                                ", smaller than the network input " + std::to_string(r.height) + "x" +
                                std::to_string(r.width) + " (see --input)");
  if (d.height() != r.height || d.width() != r.width) {
    if (r.height != r.width) throw InputError(where, "crops are square; --input must have H == W");
    centre_crop_all(d, r.height);
  }
}

}  // namespace

LoadedData load_search_data(const DataRequest& r) {
  LoadedData out;
  std::string kind = r.spec, path;
  if (auto colon = r.spec.find(':'); colon != std::string::npos) {
    kind = r.spec.substr(0, colon);
    path = r.spec.substr(colon + 1);
  } else if (r.spec != "synthetic") {
    kind = "auto";
    path = r.spec;
  }
  std::ostringstream desc;
  if (kind == "synthetic") {
    SyntheticOptions s;
    s.classes = r.synthetic_classes;
    s.train_per_class = r.synthetic_train_per_class;
    s.test_per_class = r.synthetic_test_per_class;
    s.size = std::max({r.height, r.width, 24});
    s.seed = r.seed;
    if (r.channels != 1) throw InputError("--data synthetic", "the synthetic SAR set has 1 channel; use --input 1xHxW");
    out.split = make_synthetic_sar(s);
    desc << "synthetic SAR";
  } else if (kind == "mstar" || kind == "auto") {
    if (path.empty()) throw InputError("--data", "\"" + r.spec + "\" needs a folder: mstar:PATH");
    FolderOptions f;
    if (r.height != r.width) throw InputError("--input", "MSTAR crops are square; H must equal W");
    f.crop = r.height;
    f.channels = r.channels == 2 ? ChipChannels::kMagnitudePhase : ChipChannels::kMagnitude;
    if (r.channels > 2) throw InputError("--input", "MSTAR chips have 1 (magnitude) or 2 (magnitude+phase) channels");
    out.split = kind == "mstar" ? load_image_folders(path, f) : load_dataset(path, f);
    desc << (kind == "mstar" ? "MSTAR folders " : "folder ") << path;
  } else if (kind == "idx") {
    if (path.empty()) throw InputError("--data", "\"" + r.spec + "\" needs a folder: idx:PATH");
    out.split = load_fashion_mnist(path);
    desc << "IDX " << path;
  } else {
    throw InputError("--data", "unknown data source \"" + r.spec + "\" (synthetic, mstar:PATH, idx:PATH)");
  }
  fit_to_input(out.split.train, r, r.spec + " (train)");
  if (out.split.test.size()) fit_to_input(out.split.test, r, r.spec + " (test)");
  normalise_by_train(out.split);
  desc << ", " << out.split.train.class_names.size() << " classes, " << out.split.train.size() << " train / "
       << out.split.test.size() << " test, " << r.channels << "x" << r.height << "x" << r.width;
  out.description = desc.str();
  return out;
}

}  // namespace hwnas::nas
