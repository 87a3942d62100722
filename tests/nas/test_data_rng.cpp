// DataRng, shuffles and the DARTS split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

using namespace hwnas::nas;

TEST(DataRng, SplitMix64MatchesReferenceSequence) {
  // Reference values of splitmix64 seeded with 0 (Vigna's published test vector).
  DataRng r(0);
  EXPECT_EQ(r.next_u64(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(r.next_u64(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(r.next_u64(), 0x06C45D188009454Full);
}

TEST(DataRng, UniformBelowAndGammaMoments) {
  DataRng r(42);
  const int n = 200000;
  std::vector<int> hist(7, 0);
  double s1 = 0, s2 = 0, g1 = 0, g2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s1 += u;
    s2 += u * u;
    ++hist[r.below(7)];
    const double g = r.gamma(3.0);
    g1 += g;
    g2 += g * g;
  }
  EXPECT_NEAR(s1 / n, 0.5, 0.005);
  EXPECT_NEAR(s2 / n - 0.25, 1.0 / 12.0, 0.002);  // variance of U(0,1)
  for (int h : hist) EXPECT_NEAR(h, n / 7.0, 5 * std::sqrt(n / 7.0));
  // Gamma(k=3, theta=1): mean 3, variance 3.
  EXPECT_NEAR(g1 / n, 3.0, 0.03);
  EXPECT_NEAR(g2 / n - (g1 / n) * (g1 / n), 3.0, 0.1);
  double e1 = 0;
  for (int i = 0; i < n; ++i) e1 += r.gamma(0.5);  // shape < 1 path: mean 0.5
  EXPECT_NEAR(e1 / n, 0.5, 0.01);
}

TEST(DataSplit, HalvesAreDisjointCompleteAndDeterministic) {
  const IndexSplit a = split_indices(101, 7);
  const IndexSplit b = split_indices(101, 7);
  const IndexSplit c = split_indices(101, 8);
  EXPECT_EQ(a.first.size(), 50u);
  EXPECT_EQ(a.second.size(), 51u);
  std::set<std::size_t> all(a.first.begin(), a.first.end());
  for (std::size_t i : a.second) EXPECT_TRUE(all.insert(i).second) << "index " << i << " in both halves";
  EXPECT_EQ(all.size(), 101u);
  EXPECT_EQ(*all.rbegin(), 100u);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.first, c.first);
  // A shuffle, not the identity order.
  EXPECT_FALSE(std::is_sorted(a.first.begin(), a.first.end()));
  EXPECT_THROW(split_indices(10, 1, 1.0), hwnas::InputError);
}

TEST(DataSplit, ShuffleIsAPermutation) {
  std::vector<std::size_t> p = shuffled_indices(1000, 3);
  std::sort(p.begin(), p.end());
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], i);
}
