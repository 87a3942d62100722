#include "hwnas/nas/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace hwnas::nas {

namespace {

// Free blocks by size class. Eight classes per octave keep the rounding waste below 12.5%
// while the supernet's few hundred distinct sizes still map to reusable classes.
class StorageCache {
 public:
  static constexpr std::size_t kMaxCachedBytes = std::size_t{8} << 30;

  static std::size_t size_class(std::size_t bytes) {
    std::size_t top = 1;
    while (top < bytes) top <<= 1;
    const std::size_t step = std::max<std::size_t>(top / 8, detail::kStorageAlignBytes);
    return (bytes + step - 1) / step * step;
  }

  void* take(std::size_t cls) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(cls);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= cls;
    return p;
  }

  bool give(void* p, std::size_t cls) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + cls > kMaxCachedBytes) return false;
    free_[cls].push_back(p);
    cached_bytes_ += cls;
    return true;
  }

  std::size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [cls, blocks] : free_)
      for (void* p : blocks) ::operator delete(p, std::align_val_t{detail::kStorageAlignBytes});
    free_.clear();
    cached_bytes_ = 0;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
};

// Never destroyed: tensors in other static objects may be freed after this one would be.
StorageCache& storage_cache() {
  static StorageCache* cache = new StorageCache();
  return *cache;
}

}  // namespace

namespace detail {

void* storage_allocate(std::size_t bytes) {
  if (bytes < kPoolMinBytes) return ::operator new(std::max<std::size_t>(bytes, 1), std::align_val_t{kStorageAlignBytes});
  const std::size_t cls = StorageCache::size_class(bytes);
  if (void* p = storage_cache().take(cls)) return p;
  return ::operator new(cls, std::align_val_t{kStorageAlignBytes});
}

void storage_deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes >= kPoolMinBytes) {
    const std::size_t cls = StorageCache::size_class(bytes);
    try {
      if (storage_cache().give(p, cls)) return;
    } catch (...) {
      // Out of memory growing a free list: hand the block back instead.
    }
  }
  ::operator delete(p, std::align_val_t{kStorageAlignBytes});
}

}  // namespace detail

std::size_t tensor_cache_bytes() { return storage_cache().cached_bytes(); }

void release_tensor_cache() { storage_cache().release(); }

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (int d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_to_string(shape));
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

Tensor::Tensor(Shape shape, float fill)
    : shape_(std::move(shape)), data_(static_cast<std::size_t>(shape_numel(shape_)), fill) {}

Tensor::Tensor(Shape shape, std::vector<float> data) : shape_(std::move(shape)), data_(data.begin(), data.end()) {
  if (static_cast<std::int64_t>(data_.size()) != shape_numel(shape_)) {
    throw std::invalid_argument("Tensor: " + std::to_string(data_.size()) +
                                " values do not fill shape " + shape_to_string(shape_));
  }
}

Tensor Tensor::uninitialized(Shape shape) {
  Tensor t;
  t.data_.resize(static_cast<std::size_t>(shape_numel(shape)));
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::randn(Shape shape, std::mt19937_64& rng, float stddev) {
  Tensor t(std::move(shape));
  std::normal_distribution<float> dist(0.0f, stddev);
  for (auto& v : t.data_) v = dist(rng);
  return t;
}

Tensor Tensor::uniform(Shape shape, std::mt19937_64& rng, float lo, float hi) {
  Tensor t(std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (auto& v : t.data_) v = dist(rng);
  return t;
}

int Tensor::dim(int i) const {
  const int nd = ndim();
  const int k = i < 0 ? nd + i : i;
  if (k < 0 || k >= nd) {
    throw std::invalid_argument("Tensor::dim(" + std::to_string(i) + ") on shape " + shape_to_string(shape_));
  }
  return shape_[static_cast<std::size_t>(k)];
}

MatMap Tensor::mat(std::int64_t rows, std::int64_t cols) {
  if (rows * cols != numel()) {
    throw std::invalid_argument("Tensor::mat(" + std::to_string(rows) + ", " + std::to_string(cols) +
                                ") on shape " + shape_to_string(shape_));
  }
  return MatMap(data_.data(), rows, cols);
}

ConstMatMap Tensor::mat(std::int64_t rows, std::int64_t cols) const {
  if (rows * cols != numel()) {
    throw std::invalid_argument("Tensor::mat(" + std::to_string(rows) + ", " + std::to_string(cols) +
                                ") on shape " + shape_to_string(shape_));
  }
  return ConstMatMap(data_.data(), rows, cols);
}

void Tensor::fill(float value) { std::fill(data_.begin(), data_.end(), value); }

void Tensor::reshape(Shape shape) {
  if (shape_numel(shape) != numel()) {
    throw std::invalid_argument("Tensor::reshape from " + shape_to_string(shape_) + " to " +
                                shape_to_string(shape));
  }
  shape_ = std::move(shape);
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor t = *this;
  t.reshape(std::move(shape));
  return t;
}

void Tensor::resize_zero(Shape shape) {
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  shape_ = std::move(shape);
  data_.assign(n, 0.0f);
}

Tensor& Tensor::operator+=(const Tensor& o) {
  if (shape_ != o.shape_) {
    throw std::invalid_argument("Tensor +=: shapes " + shape_to_string(shape_) + " and " + shape_to_string(o.shape_));
  }
  vec() += o.vec();
  return *this;
}

Tensor& Tensor::operator*=(float s) {
  vec() *= s;
  return *this;
}

float Tensor::sum() const {
  double s = 0.0;
  for (float v : data_) s += v;
  return static_cast<float>(s);
}

float Tensor::max_abs() const {
  float m = 0.0f;
  for (float v : data_) m = std::max(m, std::fabs(v));
  return m;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    throw std::invalid_argument("max_abs_diff: shapes " + shape_to_string(a.shape()) + " and " +
                                shape_to_string(b.shape()));
  }
  float m = 0.0f;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    // A NaN on either side is a mismatch that no tolerance accepts.
    if (std::isnan(d)) return d;
    m = std::max(m, d);
  }
  return m;
}

}  // namespace hwnas::nas
