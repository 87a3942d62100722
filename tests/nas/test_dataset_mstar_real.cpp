// Integration test on the real MSTAR 10-class SOC JPEG chips in ../shared/data/mstar (never in
// the repository). Counts and chip sizes are those listed in that folder's README.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

const std::string kMstarDir = HWNAS_SOURCE_DIR "/../shared/data/mstar";

bool have_mstar() { return std::filesystem::is_directory(kMstarDir + "/train"); }

}  // namespace

TEST(DatasetMstarReal, SocSplitCountsClassesAndCropShapes) {
  if (!have_mstar()) GTEST_SKIP() << "real MSTAR chips not found at " << kMstarDir;
  FolderOptions o;  // crop 64, magnitude only
  const SplitPair p = load_image_folders(kMstarDir, o);
  EXPECT_EQ(p.train.size(), 2746u);
  EXPECT_EQ(p.test.size(), 2425u);
  const std::vector<std::string> order = {"2S1", "BMP2", "BRDM_2", "BTR70", "BTR_60",
                                          "D7",  "T62",  "T72",    "ZIL131", "ZSU_23_4"};
  EXPECT_EQ(p.train.class_names, order);
  EXPECT_EQ(p.test.class_names, order);
  EXPECT_EQ(p.train.class_counts(), (std::vector<std::size_t>{299, 233, 298, 233, 256, 299, 298, 232, 299, 299}));
  EXPECT_EQ(p.test.class_counts(), (std::vector<std::size_t>{274, 195, 274, 196, 195, 274, 273, 196, 274, 274}));
  for (const Dataset* d : {&p.train, &p.test}) {
    for (const Image& s : d->samples) {
      ASSERT_EQ(s.channels, 1);
      ASSERT_EQ(s.height, 64);
      ASSERT_EQ(s.width, 64);
      ASSERT_EQ(s.pixels.size(), 64u * 64u);
      for (float v : s.pixels) ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << s.source;
    }
  }
  // The target sits at the chip centre: the centre crop is brighter than the README's whole-chip
  // mean grey of 18..27 / 255 for every class.
  std::vector<double> mean(10, 0.0);
  for (const Image& s : p.train.samples) {
    double sum = 0;
    for (float v : s.pixels) sum += v;
    mean[s.label] += sum / s.pixels.size() / p.train.class_counts()[s.label];
  }
  for (int k = 0; k < 10; ++k) EXPECT_GT(mean[k], 18.0 / 255.0) << order[k];
}

TEST(DatasetMstarReal, CropLargerThanAChipNamesTheChip) {
  if (!have_mstar()) GTEST_SKIP() << "real MSTAR chips not found at " << kMstarDir;
  FolderOptions o;
  o.crop = 128;  // BMP2 chips are 128 x 128: fits exactly
  const Dataset ok = load_split_folder(kMstarDir + "/test", {"BMP2"}, o);
  EXPECT_EQ(ok.size(), 195u);
  EXPECT_EQ(ok.height(), 128);
  o.crop = 129;
  expect_input_error([&] { load_split_folder(kMstarDir + "/test", {"BMP2"}, o); },
                     {"test/BMP2/", ".jpeg", "128x128", "smaller than the 129x129"});
}
