// MSTAR-style image folders root/{train,test}/<CLASS>/<file>, decoded on worker threads into
// fixed slots so the result is identical for any thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

namespace fs = std::filesystem;

namespace hwnas::nas {
namespace {

struct Job {
  std::string path;
  int label = 0;
};

int region_side(const FolderOptions& o) { return o.region == 0 ? o.crop : o.region; }

void check_options(const FolderOptions& o) {
  if (o.crop < 1) throw InputError("crop size " + std::to_string(o.crop) + " must be >= 1");
  if (o.region != 0 && o.region < o.crop) {
    throw InputError("crop region " + std::to_string(o.region) + " must be 0 or >= the crop size " +
                     std::to_string(o.crop));
  }
  if (o.threads < 1) throw InputError("thread count " + std::to_string(o.threads) + " must be >= 1");
}

std::string first_bytes_hex(const std::vector<unsigned char>& b) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < std::min<std::size_t>(b.size(), 4); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    if (!s.empty()) s += ' ';
    s += buf;
  }
  return s.empty() ? "empty file" : "first bytes " + s;
}

// Copies the centred side x side window of a row-major plane into dst.
void centre_window(const float* src, int h, int w, int side, float* dst) {
  const int y0 = centre_offset(h, side);
  const int x0 = centre_offset(w, side);
  for (int y = 0; y < side; ++y) {
    std::copy_n(src + static_cast<std::size_t>(y0 + y) * w + x0, side, dst + static_cast<std::size_t>(y) * side);
  }
}

Image load_one(const Job& job, const FolderOptions& o) {
  const std::vector<unsigned char> bytes = read_file_bytes(job.path);
  const FileKind kind = detect_file_kind(bytes);
  const int side = region_side(o);
  const int channels = static_cast<int>(o.channels);
  Image img;
  img.channels = channels;
  img.height = side;
  img.width = side;
  img.label = job.label;
  img.source = job.path;
  img.pixels.resize(static_cast<std::size_t>(channels) * side * side);
  auto check_size = [&](int h, int w) {
    if (h < side || w < side) {
      throw InputError(job.path, "image is " + std::to_string(w) + "x" + std::to_string(h) +
                                     " (width x height), smaller than the " + std::to_string(side) + "x" +
                                     std::to_string(side) + " centre " + (o.region > o.crop ? "region" : "crop"));
    }
  };
  if (kind == FileKind::kJpeg || kind == FileKind::kPng) {
    if (channels == 2) {
      throw InputError(job.path, std::string("magnitude+phase (2 channels) needs raw MSTAR chips; this file is a ") +
                                     file_kind_name(kind) + " image (magnitude only)");
    }
    GreyImage g = decode_grey_image(bytes, job.path);
    check_size(g.height, g.width);
    for (float& v : g.values) v /= 255.0f;
    centre_window(g.values.data(), g.height, g.width, side, img.pixels.data());
  } else if (kind == FileKind::kMstarChip) {
    MstarChip chip = parse_mstar_chip(bytes, job.path);
    check_size(chip.rows, chip.cols);
    if (o.log_magnitude) {
      for (float& m : chip.magnitude) m = 20.0f * std::log10(std::max(m, 1e-4f));
    }
    centre_window(chip.magnitude.data(), chip.rows, chip.cols, side, img.pixels.data());
    if (channels == 2) {
      centre_window(chip.phase.data(), chip.rows, chip.cols, side,
                    img.pixels.data() + static_cast<std::size_t>(side) * side);
    }
  } else {
    throw InputError(job.path, "not a JPEG, PNG or MSTAR Phoenix chip file (" + first_bytes_hex(bytes) + ")");
  }
  return img;
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden files (.DS_Store, editor droppings)
    entries.push_back(it->path());
  }
  if (ec) throw InputError(dir.string(), "cannot list folder: " + ec.message());
  // Byte-wise name order: the same on every file system and locale.
  std::sort(entries.begin(), entries.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return entries;
}

}  // namespace

std::vector<std::string> list_class_folders(const std::string& split_dir) {
  if (!fs::is_directory(split_dir)) {
    throw InputError(split_dir, "missing split folder (expected <root>/{train,test}/<CLASS>/<images>)");
  }
  std::vector<std::string> classes;
  for (const fs::path& p : sorted_entries(split_dir)) {
    if (fs::is_directory(p)) classes.push_back(p.filename().string());
  }
  if (classes.empty()) throw InputError(split_dir, "split folder holds no class folders");
  return classes;
}

Dataset load_split_folder(const std::string& split_dir, const std::vector<std::string>& classes,
                          const FolderOptions& options) {
  check_options(options);
  if (!fs::is_directory(split_dir)) {
    throw InputError(split_dir, "missing split folder (expected <root>/{train,test}/<CLASS>/<images>)");
  }
  if (classes.empty()) throw InputError(split_dir, "no classes given");
  std::vector<Job> jobs;
  for (std::size_t label = 0; label < classes.size(); ++label) {
    const fs::path dir = fs::path(split_dir) / classes[label];
    if (!fs::is_directory(dir)) throw InputError(dir.string(), "missing class folder '" + classes[label] + "'");
    std::size_t files = 0;
    for (const fs::path& p : sorted_entries(dir)) {
      if (fs::is_directory(p)) throw InputError(p.string(), "unexpected sub-folder inside a class folder");
      jobs.push_back({p.string(), static_cast<int>(label)});
      ++files;
    }
    if (files == 0) throw InputError(dir.string(), "class folder '" + classes[label] + "' holds no files");
  }

  Dataset out;
  out.class_names = classes;
  out.samples.resize(jobs.size());
  // Workers take jobs in increasing index order; on failure the lowest failing index wins, and
  // every lower index has been tried, so the reported file does not depend on timing.
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::size_t error_index = jobs.size();
  std::string error_message;
  auto worker = [&]() {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i > error_index) return;
      }
      try {
        out.samples[i] = load_one(jobs[i], options);
      } catch (const InputError& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error_message = e.what();
        }
      }
    }
  };
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(jobs.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error_index < jobs.size()) throw InputError(error_message);
  return out;
}

SplitPair load_image_folders(const std::string& root, const FolderOptions& options) {
  check_options(options);
  if (!fs::is_directory(root)) throw InputError(root, "data folder does not exist");
  const std::string train_dir = (fs::path(root) / "train").string();
  const std::string test_dir = (fs::path(root) / "test").string();
  std::vector<std::string> classes = options.classes;
  if (classes.empty()) {
    classes = list_class_folders(train_dir);
    const std::vector<std::string> test_classes = list_class_folders(test_dir);
    if (classes != test_classes) {
      std::string only_train, only_test;
      for (const auto& c : classes) {
        if (std::find(test_classes.begin(), test_classes.end(), c) == test_classes.end()) only_train += " " + c;
      }
      for (const auto& c : test_classes) {
        if (std::find(classes.begin(), classes.end(), c) == classes.end()) only_test += " " + c;
      }
      throw InputError(root, "train and test class folders differ: only in train:" +
                                 (only_train.empty() ? std::string(" (none)") : only_train) +
                                 "; only in test:" + (only_test.empty() ? std::string(" (none)") : only_test));
    }
  } else {
    std::set<std::string> seen;
    for (const auto& c : classes) {
      if (c.empty() || c.find('/') != std::string::npos) throw InputError(root, "bad class name '" + c + "'");
      if (!seen.insert(c).second) throw InputError(root, "class '" + c + "' listed twice");
    }
    if (!fs::is_directory(train_dir)) throw InputError(train_dir, "missing split folder");
    if (!fs::is_directory(test_dir)) throw InputError(test_dir, "missing split folder");
  }
  SplitPair pair;
  pair.train = load_split_folder(train_dir, classes, options);
  pair.test = load_split_folder(test_dir, classes, options);
  return pair;
}

SplitPair load_dataset(const std::string& path, const FolderOptions& options) {
  if (path == "synthetic") {
    SyntheticOptions s;
    s.size = std::max(region_side(options), 24);
    return make_synthetic_sar(s);
  }
  if (!fs::is_directory(path)) throw InputError(path, "data folder does not exist (or give 'synthetic')");
  if (fs::is_directory(fs::path(path) / "train") || fs::is_directory(fs::path(path) / "test")) {
    return load_image_folders(path, options);
  }
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"}) {
    if (fs::is_regular_file(fs::path(path) / f)) return load_fashion_mnist(path);
  }
  throw InputError(path, "neither an image folder set (train/ and test/) nor an IDX folder "
                         "(train-images-idx3-ubyte[.gz] ...)");
}

}  // namespace hwnas::nas
