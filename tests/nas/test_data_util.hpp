#pragma once
// Helpers for the data tests: a scratch folder and writers for the file formats under test.
// The writers encode from the format specifications independently of the readers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "hwnas/common/error.hpp"

namespace hwnas::nas::testdata {

// A fresh folder under the system temp dir, removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("hwnas_data_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void append_be_float(std::vector<unsigned char>& out, float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(u >> shift));
}

// A raw MSTAR chip: Phoenix header of `key= value` lines padded with `pad` extra bytes before the
// data (so PhoenixHeaderLength varies), then BE float32 magnitudes, then phases.
inline std::vector<unsigned char> make_phoenix_chip(int rows, int cols, const std::vector<float>& mag,
                                                    const std::vector<float>& phase, std::size_t pad,
                                                    const std::string& extra_lines = "") {
  auto header_for = [&](std::size_t total) {
    char len[32];
    std::snprintf(len, sizeof len, "%06zu", total);
    return "[PhoenixHeaderVer01.04]\nPhoenixHeaderLength= " + std::string(len) +
           "\nNativeHeaderLength= 0\nNumberOfColumns= " + std::to_string(cols) +
           "\nNumberOfRows= " + std::to_string(rows) + "\nTargetType= t72_tank\nDesiredDepression= 17\n" +
           extra_lines + "[EndofPhoenixHeader]\n";
  };
  const std::size_t total = header_for(0).size() + pad;  // fixed-width length field
  const std::string h = header_for(total);
  std::vector<unsigned char> out(h.begin(), h.end());
  out.resize(total, ' ');
  for (float v : mag) append_be_float(out, v);
  for (float v : phase) append_be_float(out, v);
  return out;
}

inline void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected hwnas::InputError";
  } catch (const hwnas::InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

}  // namespace hwnas::nas::testdata
