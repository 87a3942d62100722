// Raw MSTAR Phoenix chips, on files the tests write from the format description
// (ASCII header, data at PhoenixHeaderLength, big-endian float32 magnitude then phase planes).
#include <gtest/gtest.h>

#include <cmath>

#include "hwnas/nas/dataset.hpp"
#include "test_data_util.hpp"

using namespace hwnas::nas;
using namespace hwnas::nas::testdata;

namespace {

struct Planes {
  std::vector<float> mag, phase;
};

// Distinct, exactly representable values so every pixel's position can be checked.
Planes ramp(int rows, int cols) {
  Planes p;
  for (int i = 0; i < rows * cols; ++i) {
    p.mag.push_back(0.5f + 0.25f * static_cast<float>(i));
    p.phase.push_back(-3.0f + 0.03125f * static_cast<float>(i % 190));
  }
  return p;
}

}  // namespace

TEST(DataMstarRaw, ReadsHeaderAndBigEndianPlanesForVariedHeaderLengths) {
  ScratchDir dir;
  const int rows = 5, cols = 7;
  const Planes p = ramp(rows, cols);
  for (std::size_t pad : {0u, 1u, 3u, 380u}) {
    const std::string path = dir / ("HB0300" + std::to_string(pad) + ".015");
    const auto bytes = make_phoenix_chip(rows, cols, p.mag, p.phase, pad, "TargetAz= 123.5\n");
    write_bytes(path, bytes);
    ASSERT_EQ(detect_file_kind(bytes), FileKind::kMstarChip);
    const MstarChip chip = read_mstar_chip(path);
    EXPECT_EQ(chip.rows, rows);
    EXPECT_EQ(chip.cols, cols);
    EXPECT_EQ(chip.header_bytes, bytes.size() - 2u * rows * cols * 4u);
    ASSERT_NE(chip.field("TargetAz"), nullptr);
    EXPECT_EQ(*chip.field("TargetAz"), "123.5");
    EXPECT_EQ(*chip.field("TargetType"), "t72_tank");
    EXPECT_EQ(chip.magnitude, p.mag);
    EXPECT_EQ(chip.phase, p.phase);
  }
}

TEST(DataMstarRaw, FolderLoaderCropsMagnitudeAndPhaseChannels) {
  ScratchDir dir;
  const int rows = 9, cols = 8;  // centre 4x4 crop starts at row (9-4)/2 = 2, col (8-4)/2 = 2
  const Planes p = ramp(rows, cols);
  for (const char* split : {"train", "test"}) {
    write_bytes(dir / (std::string(split) + "/T72/hb1.015"), make_phoenix_chip(rows, cols, p.mag, p.phase, 11));
    write_bytes(dir / (std::string(split) + "/BMP2/hb2.000"), make_phoenix_chip(rows, cols, p.mag, p.phase, 0));
  }
  FolderOptions o;
  o.crop = 4;
  o.channels = ChipChannels::kMagnitudePhase;
  const SplitPair pair = load_image_folders(dir.str(), o);
  ASSERT_EQ(pair.train.size(), 2u);
  EXPECT_EQ(pair.train.class_names, (std::vector<std::string>{"BMP2", "T72"}));
  const Image& s = pair.train.samples[1];
  EXPECT_EQ(s.label, 1);
  ASSERT_EQ(s.channels, 2);
  ASSERT_EQ(s.height, 4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      const int i = (y + 2) * cols + (x + 2);
      EXPECT_EQ(s.at(0, y, x), p.mag[i]);
      EXPECT_EQ(s.at(1, y, x), p.phase[i]);
    }
  }
  o.channels = ChipChannels::kMagnitude;
  o.log_magnitude = true;
  const SplitPair logp = load_image_folders(dir.str(), o);
  ASSERT_EQ(logp.test.samples[0].channels, 1);
  const int i = 2 * cols + 2;
  EXPECT_NEAR(logp.test.samples[0].at(0, 0, 0), 20.0 * std::log10(p.mag[i]), 1e-4);
}

TEST(DataMstarRaw, TruncatedAndInconsistentFilesNameTheFile) {
  ScratchDir dir;
  const Planes p = ramp(4, 4);
  auto bytes = make_phoenix_chip(4, 4, p.mag, p.phase, 5);
  bytes.pop_back();
  const std::string cut = dir / "HB19377.016";
  write_bytes(cut, bytes);
  expect_input_error([&] { read_mstar_chip(cut); }, {cut, "truncated", "needs"});

  bytes = make_phoenix_chip(4, 4, p.mag, p.phase, 5);
  bytes.push_back(0);
  const std::string longer = dir / "long.000";
  write_bytes(longer, bytes);
  expect_input_error([&] { read_mstar_chip(longer); }, {longer, "after the phase block"});

  // Also through the folder loader: the bad chip is named among good ones.
  for (const char* split : {"train", "test"}) {
    write_bytes(dir / (std::string("set/") + split + "/A/a.000"), make_phoenix_chip(4, 4, p.mag, p.phase, 0));
  }
  auto cut_bytes = make_phoenix_chip(4, 4, p.mag, p.phase, 0);
  cut_bytes.resize(cut_bytes.size() - 40);
  write_bytes(dir / "set/test/A/b.000", cut_bytes);
  FolderOptions o;
  o.crop = 2;
  expect_input_error([&] { load_image_folders(dir / "set", o); }, {"set/test/A/b.000", "truncated"});
}

TEST(DataMstarRaw, BadHeadersAreReported) {
  const Planes p = ramp(3, 3);
  const auto good = make_phoenix_chip(3, 3, p.mag, p.phase, 8);  // slack for edits
  std::string text(good.begin(), good.end());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos);
    t.replace(at, from.size(), to);
    return std::vector<unsigned char>(t.begin(), t.end());
  };
  expect_input_error([&] { parse_mstar_chip(with("NumberOfRows= 3", "NumberOfRowz= 3"), "f.000"); },
                     {"f.000", "NumberOfRows"});
  expect_input_error([&] { parse_mstar_chip(with("NumberOfRows= 3", "NumberOfRows= x3"), "f.000"); },
                     {"f.000", "not an integer"});
  expect_input_error([&] { parse_mstar_chip(with("NumberOfColumns= 3", "NumberOfColumns= 0"), "f.000"); },
                     {"f.000", "out of range"});
  // A header length that stops before the end marker.
  expect_input_error([&] { parse_mstar_chip(with("PhoenixHeaderLength= 000", "PhoenixHeaderLength= 000000 "), "f.000"); },
                     {"f.000", "PhoenixHeaderLength"});
  expect_input_error([&] { parse_mstar_chip(with("NativeHeaderLength= 0", "NativeHeaderLength=12"), "f.000"); },
                     {"f.000", "full-scene"});
  expect_input_error([&] { parse_mstar_chip(with("[EndofPhoenixHeader]", "[EndOfHeader]        "), "f.000"); },
                     {"f.000", "EndofPhoenixHeader"});
  expect_input_error([&] { parse_mstar_chip(with("TargetType= t72_tank", "TargetType t72_tank "), "f.000"); },
                     {"f.000", "header line", "key= value"});
}

TEST(DataMstarRaw, NonFiniteMagnitudeIsRejected) {
  Planes p = ramp(2, 2);
  p.mag[3] = std::nanf("");
  expect_input_error([&] { parse_mstar_chip(make_phoenix_chip(2, 2, p.mag, p.phase, 0), "n.000"); },
                     {"n.000", "magnitude", "pixel 3"});
}
