// JPEG/PNG chips in class folders: decoding with known pixel values, centre crops, class order,
// and every folder/file error path. Images are written by stb_image_write.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

// Grey w x h image with value(x, y) = (2 * (y * w + x) + salt) % 256.
std::vector<unsigned char> pattern(int w, int h, int salt) {
  std::vector<unsigned char> px(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) px[y * w + x] = static_cast<unsigned char>((2 * (y * w + x) + salt) % 256);
  return px;
}

void write_png(const std::string& path, int w, int h, const std::vector<unsigned char>& px, int comp = 1) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_NE(stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp), 0) << path;
}

void write_jpg(const std::string& path, int w, int h, const std::vector<unsigned char>& px) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_NE(stbi_write_jpg(path.c_str(), w, h, 1, px.data(), 100), 0) << path;
}

// train/test, three classes, two PNG chips each of 10 (wide) x 12 (high).
void make_tree(const ScratchDir& dir) {
  for (const char* split : {"train", "test"}) {
    int salt = 0;
    for (const char* cls : {"b_cls", "A_cls", "a2"}) {
      for (const char* name : {"x1.png", "x0.img"}) {
        write_png(dir / (std::string(split) + "/" + cls + "/" + name), 10, 12, pattern(10, 12, salt));
        ++salt;
      }
    }
  }
}

}  // namespace

TEST(DataImages, PngDecodesToExactGreyValues) {
  ScratchDir dir;
  const auto px = pattern(6, 5, 3);
  write_png(dir / "a.png", 6, 5, px);
  const GreyImage g = decode_grey_image(read_file_bytes(dir / "a.png"), "a.png");
  ASSERT_EQ(g.width, 6);
  ASSERT_EQ(g.height, 5);
  for (std::size_t i = 0; i < px.size(); ++i) EXPECT_EQ(g.values[i], px[i]);
  // An RGB image with r = g = b is converted to the same grey level.
  std::vector<unsigned char> rgb;
  for (unsigned char v : px) rgb.insert(rgb.end(), {v, v, v});
  write_png(dir / "rgb.png", 6, 5, rgb, 3);
  const GreyImage c = decode_grey_image(read_file_bytes(dir / "rgb.png"), "rgb.png");
  for (std::size_t i = 0; i < px.size(); ++i) EXPECT_NEAR(c.values[i], px[i], 1.0);
}

TEST(DataImages, JpegDecodesBlockConstantImageWithinOneLevel) {
  ScratchDir dir;
  // 8x8 blocks of constant value survive quality-100 JPEG up to rounding.
  std::vector<unsigned char> px(16 * 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) px[y * 16 + x] = static_cast<unsigned char>(x < 8 ? (y < 8 ? 40 : 90) : (y < 8 ? 200 : 15));
  write_jpg(dir / "c.jpeg", 16, 16, px);
  const auto bytes = read_file_bytes(dir / "c.jpeg");
  EXPECT_EQ(detect_file_kind(bytes), FileKind::kJpeg);
  const GreyImage g = decode_grey_image(bytes, "c.jpeg");
  ASSERT_EQ(g.values.size(), px.size());
  for (std::size_t i = 0; i < px.size(); ++i) EXPECT_NEAR(g.values[i], px[i], 1.0) << "pixel " << i;
}

TEST(DataImages, FoldersGiveSortedClassesAndCentreCrops) {
  ScratchDir dir;
  make_tree(dir);
  write_bytes(dir / "train/a2/.DS_Store", {'x'});  // hidden files are skipped
  FolderOptions o;
  o.crop = 4;
  o.threads = 1;
  const SplitPair p = load_image_folders(dir.str(), o);
  // Byte-wise order: 'A' (0x41) < 'a' (0x61) < 'b'.
  EXPECT_EQ(p.train.class_names, (std::vector<std::string>{"A_cls", "a2", "b_cls"}));
  ASSERT_EQ(p.train.size(), 6u);
  ASSERT_EQ(p.test.size(), 6u);
  EXPECT_EQ(p.train.class_counts(), (std::vector<std::size_t>{2, 2, 2}));
  // Sample 0: class A_cls, file x0.img (sorted before x1.png); written with salt 3.
  const Image& s = p.train.samples[0];
  EXPECT_EQ(s.label, 0);
  EXPECT_NE(s.source.find("A_cls/x0.img"), std::string::npos);
  ASSERT_EQ(s.channels, 1);
  ASSERT_EQ(s.height, 4);
  ASSERT_EQ(s.width, 4);
  // Centre crop of 10 x 12: x0 = (10-4)/2 = 3, y0 = (12-4)/2 = 4.
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_EQ(s.at(0, y, x), static_cast<float>((2 * ((y + 4) * 10 + (x + 3)) + 3) % 256) / 255.0f);
  EXPECT_EQ(p.train.samples[5].label, 2);

  // The decode does not depend on the thread count.
  o.threads = 2;
  const SplitPair q = load_image_folders(dir.str(), o);
  for (std::size_t i = 0; i < p.train.size(); ++i) EXPECT_EQ(q.train.samples[i].pixels, p.train.samples[i].pixels);

  // Class override: order and subset.
  o.classes = {"b_cls", "A_cls"};
  const SplitPair r = load_image_folders(dir.str(), o);
  EXPECT_EQ(r.test.class_names, o.classes);
  ASSERT_EQ(r.test.size(), 4u);
  EXPECT_EQ(r.test.samples[0].label, 0);
  EXPECT_NE(r.test.samples[0].source.find("b_cls"), std::string::npos);
  EXPECT_EQ(r.test.samples[3].label, 1);
}

TEST(DataImages, FolderErrorsNameTheCulprit) {
  ScratchDir dir;
  make_tree(dir);
  FolderOptions o;
  o.crop = 4;
  // Chip smaller than the crop region.
  o.region = 11;
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"x0.img", "10x12", "smaller than the 11x11"});
  o.region = 0;
  // Magnitude + phase from JPEG/PNG.
  o.channels = ChipChannels::kMagnitudePhase;
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"x0.img", "raw MSTAR", "PNG"});
  o.channels = ChipChannels::kMagnitude;
  // Unknown class in the override.
  o.classes = {"A_cls", "nope"};
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"train/nope", "missing class folder"});
  o.classes.clear();

  // Not an image.
  write_bytes(dir / "test/a2/notes.txt", {'h', 'i', '\n'});
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"test/a2/notes.txt", "not a JPEG, PNG or MSTAR", "68 69 0a"});
  std::filesystem::remove(dir / "test/a2/notes.txt");

  // Truncated PNG and JPEG.
  auto png = read_file_bytes(dir / "test/a2/x1.png");
  png.resize(png.size() / 2);
  write_bytes(dir / "test/a2/x1.png", png);
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"test/a2/x1.png", "cannot decode PNG"});
  write_jpg(dir / "test/a2/x1.png", 10, 12, pattern(10, 12, 0));
  auto jpg = read_file_bytes(dir / "test/a2/x1.png");
  ASSERT_NO_THROW(load_image_folders(dir.str(), o));
  jpg.resize(jpg.size() - 30);
  write_bytes(dir / "test/a2/x1.png", jpg);
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"test/a2/x1.png", "truncated JPEG"});
  // Garbage after a JPEG signature.
  write_bytes(dir / "test/a2/x1.png", {0xFF, 0xD8, 0xFF, 0x00, 0x01, 0x02, 0xFF, 0xD9});
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"test/a2/x1.png", "cannot decode JPEG"});
  std::filesystem::remove(dir / "test/a2/x1.png");

  // Empty class folder.
  std::filesystem::remove(dir / "test/a2/x0.img");
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"test/a2", "holds no files"});
  // Class sets differ between splits.
  std::filesystem::remove_all(dir / "test/a2");
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"differ", "only in train: a2", "only in test: (none)"});
  // Missing split folder.
  std::filesystem::remove_all(dir / "test");
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"/test", "missing split folder"});
  // Missing root.
  expect_input_error([&] { load_image_folders(dir / "absent", o); }, {"absent", "does not exist"});
  // Split folder without class folders.
  std::filesystem::create_directories(dir / "test");
  expect_input_error([&] { load_image_folders(dir.str(), o); }, {"/test", "no class folders"});
}
