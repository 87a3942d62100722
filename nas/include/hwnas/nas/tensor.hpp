#pragma once
// Dense float32 tensors for the DARTS engine. Contiguous, row-major; 4-D tensors are NCHW,
// 2-D tensors are [rows, cols] (e.g. [N, classes]), 1-D tensors are vectors (e.g. one edge's
// architecture weights). Value semantics: copying a Tensor copies its data, so a Tensor is
// never silently shared between an activation and a parameter. Math goes through Eigen::Map
// views (vec(), mat()), which cost nothing.
//
// Randomness is always passed in as a std::mt19937_64 owned by the caller (no global RNG), so
// the same seed gives the same tensors.
#include <cstddef>
#include <cstdint>
#include <random>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_ps
// in avx512fintrin.h) whenever Eigen's vectorised code is inlined with -march=native on an
// AVX-512 machine (GCC bug 105593, fixed in GCC 13). The warning is a false positive and would
// drown real ones, so it is silenced for translation units that use these tensors.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>

namespace hwnas::nas {

using Shape = std::vector<int>;

std::int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[32, 16, 8, 8]"

// Row-major float matrices, the layout of a [rows, cols] tensor and of NCHW's [C, H*W] planes.
using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<MatrixRM>;
using ConstMatMap = Eigen::Map<const MatrixRM>;
using VecMap = Eigen::Map<Eigen::VectorXf>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;

namespace detail {
// Tensor storage comes from a size-bucketed cache of 64-byte aligned blocks. A training step
// allocates and frees the same few hundred activation and gradient sizes every step; recycling
// them skips malloc's page faults and the kernel's zero-fill of fresh pages (about a fifth of a
// supernet step otherwise). The alignment also makes Eigen's vectorised reductions sum in the
// same order wherever a buffer lands, so results do not depend on the allocator's choices.
// Thread-safe. Small blocks (below kPoolMinBytes) go straight to aligned operator new.
constexpr std::size_t kStorageAlignBytes = 64;
constexpr std::size_t kPoolMinBytes = 16 * 1024;
void* storage_allocate(std::size_t bytes);
void storage_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

// Bytes of free storage the tensor cache holds, and a way to hand them back to the system (at
// the end of a search, or before a phase with different tensor sizes).
std::size_t tensor_cache_bytes();
void release_tensor_cache();

// Leaves new elements uninitialised (default-init instead of value-init), so op outputs that
// are overwritten anyway skip a pass over memory. Every public constructor still fills.
// Allocates through the tensor cache (see detail::storage_allocate).
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  T* allocate(std::size_t n) { return static_cast<T*>(detail::storage_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::storage_deallocate(p, n * sizeof(T)); }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

class Tensor {
 public:
  using Storage = std::vector<float, DefaultInitAllocator<float>>;

  Tensor() = default;  // empty: no shape, no data (empty() is true)
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> data);  // data.size() must equal the shape's numel

  static Tensor zeros(Shape shape) { return Tensor(std::move(shape), 0.0f); }
  static Tensor full(Shape shape, float value) { return Tensor(std::move(shape), value); }
  static Tensor zeros_like(const Tensor& t) { return Tensor(t.shape(), 0.0f); }
  // Contents unspecified: for outputs the caller overwrites completely.
  static Tensor uninitialized(Shape shape);
  // Normal(mean 0, stddev) and Uniform[lo, hi) from the caller's generator.
  static Tensor randn(Shape shape, std::mt19937_64& rng, float stddev = 1.0f);
  static Tensor uniform(Shape shape, std::mt19937_64& rng, float lo, float hi);

  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int dim(int i) const;  // negative i counts from the end
  std::int64_t numel() const { return static_cast<std::int64_t>(data_.size()); }
  bool empty() const { return shape_.empty(); }
  bool same_shape(const Tensor& o) const { return shape_ == o.shape_; }

  // NCHW accessors for 4-D tensors.
  int n() const { return shape_[0]; }
  int c() const { return shape_[1]; }
  int h() const { return shape_[2]; }
  int w() const { return shape_[3]; }
  float& at(int n, int c, int h, int w) {
    return data_[((static_cast<std::size_t>(n) * shape_[1] + c) * shape_[2] + h) * shape_[3] + w];
  }
  float at(int n, int c, int h, int w) const {
    return data_[((static_cast<std::size_t>(n) * shape_[1] + c) * shape_[2] + h) * shape_[3] + w];
  }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](std::int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  float operator[](std::int64_t i) const { return data_[static_cast<std::size_t>(i)]; }
  const Storage& storage() const { return data_; }

  VecMap vec() { return VecMap(data_.data(), numel()); }
  ConstVecMap vec() const { return ConstVecMap(data_.data(), numel()); }
  // The data viewed as a row-major rows x cols matrix (rows * cols must equal numel()).
  MatMap mat(std::int64_t rows, std::int64_t cols);
  ConstMatMap mat(std::int64_t rows, std::int64_t cols) const;

  void fill(float value);
  void set_zero() { fill(0.0f); }
  // Same data, new shape with the same numel (throws std::invalid_argument otherwise).
  void reshape(Shape shape);
  Tensor reshaped(Shape shape) const;
  // New shape, any numel; contents become zeros. Keeps the allocation when it is big enough,
  // so a reused buffer does not allocate in a hot loop.
  void resize_zero(Shape shape);

  // Element-wise helpers used by optimisers and tests.
  Tensor& operator+=(const Tensor& o);  // same shape required
  Tensor& operator*=(float s);
  float sum() const;
  float max_abs() const;

 private:
  Shape shape_;
  Storage data_;
};

// Largest |a - b| over elements (shapes must match), NaN if any difference is NaN. For tests
// and fast-path checks.
float max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace hwnas::nas
