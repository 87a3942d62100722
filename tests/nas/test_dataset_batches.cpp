// Crops, flips, normalisation and the batch iterator, checked by hand on tiny images.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

// c x h x w image with pixel value base + (c * h + y) * w + x.
Image ramp_image(int c, int h, int w, float base, int label) {
  Image img;
  img.channels = c;
  img.height = h;
  img.width = w;
  img.label = label;
  for (int i = 0; i < c * h * w; ++i) img.pixels.push_back(base + static_cast<float>(i));
  return img;
}

Dataset ramp_set(int n, int c, int side) {
  Dataset d;
  for (int k = 0; k < n; ++k) d.class_names.push_back("c" + std::to_string(k));
  for (int i = 0; i < n; ++i) d.samples.push_back(ramp_image(c, side, side, 1000.0f * i, i));
  return d;
}

}  // namespace

TEST(DatasetCrop, CropAndFlipByHand) {
  // 2 channels of 3 x 4:  ch0 = 0..11, ch1 = 12..23.
  const Image src = ramp_image(2, 3, 4, 0.0f, 7);
  const Image c = crop_image(src, 2, 1, 1, false);
  EXPECT_EQ(c.pixels, (std::vector<float>{5, 6, 9, 10, 17, 18, 21, 22}));
  EXPECT_EQ(c.label, 7);
  const Image f = crop_image(src, 2, 1, 1, true);
  EXPECT_EQ(f.pixels, (std::vector<float>{6, 5, 10, 9, 18, 17, 22, 21}));
  EXPECT_THROW(crop_image(src, 2, 2, 0, false), hwnas::InputError);
  EXPECT_THROW(crop_image(src, 4, 0, 0, false), hwnas::InputError);

  Dataset d;
  d.class_names = {"a"};
  d.samples = {ramp_image(1, 5, 5, 0.0f, 0), ramp_image(1, 4, 4, 0.0f, 0)};
  centre_crop_all(d, 3);
  // 5 -> 3: offset 1; 4 -> 3: offset floor(1/2) = 0.
  EXPECT_EQ(d.samples[0].pixels, (std::vector<float>{6, 7, 8, 11, 12, 13, 16, 17, 18}));
  EXPECT_EQ(d.samples[1].pixels, (std::vector<float>{0, 1, 2, 4, 5, 6, 8, 9, 10}));
  d.samples[0].source = "chip.jpeg";
  expect_input_error([&] { centre_crop_all(d, 4); }, {"chip.jpeg", "smaller than the 4x4"});
}

TEST(DatasetNormalise, StatsAndApplyByHand) {
  Dataset train;
  train.class_names = {"a"};
  Image a = ramp_image(2, 1, 2, 0.0f, 0);
  a.pixels = {1, 3, /*ch1*/ 2, 2};
  Image b = a;
  b.pixels = {5, 7, /*ch1*/ 2, 2};
  train.samples = {a, b};
  const ChannelStats st = compute_channel_stats(train);
  // ch0: values 1,3,5,7 -> mean 4, population variance (9+1+1+9)/4 = 5. ch1 constant -> std 1.
  EXPECT_FLOAT_EQ(st.mean[0], 4.0f);
  EXPECT_FLOAT_EQ(st.stddev[0], std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(st.mean[1], 2.0f);
  EXPECT_FLOAT_EQ(st.stddev[1], 1.0f);

  SplitPair pair;
  pair.train = train;
  pair.test = train;
  pair.test.samples.resize(1);
  pair.test.samples[0].pixels = {4, 4 + std::sqrt(5.0f), 3, 2};
  normalise_by_train(pair);
  EXPECT_FLOAT_EQ(pair.train.samples[0].pixels[0], -3.0f / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(pair.train.samples[1].pixels[1], 3.0f / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(pair.train.samples[1].pixels[2], 0.0f);
  // The test split uses the train statistics, not its own.
  EXPECT_FLOAT_EQ(pair.test.samples[0].pixels[0], 0.0f);
  EXPECT_FLOAT_EQ(pair.test.samples[0].pixels[1], 1.0f);
  EXPECT_FLOAT_EQ(pair.test.samples[0].pixels[2], 1.0f);
  ChannelStats one{{0.0f}, {1.0f}};
  EXPECT_THROW(normalise(pair.test, one), hwnas::InputError);
}

TEST(DatasetBatches, EpochCoversEverySampleOnceWithFixedBatches) {
  const Dataset d = ramp_set(10, 2, 3);
  BatchOptions o;
  o.batch_size = 3;
  o.seed = 9;
  BatchIterator it(d, {}, o);
  EXPECT_EQ(it.batches_per_epoch(), 4u);
  Batch b;
  std::vector<int> seen;
  std::vector<int> sizes;
  while (it.next(b)) {
    sizes.push_back(b.n);
    ASSERT_EQ(b.channels, 2);
    ASSERT_EQ(b.height, 3);
    ASSERT_EQ(b.data.size(), static_cast<std::size_t>(b.n) * 2 * 3 * 3);
    for (int k = 0; k < b.n; ++k) {
      seen.push_back(b.labels[k]);
      // NCHW: sample k's block equals its stored CHW pixels (no crop, no flip).
      for (int j = 0; j < 18; ++j) ASSERT_EQ(b.data[k * 18 + j], 1000.0f * b.labels[k] + j);
    }
  }
  EXPECT_EQ(sizes, (std::vector<int>{3, 3, 3, 1}));
  EXPECT_EQ(std::set<int>(seen.begin(), seen.end()).size(), 10u);
  EXPECT_EQ(seen.size(), 10u);

  o.drop_last = true;
  BatchIterator dl(d, {}, o);
  EXPECT_EQ(dl.batches_per_epoch(), 3u);
  int batches = 0;
  while (dl.next(b)) {
    EXPECT_EQ(b.n, 3);
    ++batches;
  }
  EXPECT_EQ(batches, 3);

  // Without shuffling the order is the index order; a subset visits only its indices.
  o.drop_last = false;
  o.shuffle = false;
  BatchIterator sub(d, {7, 2, 5}, o);
  ASSERT_TRUE(sub.next(b));
  EXPECT_EQ(b.labels, (std::vector<int>{7, 2, 5}));
  EXPECT_FALSE(sub.next(b));
}

TEST(DatasetBatches, SeedAndEpochDetermineOrderAndAugmentation) {
  const Dataset d = ramp_set(12, 1, 4);
  BatchOptions o;
  o.batch_size = 12;
  o.crop = 2;
  o.random_crop = true;
  o.hflip = true;
  o.seed = 4;
  auto epoch = [&](std::uint64_t seed, std::uint64_t e) {
    BatchOptions p = o;
    p.seed = seed;
    BatchIterator it(d, {}, p);
    it.start_epoch(e);
    Batch b;
    EXPECT_TRUE(it.next(b));
    return b;
  };
  const Batch a = epoch(4, 3), again = epoch(4, 3), other_epoch = epoch(4, 4), other_seed = epoch(5, 3);
  EXPECT_EQ(a.data, again.data);
  EXPECT_EQ(a.labels, again.labels);
  EXPECT_NE(a.labels, other_epoch.labels);
  EXPECT_NE(a.labels, other_seed.labels);
  // Replaying an epoch on a used iterator gives the same batch.
  BatchIterator it(d, {}, o);
  Batch b;
  it.start_epoch(3);
  it.next(b);
  it.start_epoch(3);
  Batch c;
  it.next(c);
  EXPECT_EQ(b.data, c.data);
}

TEST(DatasetBatches, RandomCropsAndFlipsAreValidWindowsAndAllOccur) {
  const Dataset d = ramp_set(4, 1, 4);  // 4x4 -> 2x2 crops: 9 positions x 2 flips
  BatchOptions o;
  o.batch_size = 4;
  o.crop = 2;
  o.random_crop = true;
  o.hflip = true;
  BatchIterator it(d, {}, o);
  std::set<std::pair<int, int>> used;  // (position 0..8, flipped)
  Batch b;
  for (std::uint64_t e = 0; e < 60; ++e) {
    it.start_epoch(e);
    while (it.next(b)) {
      for (int k = 0; k < b.n; ++k) {
        const Image& src = d.samples[b.labels[k]];
        const std::vector<float> got(b.data.begin() + 4 * k, b.data.begin() + 4 * k + 4);
        int found = -1;
        for (int pos = 0; pos < 9 && found < 0; ++pos) {
          for (int flip = 0; flip < 2; ++flip) {
            if (crop_image(src, 2, pos / 3, pos % 3, flip == 1).pixels == got) {
              found = pos;
              used.insert({pos, flip});
              break;
            }
          }
        }
        ASSERT_GE(found, 0) << "batch sample is not a 2x2 window of its source";
      }
    }
  }
  EXPECT_EQ(used.size(), 18u);

  // Without random_crop the window is centred: offset (4-2)/2 = 1, never flipped without hflip.
  o.random_crop = false;
  o.hflip = false;
  BatchIterator centre(d, {}, o);
  ASSERT_TRUE(centre.next(b));
  for (int k = 0; k < b.n; ++k) {
    const float base = 1000.0f * b.labels[k];
    EXPECT_EQ(std::vector<float>(b.data.begin() + 4 * k, b.data.begin() + 4 * k + 4),
              (std::vector<float>{base + 5, base + 6, base + 9, base + 10}));
  }
}

TEST(DatasetBatches, BadOptionsAreRejected) {
  const Dataset d = ramp_set(3, 1, 4);
  BatchOptions o;
  o.crop = 5;
  expect_input_error([&] { BatchIterator it(d, {}, o); }, {"crop 5", "larger"});
  o.crop = 0;
  o.batch_size = 0;
  expect_input_error([&] { BatchIterator it(d, {}, o); }, {"batch size 0"});
  o.batch_size = 2;
  expect_input_error([&] { BatchIterator it(d, {3}, o); }, {"index 3"});
  const Dataset empty;
  expect_input_error([&] { BatchIterator it(empty, {}, o); }, {"empty"});
}
