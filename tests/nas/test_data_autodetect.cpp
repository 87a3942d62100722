// load_dataset: picks the synthetic generator, an image-folder set or an IDX folder.
#include <gtest/gtest.h>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

// IDX file of n items: 2x3 images (item_bytes 6) or labels (item_bytes 1), every byte 1.
std::vector<unsigned char> idx(std::uint32_t n, std::size_t item_bytes) {
  std::vector<unsigned char> b = {0, 0, 0x08, static_cast<unsigned char>(item_bytes == 1 ? 1 : 3)};
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(n >> s));
  if (item_bytes != 1) {
    for (std::uint32_t side : {2u, 3u})
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(side >> s));
  }
  b.resize(b.size() + n * item_bytes, 1);
  return b;
}

}  // namespace

TEST(DataAutodetect, SyntheticFoldersAndIdx) {
  FolderOptions o;
  o.crop = 32;
  const SplitPair syn = load_dataset("synthetic", o);
  EXPECT_EQ(syn.train.size(), 1000u);  // 10 classes x 100
  EXPECT_EQ(syn.test.size(), 500u);
  EXPECT_EQ(syn.train.height(), 32);

  ScratchDir dir;
  for (const char* split : {"train", "test"}) {
    write_bytes(dir / (std::string("img/") + split + "/A/a.jpeg"), {0xFF, 0xD8, 0xFF, 0xD9});
  }
  // Chosen as an image-folder set: the (invalid) JPEG is what gets reported.
  expect_input_error([&] { load_dataset(dir / "img", o); }, {"a.jpeg", "cannot decode JPEG"});

  for (const char* prefix : {"train", "t10k"}) {
    write_bytes(dir / (std::string("idx/") + prefix + "-images-idx3-ubyte"), idx(4, 6));
    write_bytes(dir / (std::string("idx/") + prefix + "-labels-idx1-ubyte"), idx(4, 1));
  }
  const SplitPair f = load_dataset(dir / "idx", o);
  EXPECT_EQ(f.train.size(), 4u);
  EXPECT_EQ(f.train.height(), 2);
  EXPECT_EQ(f.train.width(), 3);
  EXPECT_EQ(f.train.class_names.size(), 10u);  // Fashion-MNIST names
  EXPECT_EQ(f.train.samples[0].label, 1);

  std::filesystem::create_directories(dir / "other");
  expect_input_error([&] { load_dataset(dir / "other", o); }, {"other", "neither"});
  expect_input_error([&] { load_dataset(dir / "missing", o); }, {"missing", "does not exist"});
}
