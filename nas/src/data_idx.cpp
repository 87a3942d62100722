// IDX files (the MNIST container: magic 0x00 0x00 <type> <ndims>, big-endian uint32 dims, then
// the data), plain or gzip-compressed, as used by Debian's dataset-fashion-mnist package.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

namespace hwnas::nas {
namespace {

constexpr std::uint32_t kMaxIdxSide = 4096;

std::uint32_t read_be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<unsigned char> bytes;  // the whole (decompressed) file
  std::size_t data_offset = 0;
};

IdxArray read_idx(const std::string& path, int want_dims) {
  std::vector<unsigned char> raw = read_file_bytes(path);
  IdxArray a;
  if (raw.size() >= 2 && raw[0] == 0x1F && raw[1] == 0x8B) {
    a.bytes = gunzip(raw, path);
  } else {
    a.bytes = std::move(raw);
  }
  const auto& b = a.bytes;
  if (b.size() < 4) throw InputError(path, "too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0) throw InputError(path, "bad IDX magic: the first two bytes must be zero");
  if (b[2] != 0x08) {
    static constexpr char kHex[] = "0123456789abcdef";
    throw InputError(path, std::string("IDX element type 0x") + kHex[b[2] >> 4] + kHex[b[2] & 15] +
                               " is not unsigned byte (0x08)");
  }
  if (b[3] != want_dims) {
    throw InputError(path, "IDX file has " + std::to_string(b[3]) + " dimensions, expected " +
                               std::to_string(want_dims) + (want_dims == 3 ? " (images)" : " (labels)"));
  }
  a.data_offset = 4 + 4 * static_cast<std::size_t>(want_dims);
  if (b.size() < a.data_offset) throw InputError(path, "truncated IDX header");
  std::size_t total = 1;
  for (int d = 0; d < want_dims; ++d) {
    const std::uint32_t v = read_be32(b.data() + 4 + 4 * d);
    if (v == 0 || (d > 0 && v > kMaxIdxSide)) {
      throw InputError(path, "IDX dimension " + std::to_string(d) + " = " + std::to_string(v) + " is out of range");
    }
    a.dims.push_back(v);
    total *= v;
  }
  const std::size_t have = b.size() - a.data_offset;
  if (have != total) {
    throw InputError(path, std::string(have < total ? "truncated" : "too long") + ": header dimensions need " +
                               std::to_string(total) + " data bytes, the file has " + std::to_string(have));
  }
  return a;
}

std::string first_existing(const std::string& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""}) {
    const std::string p = dir + "/" + stem + ext;
    if (std::filesystem::is_regular_file(p)) return p;
  }
  throw InputError(dir, "no " + stem + " or " + stem + ".gz file (IDX data set folder)");
}

}  // namespace

const char* const* fashion_mnist_class_names() {
  static constexpr const char* kNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return kNames;
}

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const std::vector<std::string>& class_names) {
  const IdxArray images = read_idx(images_path, 3);
  const IdxArray labels = read_idx(labels_path, 1);
  const std::uint32_t n = images.dims[0];
  if (labels.dims[0] != n) {
    throw InputError(labels_path, "has " + std::to_string(labels.dims[0]) + " labels but " + images_path +
                                      " has " + std::to_string(n) + " images");
  }
  Dataset out;
  out.class_names = class_names;
  int max_label = 0;
  for (std::uint32_t i = 0; i < n; ++i) max_label = std::max<int>(max_label, labels.bytes[labels.data_offset + i]);
  if (out.class_names.empty()) {
    for (int k = 0; k <= max_label; ++k) out.class_names.push_back(std::to_string(k));
  } else if (max_label >= static_cast<int>(out.class_names.size())) {
    for (std::uint32_t i = 0; i < n; ++i) {
      const int l = labels.bytes[labels.data_offset + i];
      if (l >= static_cast<int>(out.class_names.size())) {
        throw InputError(labels_path, "label " + std::to_string(l) + " of item " + std::to_string(i) +
                                          " is not below the class count " + std::to_string(out.class_names.size()));
      }
    }
  }
  const int rows = static_cast<int>(images.dims[1]);
  const int cols = static_cast<int>(images.dims[2]);
  const std::size_t px = static_cast<std::size_t>(rows) * cols;
  out.samples.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    Image& img = out.samples[i];
    img.channels = 1;
    img.height = rows;
    img.width = cols;
    img.label = labels.bytes[labels.data_offset + i];
    img.pixels.resize(px);
    const unsigned char* src = images.bytes.data() + images.data_offset + i * px;
    for (std::size_t k = 0; k < px; ++k) img.pixels[k] = src[k] / 255.0f;
  }
  return out;
}

SplitPair load_fashion_mnist(const std::string& dir) {
  const char* const* names = fashion_mnist_class_names();
  const std::vector<std::string> classes(names, names + 10);
  SplitPair pair;
  const std::pair<const char*, Dataset*> parts[2] = {{"train", &pair.train}, {"t10k", &pair.test}};
  for (const auto& [prefix, target] : parts) {
    // Looked up one by one so a missing file is reported in a fixed order.
    const std::string images = first_existing(dir, std::string(prefix) + "-images-idx3-ubyte");
    const std::string labels = first_existing(dir, std::string(prefix) + "-labels-idx1-ubyte");
    *target = load_idx_pair(images, labels, classes);
  }
  if (pair.train.height() != pair.test.height() || pair.train.width() != pair.test.width()) {
    throw InputError(dir, "train and t10k images differ in size");
  }
  return pair;
}

}  // namespace hwnas::nas
