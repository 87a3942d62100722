// Dataset utilities: the portable RNG, normalisation, crops, the DARTS split, batches.
#include "hwnas/nas/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "hwnas/common/error.hpp"

namespace hwnas::nas {

std::vector<std::size_t> Dataset::class_counts() const {
  std::vector<std::size_t> counts(class_names.size(), 0);
  for (const Image& s : samples) {
    if (s.label >= 0 && static_cast<std::size_t>(s.label) < counts.size()) ++counts[s.label];
  }
  return counts;
}

std::uint64_t DataRng::next_u64() {
  state_ += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double DataRng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t DataRng::below(std::uint64_t n) {
  // Rejection keeps every residue equally likely (2^64 is rarely a multiple of n).
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

double DataRng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double DataRng::gamma(double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a)
    const double u = 1.0 - uniform();
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0, v = 0.0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  DataRng rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  return idx;
}

ChannelStats compute_channel_stats(const Dataset& data) {
  const int c = data.channels();
  ChannelStats st;
  st.mean.assign(c, 0.0f);
  st.stddev.assign(c, 1.0f);
  if (data.samples.empty()) return st;
  for (int ch = 0; ch < c; ++ch) {
    double sum = 0.0, sum_sq = 0.0;
    std::size_t count = 0;
    for (const Image& s : data.samples) {
      const std::size_t plane = static_cast<std::size_t>(s.height) * s.width;
      const float* p = s.pixels.data() + ch * plane;
      for (std::size_t i = 0; i < plane; ++i) {
        sum += p[i];
        sum_sq += static_cast<double>(p[i]) * p[i];
      }
      count += plane;
    }
    const double mean = sum / static_cast<double>(count);
    const double var = std::max(0.0, sum_sq / static_cast<double>(count) - mean * mean);
    st.mean[ch] = static_cast<float>(mean);
    st.stddev[ch] = var > 1e-20 ? static_cast<float>(std::sqrt(var)) : 1.0f;
  }
  return st;
}

void normalise(Dataset& data, const ChannelStats& stats) {
  for (Image& s : data.samples) {
    if (static_cast<std::size_t>(s.channels) != stats.mean.size() || stats.mean.size() != stats.stddev.size()) {
      throw InputError(s.source, "normalisation has " + std::to_string(stats.mean.size()) +
                                     " channel(s), the sample has " + std::to_string(s.channels));
    }
    const std::size_t plane = static_cast<std::size_t>(s.height) * s.width;
    for (int ch = 0; ch < s.channels; ++ch) {
      float* p = s.pixels.data() + ch * plane;
      const float m = stats.mean[ch];
      const float inv = 1.0f / stats.stddev[ch];
      for (std::size_t i = 0; i < plane; ++i) p[i] = (p[i] - m) * inv;
    }
  }
}

ChannelStats normalise_by_train(SplitPair& pair) {
  const ChannelStats st = compute_channel_stats(pair.train);
  normalise(pair.train, st);
  normalise(pair.test, st);
  return st;
}

Image crop_image(const Image& src, int crop, int y0, int x0, bool flip) {
  if (crop < 1 || y0 < 0 || x0 < 0 || y0 + crop > src.height || x0 + crop > src.width) {
    throw InputError(src.source, "crop " + std::to_string(crop) + " at (" + std::to_string(y0) + ", " +
                                     std::to_string(x0) + ") does not fit a " + std::to_string(src.width) + "x" +
                                     std::to_string(src.height) + " image");
  }
  Image out;
  out.channels = src.channels;
  out.height = crop;
  out.width = crop;
  out.label = src.label;
  out.source = src.source;
  out.pixels.resize(static_cast<std::size_t>(src.channels) * crop * crop);
  float* dst = out.pixels.data();
  for (int c = 0; c < src.channels; ++c) {
    for (int y = 0; y < crop; ++y) {
      const float* row = src.pixels.data() + (static_cast<std::size_t>(c) * src.height + y0 + y) * src.width + x0;
      for (int x = 0; x < crop; ++x) *dst++ = flip ? row[crop - 1 - x] : row[x];
    }
  }
  return out;
}

void centre_crop_all(Dataset& data, int crop) {
  for (std::size_t i = 0; i < data.samples.size(); ++i) {
    Image& s = data.samples[i];
    if (s.height < crop || s.width < crop) {
      throw InputError(s.source.empty() ? "sample " + std::to_string(i) : s.source,
                       "image is " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                           ", smaller than the " + std::to_string(crop) + "x" + std::to_string(crop) + " crop");
    }
    s = crop_image(s, crop, centre_offset(s.height, crop), centre_offset(s.width, crop), false);
  }
}

IndexSplit split_indices(std::size_t n, std::uint64_t seed, double fraction_first) {
  if (!(fraction_first > 0.0 && fraction_first < 1.0)) {
    throw InputError("split fraction " + std::to_string(fraction_first) + " must be in (0, 1)");
  }
  const std::vector<std::size_t> perm = shuffled_indices(n, seed);
  const auto k = static_cast<std::size_t>(std::floor(static_cast<double>(n) * fraction_first));
  IndexSplit s;
  s.first.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(k));
  s.second.assign(perm.begin() + static_cast<std::ptrdiff_t>(k), perm.end());
  return s;
}

BatchIterator::BatchIterator(const Dataset& data, std::vector<std::size_t> indices, const BatchOptions& options)
    : data_(data), indices_(std::move(indices)), options_(options) {
  if (options_.batch_size < 1) throw InputError("batch size " + std::to_string(options_.batch_size) + " must be >= 1");
  if (indices_.empty()) {
    indices_.resize(data_.size());
    for (std::size_t i = 0; i < indices_.size(); ++i) indices_[i] = i;
  }
  if (indices_.empty()) throw InputError("batch iterator over an empty data set");
  for (std::size_t i : indices_) {
    if (i >= data_.size()) throw InputError("sample index " + std::to_string(i) + " is out of range");
  }
  out_h_ = options_.crop > 0 ? options_.crop : data_.height();
  out_w_ = options_.crop > 0 ? options_.crop : data_.width();
  if (out_h_ > data_.height() || out_w_ > data_.width()) {
    throw InputError("batch crop " + std::to_string(options_.crop) + " is larger than the stored " +
                     std::to_string(data_.width()) + "x" + std::to_string(data_.height()) + " samples");
  }
  start_epoch(0);
}

void BatchIterator::start_epoch(std::uint64_t epoch) {
  rng_ = DataRng(options_.seed ^ (0xD1B54A32D192ED03ull * (epoch + 1)));
  order_ = indices_;
  if (options_.shuffle) {
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  }
  cursor_ = 0;
}

std::size_t BatchIterator::batches_per_epoch() const {
  const std::size_t n = indices_.size();
  const std::size_t b = static_cast<std::size_t>(options_.batch_size);
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

bool BatchIterator::next(Batch& batch) {
  const std::size_t remaining = order_.size() - cursor_;
  const std::size_t bs = static_cast<std::size_t>(options_.batch_size);
  if (remaining == 0 || (options_.drop_last && remaining < bs)) return false;
  const std::size_t n = std::min(bs, remaining);
  const int c = data_.channels();
  batch.n = static_cast<int>(n);
  batch.channels = c;
  batch.height = out_h_;
  batch.width = out_w_;
  batch.data.resize(n * c * out_h_ * out_w_);
  batch.labels.resize(n);
  float* dst = batch.data.data();
  for (std::size_t k = 0; k < n; ++k) {
    const Image& s = data_.samples[order_[cursor_ + k]];
    int y0 = centre_offset(s.height, out_h_);
    int x0 = centre_offset(s.width, out_w_);
    if (options_.random_crop) {
      y0 = static_cast<int>(rng_.below(static_cast<std::uint64_t>(s.height - out_h_ + 1)));
      x0 = static_cast<int>(rng_.below(static_cast<std::uint64_t>(s.width - out_w_ + 1)));
    }
    const bool flip = options_.hflip && (rng_.next_u64() >> 63) != 0;
    for (int ch = 0; ch < c; ++ch) {
      for (int y = 0; y < out_h_; ++y) {
        const float* row = s.pixels.data() + (static_cast<std::size_t>(ch) * s.height + y0 + y) * s.width + x0;
        if (flip) {
          for (int x = 0; x < out_w_; ++x) *dst++ = row[out_w_ - 1 - x];
        } else {
          dst = std::copy_n(row, out_w_, dst);
        }
      }
    }
    batch.labels[k] = s.label;
  }
  cursor_ += n;
  return true;
}

}  // namespace hwnas::nas
