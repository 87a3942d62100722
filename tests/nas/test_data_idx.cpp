// IDX files (plain and gzip) and the built-in gunzip: small files the test writes, gzip streams
// made by the system gzip (fixed and dynamic Huffman blocks) and Debian's Fashion-MNIST if present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

void put_be32(std::vector<unsigned char>& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

std::vector<unsigned char> idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::vector<unsigned char> b = {0, 0, 0x08, 3};
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(static_cast<unsigned char>((i * 37) % 256));
  return b;
}

std::vector<unsigned char> idx_labels(const std::vector<unsigned char>& labels) {
  std::vector<unsigned char> b = {0, 0, 0x08, 1};
  put_be32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// gzip member with stored (uncompressed) deflate blocks, per RFC 1951/1952.
std::vector<unsigned char> gzip_stored(const std::vector<unsigned char>& data, std::size_t block = 65535) {
  std::vector<unsigned char> g = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3};
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min(block, data.size() - pos);
    g.push_back(pos + n == data.size() ? 1 : 0);  // BFINAL, BTYPE=00
    g.push_back(static_cast<unsigned char>(n & 0xFF));
    g.push_back(static_cast<unsigned char>(n >> 8));
    g.push_back(static_cast<unsigned char>(~n & 0xFF));
    g.push_back(static_cast<unsigned char>((~n >> 8) & 0xFF));
    g.insert(g.end(), data.begin() + pos, data.begin() + pos + n);
    pos += n;
  } while (pos < data.size());
  const std::uint32_t crc = crc32(data.data(), data.size());
  for (int s = 0; s < 32; s += 8) g.push_back(static_cast<unsigned char>(crc >> s));
  const auto size = static_cast<std::uint32_t>(data.size());
  for (int s = 0; s < 32; s += 8) g.push_back(static_cast<unsigned char>(size >> s));
  return g;
}

bool system_gzip(const std::string& in, const std::string& out) {
  const std::string cmd = "gzip -n -9 -c '" + in + "' > '" + out + "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0 && std::filesystem::file_size(out) > 0;
}

}  // namespace

TEST(DataIdx, Crc32CheckValue) {
  const std::string s = "123456789";  // the standard CRC-32 check string
  EXPECT_EQ(crc32(reinterpret_cast<const unsigned char*>(s.data()), s.size()), 0xCBF43926u);
}

TEST(DataIdx, StoredGzipAndPlainIdxGiveTheSameDataset) {
  ScratchDir dir;
  const auto images = idx_images(3, 2, 4);
  const auto labels = idx_labels({2, 0, 1});
  write_bytes(dir / "img", images);
  write_bytes(dir / "lab", labels);
  write_bytes(dir / "img.gz", gzip_stored(images, 7));  // several blocks
  write_bytes(dir / "lab.gz", gzip_stored(labels));
  const Dataset plain = load_idx_pair(dir / "img", dir / "lab", {});
  const Dataset gz = load_idx_pair(dir / "img.gz", dir / "lab.gz", {"a", "b", "c"});
  EXPECT_EQ(plain.class_names, (std::vector<std::string>{"0", "1", "2"}));
  ASSERT_EQ(plain.size(), 3u);
  ASSERT_EQ(gz.size(), 3u);
  EXPECT_EQ(plain.samples[0].label, 2);
  EXPECT_EQ(plain.samples[2].label, 1);
  EXPECT_EQ(plain.height(), 2);
  EXPECT_EQ(plain.width(), 4);
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 8; ++k) {
      const float want = static_cast<float>(((i * 8 + k) * 37) % 256) / 255.0f;
      EXPECT_EQ(plain.samples[i].pixels[k], want);
      EXPECT_EQ(gz.samples[i].pixels[k], want);
    }
  }
}

TEST(DataIdx, SystemGzipStreamsDecode) {
  ScratchDir dir;
  // Small input: gzip uses fixed Huffman codes; large varied input: dynamic codes and matches.
  std::vector<unsigned char> small = {'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'c', '\n'};
  std::vector<unsigned char> big;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1103515245u + 12345u;
    big.push_back(static_cast<unsigned char>((x >> 16) % 23 + (i % 1000 < 500 ? 'a' : 'A')));
  }
  for (auto* data : {&small, &big}) {
    write_bytes(dir / "in", *data);
    if (!system_gzip(dir / "in", dir / "in.gz")) GTEST_SKIP() << "no gzip program";
    EXPECT_EQ(gunzip(read_file_bytes(dir / "in.gz"), "in.gz"), *data);
  }
  // Two concatenated members are one stream.
  auto two = gzip_stored(small);
  const auto more = read_file_bytes(dir / "in.gz");
  two.insert(two.end(), more.begin(), more.end());
  std::vector<unsigned char> joined = small;
  joined.insert(joined.end(), big.begin(), big.end());
  EXPECT_EQ(gunzip(two, "two.gz"), joined);
}

TEST(DataIdx, CorruptOrTruncatedGzipIsReported) {
  ScratchDir dir;
  std::vector<unsigned char> data;
  for (int i = 0; i < 20000; ++i) data.push_back(static_cast<unsigned char>((i * i) % 251));
  write_bytes(dir / "d", data);
  if (!system_gzip(dir / "d", dir / "d.gz")) GTEST_SKIP() << "no gzip program";
  const auto gz = read_file_bytes(dir / "d.gz");
  ASSERT_EQ(gunzip(gz, "d.gz"), data);
  auto cut = gz;
  cut.resize(gz.size() / 2);
  expect_input_error([&] { gunzip(cut, "cut.gz"); }, {"cut.gz", "truncated gzip"});
  cut = gz;
  cut.resize(gz.size() - 3);  // into the trailer
  expect_input_error([&] { gunzip(cut, "cut.gz"); }, {"cut.gz", "gzip"});
  // Flipping any single payload byte must be detected (CRC-32 at the latest).
  for (std::size_t pos = 12; pos + 8 < gz.size(); pos += 97) {
    auto bad = gz;
    bad[pos] ^= 0x10;
    expect_input_error([&] { gunzip(bad, "bad.gz"); }, {"bad.gz", "gzip"});
  }
  auto magic = gz;
  magic[1] = 0x8C;
  expect_input_error([&] { gunzip(magic, "m.gz"); }, {"m.gz", "not gzip"});
}

TEST(DataIdx, MalformedIdxFilesAreReported) {
  ScratchDir dir;
  write_bytes(dir / "img", idx_images(3, 2, 4));
  write_bytes(dir / "lab", idx_labels({2, 0, 1}));
  write_bytes(dir / "lab2", idx_labels({2, 0}));
  write_bytes(dir / "lab12", idx_labels({2, 12, 1}));
  expect_input_error([&] { load_idx_pair(dir / "img", dir / "lab2", {}); }, {"lab2", "has 2 labels but", "3 images"});
  expect_input_error([&] { load_idx_pair(dir / "img", dir / "lab12", {"a", "b", "c"}); },
                     {"lab12", "label 12 of item 1", "class count 3"});
  expect_input_error([&] { load_idx_pair(dir / "lab", dir / "lab", {}); }, {"lab", "1 dimensions, expected 3"});
  auto img = idx_images(3, 2, 4);
  img.pop_back();
  write_bytes(dir / "short", img);
  expect_input_error([&] { load_idx_pair(dir / "short", dir / "lab", {}); }, {"short", "truncated", "need 24"});
  img = idx_images(3, 2, 4);
  img[0] = 1;
  write_bytes(dir / "magic", img);
  expect_input_error([&] { load_idx_pair(dir / "magic", dir / "lab", {}); }, {"magic", "bad IDX magic"});
  img = idx_images(3, 2, 4);
  img[2] = 0x0D;
  write_bytes(dir / "float", img);
  expect_input_error([&] { load_idx_pair(dir / "float", dir / "lab", {}); }, {"float", "0x0d", "unsigned byte"});
  img = idx_images(3, 2, 4);
  img[11] = 0;  // rows = 0
  write_bytes(dir / "zero", img);
  expect_input_error([&] { load_idx_pair(dir / "zero", dir / "lab", {}); }, {"zero", "dimension 1 = 0"});
  expect_input_error([&] { load_fashion_mnist(dir.str()); }, {"train-images-idx3-ubyte"});
}

TEST(DataIdx, DebianFashionMnistCounts) {
  if (!std::filesystem::exists(std::string(kDebianFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << kDebianFashionMnistDir << ")";
  }
  const SplitPair p = load_fashion_mnist(kDebianFashionMnistDir);
  ASSERT_EQ(p.train.size(), 60000u);
  ASSERT_EQ(p.test.size(), 10000u);
  EXPECT_EQ(p.train.height(), 28);
  EXPECT_EQ(p.train.width(), 28);
  EXPECT_EQ(p.train.channels(), 1);
  EXPECT_EQ(p.train.class_names.size(), 10u);
  // Fashion-MNIST is exactly balanced; its first training image is an ankle boot (label 9).
  EXPECT_EQ(p.train.class_counts(), std::vector<std::size_t>(10, 6000));
  EXPECT_EQ(p.test.class_counts(), std::vector<std::size_t>(10, 1000));
  EXPECT_EQ(p.train.samples[0].label, 9);
}
