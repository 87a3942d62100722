#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {
namespace {

TEST(Tensor, ShapeNumelAndNchwIndexing) {
  Tensor t({2, 3, 4, 5}, 1.5f);
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.ndim(), 4);
  EXPECT_EQ(t.dim(-1), 5);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_THROW(t.dim(4), std::invalid_argument);
  t.at(1, 2, 3, 4) = 7.0f;
  EXPECT_EQ(t[119], 7.0f);  // last element in row-major NCHW
  t.at(1, 0, 0, 0) = 9.0f;
  EXPECT_EQ(t[60], 9.0f);  // n stride = 3*4*5
  EXPECT_EQ(shape_to_string(t.shape()), "[2, 3, 4, 5]");
  EXPECT_TRUE(Tensor().empty());
  EXPECT_THROW(Tensor({2, 2}, std::vector<float>{1, 2, 3}), std::invalid_argument);
}

TEST(Tensor, ValueSemanticsCopyIsIndependent) {
  Tensor a({3}, 1.0f);
  Tensor b = a;
  b[0] = 5.0f;
  EXPECT_EQ(a[0], 1.0f);
}

TEST(Tensor, MatrixViewIsRowMajor) {
  Tensor t({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  auto m = t.mat(2, 3);
  EXPECT_EQ(m(0, 2), 3.0f);
  EXPECT_EQ(m(1, 0), 4.0f);
  m(1, 1) = -1.0f;
  EXPECT_EQ(t[4], -1.0f);
  EXPECT_THROW(t.mat(4, 2), std::invalid_argument);
  EXPECT_FLOAT_EQ(t.sum(), 1 + 2 + 3 + 4 - 1 + 6);
  EXPECT_FLOAT_EQ(t.max_abs(), 6.0f);
}

TEST(Tensor, ReshapeKeepsDataAndChecksNumel) {
  Tensor t({2, 6}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor r = t.reshaped({3, 2, 2});
  EXPECT_EQ(r.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(r[7], 7.0f);
  EXPECT_THROW(t.reshape({5, 2}), std::invalid_argument);
  t.resize_zero({4});
  EXPECT_EQ(t.shape(), (Shape{4}));
  EXPECT_EQ(t.max_abs(), 0.0f);
}

TEST(Tensor, RandomTensorsDependOnlyOnTheGivenGenerator) {
  std::mt19937_64 a(42), b(42), c(43);
  const Tensor x = Tensor::randn({1000}, a), y = Tensor::randn({1000}, b), z = Tensor::randn({1000}, c);
  EXPECT_EQ(max_abs_diff(x, y), 0.0f);
  EXPECT_GT(max_abs_diff(x, z), 0.0f);
  // 1000 N(0, 2^2) samples: mean within 4 sigma/sqrt(n) = 0.25, variance near 4.
  Tensor s = Tensor::randn({1000}, a, 2.0f);
  const double mean = s.sum() / 1000.0;
  EXPECT_NEAR(mean, 0.0, 0.25);
  EXPECT_NEAR(s.vec().squaredNorm() / 1000.0, 4.0, 0.8);
  Tensor u = Tensor::uniform({1000}, a, -0.5f, 0.25f);
  EXPECT_LE(u.vec().maxCoeff(), 0.25f);
  EXPECT_GE(u.vec().minCoeff(), -0.5f);
}

TEST(Tensor, ArithmeticHelpers) {
  Tensor a({2}, std::vector<float>{1, 2}), b({2}, std::vector<float>{3, -5});
  a += b;
  EXPECT_EQ(a[0], 4.0f);
  EXPECT_EQ(a[1], -3.0f);
  a *= 0.5f;
  EXPECT_EQ(a[1], -1.5f);
  EXPECT_THROW(a += Tensor({3}), std::invalid_argument);
  EXPECT_FLOAT_EQ(max_abs_diff(a, b), 3.5f);  // |2-3|, |-1.5+5|
}

TEST(Tensor, StorageIsAlignedAndRecycledFromTheCache) {
  release_tensor_cache();
  const float* first = nullptr;
  {
    Tensor a = Tensor::full({64, 1000}, 3.0f);  // 256000 bytes: cached size
    first = a.data();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % detail::kStorageAlignBytes, 0u);
  }
  EXPECT_GE(tensor_cache_bytes(), 64u * 1000u * sizeof(float));
  // A tensor of a size in the same class gets the freed block back, and constructors that
  // promise zeros still deliver them over the recycled 3.0f values.
  Tensor b = Tensor::zeros({64, 999});
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(b.max_abs(), 0.0f);
  EXPECT_EQ(tensor_cache_bytes(), 0u);
  // Small tensors bypass the cache but are aligned too.
  Tensor c({3}, 1.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c.data()) % detail::kStorageAlignBytes, 0u);
  Tensor d = b;  // a copy is a new block with the same values
  EXPECT_NE(d.data(), b.data());
  EXPECT_EQ(max_abs_diff(d, b), 0.0f);
  release_tensor_cache();
  EXPECT_EQ(tensor_cache_bytes(), 0u);
}

}  // namespace
}  // namespace hwnas::nas
