#pragma once
// Data for the search engine: image sets as plain float buffers (no dependency on the autograd
// tensor), read from MSTAR chip folders (JPEG/PNG exports or raw Phoenix chips), IDX files
// (Fashion-MNIST) or made by a synthetic SAR-like generator; plus normalisation, the DARTS
// train/validation split and a seeded batch iterator with crop/flip augmentation.
// Formats, class order and options: docs/datasets.md.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hwnas::nas {

// One sample. pixels are CHW: pixels[(c * height + y) * width + x].
struct Image {
  std::vector<float> pixels;
  int channels = 0;
  int height = 0;
  int width = 0;
  int label = -1;
  std::string source;  // file it came from (for messages); empty for generated samples

  float at(int c, int y, int x) const {
    return pixels[(static_cast<std::size_t>(c) * height + y) * width + x];
  }
};

// A labelled set. Every sample has the same channels/height/width (loaders guarantee it) and
// label in [0, class_names.size()).
struct Dataset {
  std::vector<std::string> class_names;
  std::vector<Image> samples;

  std::size_t size() const { return samples.size(); }
  int channels() const { return samples.empty() ? 0 : samples.front().channels; }
  int height() const { return samples.empty() ? 0 : samples.front().height; }
  int width() const { return samples.empty() ? 0 : samples.front().width; }
  std::vector<std::size_t> class_counts() const;
};

struct SplitPair {
  Dataset train;
  Dataset test;
};

// ---------------------------------------------------------------------------------------------
// Deterministic random numbers, identical on every platform and standard library (std::
// distributions are implementation-defined, so they are not used anywhere in data code).
class DataRng {
 public:
  explicit DataRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64();                 // splitmix64
  double uniform();                         // [0, 1), 53 bits
  std::uint64_t below(std::uint64_t n);     // [0, n), n > 0, unbiased
  double normal();                          // standard normal (Box-Muller)
  double gamma(double shape);               // Gamma(shape, 1), shape > 0 (Marsaglia-Tsang)

 private:
  std::uint64_t state_;
};

// Fisher-Yates shuffle of 0..n-1 with DataRng(seed).
std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Single-file readers. Kind is detected from content (magic bytes / Phoenix header), never from
// the extension. All errors are hwnas::InputError naming the file.

enum class FileKind { kJpeg, kPng, kMstarChip, kUnknown };
FileKind detect_file_kind(const std::vector<unsigned char>& bytes);
const char* file_kind_name(FileKind kind);

// A raw MSTAR chip: magnitude and phase planes, row-major, rows x cols each.
struct MstarChip {
  int rows = 0;
  int cols = 0;
  std::size_t header_bytes = 0;  // PhoenixHeaderLength
  std::vector<float> magnitude;
  std::vector<float> phase;      // radians
  std::vector<std::pair<std::string, std::string>> header;  // every key= value line, in order
  const std::string* field(const std::string& key) const;
};
MstarChip parse_mstar_chip(const std::vector<unsigned char>& bytes, const std::string& where);
MstarChip read_mstar_chip(const std::string& path);

// A JPEG or PNG decoded to one grey channel, values 0..255 as floats (row-major).
struct GreyImage {
  int height = 0;
  int width = 0;
  std::vector<float> values;
};
GreyImage decode_grey_image(const std::vector<unsigned char>& bytes, const std::string& where);

std::vector<unsigned char> read_file_bytes(const std::string& path);

// gzip (RFC 1952) decompression with CRC-32 and length checks; where names the file in errors.
std::vector<unsigned char> gunzip(const std::vector<unsigned char>& bytes, const std::string& where);
std::uint32_t crc32(const unsigned char* data, std::size_t n);

// ---------------------------------------------------------------------------------------------
// MSTAR-style folders: root/{train,test}/<CLASS>/<files>.

enum class ChipChannels { kMagnitude = 1, kMagnitudePhase = 2 };

struct FolderOptions {
  // Side of the square centre crop that training/evaluation uses (DARTS input size).
  int crop = 64;
  // Side of the centre region kept in memory; random training crops of `crop` are taken from
  // it (0 = same as crop: no room for random crops). Must be >= crop.
  int region = 0;
  ChipChannels channels = ChipChannels::kMagnitude;  // magnitude+phase needs raw chips
  // Raw chips only: store 20*log10(max(magnitude, 1e-4)) (dB, floor -80 dB) instead of the
  // linear magnitude. JPEG/PNG grey values are already a display mapping and are left as is.
  bool log_magnitude = false;
  // Class folders to use, in this order (label = position). Empty: every folder, sorted by
  // byte-wise name.
  std::vector<std::string> classes;
  int threads = 2;  // decoding threads; the result does not depend on it
};

// Reads one split folder (root/<split>) with the given class order. Files in each class folder
// are taken in byte-wise sorted name order; names starting with '.' are skipped.
Dataset load_split_folder(const std::string& split_dir, const std::vector<std::string>& classes,
                          const FolderOptions& options);
// Reads root/train and root/test; the two must hold the same class folders.
SplitPair load_image_folders(const std::string& root, const FolderOptions& options);
// Sorted class folder names of one split folder (errors if missing or empty).
std::vector<std::string> list_class_folders(const std::string& split_dir);

// ---------------------------------------------------------------------------------------------
// IDX (LeCun MNIST format), optionally gzip-compressed (detected by magic bytes).

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const std::vector<std::string>& class_names);
// dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] with the Fashion-MNIST class names.
SplitPair load_fashion_mnist(const std::string& dir);
const char* const* fashion_mnist_class_names();  // 10 names
constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// ---------------------------------------------------------------------------------------------
// Synthetic SAR-like targets on speckled clutter (the embedded default data set).

struct SyntheticOptions {
  int classes = 10;           // 2..16
  int train_per_class = 100;
  int test_per_class = 50;
  int size = 64;              // square images, >= 24
  double looks = 1.0;         // speckle: intensity ~ Gamma(looks, 1/looks); 1 = single look
  std::uint64_t seed = 1;
};
SplitPair make_synthetic_sar(const SyntheticOptions& options);
// Short name of synthetic class k ("rect-1:2.3", "L-arms-0.55", "cross-T", "ring-4-points").
std::string synthetic_class_name(int k);

// ---------------------------------------------------------------------------------------------
// Auto-detecting entry point for the CLI: "synthetic" (defaults), a directory with train/ and
// test/ sub-folders, or a directory holding IDX files.
SplitPair load_dataset(const std::string& path, const FolderOptions& options);

// ---------------------------------------------------------------------------------------------
// Normalisation: x' = (x - mean[c]) / std[c] per channel.

struct ChannelStats {
  std::vector<float> mean;
  std::vector<float> stddev;
};
// Mean and population standard deviation of every pixel of every sample, per channel. A
// constant channel gets stddev 1 so that normalising never divides by zero.
ChannelStats compute_channel_stats(const Dataset& data);
void normalise(Dataset& data, const ChannelStats& stats);
// Computes stats on pair.train and applies them to both splits; returns the stats used.
ChannelStats normalise_by_train(SplitPair& pair);

// ---------------------------------------------------------------------------------------------
// Crops and the DARTS split.

// Top-left offset of a centred crop of `crop` in `full` (floor of the half difference).
inline int centre_offset(int full, int crop) { return (full - crop) / 2; }
// Copies the crop x crop window at (y0, x0) of src, mirrored left-right when flip.
Image crop_image(const Image& src, int crop, int y0, int x0, bool flip);
// Centre-crops every sample to crop x crop (errors naming the sample if smaller).
void centre_crop_all(Dataset& data, int crop);

// DARTS search split: shuffle 0..n-1 with seed, first half trains weights, second half trains
// alpha. first gets n/2 (floor) indices when fraction = 0.5.
struct IndexSplit {
  std::vector<std::size_t> first;
  std::vector<std::size_t> second;
};
IndexSplit split_indices(std::size_t n, std::uint64_t seed, double fraction_first = 0.5);

// ---------------------------------------------------------------------------------------------
// Batches.

struct Batch {
  std::vector<float> data;  // NCHW
  std::vector<int> labels;  // N
  int n = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
};

struct BatchOptions {
  int batch_size = 64;
  bool drop_last = false;
  bool shuffle = true;
  // Output side; 0 = the stored sample size. Smaller than the stored size: random crop position
  // when random_crop, else centred.
  int crop = 0;
  bool random_crop = false;
  bool hflip = false;  // mirror each sample with probability 1/2
  std::uint64_t seed = 1;
};

// Walks a subset of a Dataset in epochs. Epoch e's order and augmentation come from a DataRng
// seeded by (seed, e) only, so epochs can be replayed and results do not depend on history.
class BatchIterator {
 public:
  // indices: the samples to visit (empty = all of data). data must outlive the iterator.
  BatchIterator(const Dataset& data, std::vector<std::size_t> indices, const BatchOptions& options);
  void start_epoch(std::uint64_t epoch);
  bool next(Batch& batch);  // false at the end of the epoch
  std::size_t batches_per_epoch() const;
  std::size_t samples() const { return indices_.size(); }
  int out_side_h() const { return out_h_; }
  int out_side_w() const { return out_w_; }

 private:
  const Dataset& data_;
  std::vector<std::size_t> indices_;
  BatchOptions options_;
  std::vector<std::size_t> order_;
  std::size_t cursor_ = 0;
  DataRng rng_{0};
  int out_h_ = 0;
  int out_w_ = 0;
};

}  // namespace hwnas::nas
