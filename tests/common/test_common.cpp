#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/content_hash.hpp"
#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"
#include "hwnas/common/progress.hpp"

namespace fs = std::filesystem;

TEST(ContentHash, MatchesPublishedFnv1aVectors) {
  // FNV-1a 64 test vectors from the reference implementation's test suite.
  EXPECT_EQ(hwnas::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(hwnas::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(hwnas::fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(hwnas::content_hash_hex("a"), "af63dc4c8601ec8c");
}

TEST(AtomicFile, ReplacesWholeFileAndLeavesNoTemp) {
  const fs::path dir = fs::temp_directory_path() / "hwnas_atomic_test";
  fs::remove_all(dir);
  const fs::path p = dir / "sub" / "out.json";
  hwnas::write_file_atomically(p, "first");
  hwnas::write_file_atomically(p, "second, longer");
  EXPECT_EQ(hwnas::read_file(p), "second, longer");
  int files = 0;
  for (auto& e : fs::directory_iterator(p.parent_path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(AtomicFile, UnwritableTargetKeepsOldFile) {
  const fs::path dir = fs::temp_directory_path() / "hwnas_atomic_test2";
  fs::remove_all(dir);
  fs::create_directories(dir / "target_is_dir");
  EXPECT_THROW(hwnas::write_file_atomically(dir / "target_is_dir", "x"), hwnas::RuntimeFailure);
  EXPECT_TRUE(fs::is_directory(dir / "target_is_dir"));
  fs::remove_all(dir);
}

TEST(ReadFile, MissingFileNamesThePath) {
  try {
    hwnas::read_file("/nonexistent/hwnas.json");
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hwnas.json"), std::string::npos);
  }
}

TEST(JsonFields, ReadsTypedValuesAndRejectsUnknownKeys) {
  auto doc = hwnas::parse_json_text(R"({"a": 3, "b": 2.5, "c": "os", "d": {"e": true}, "zz": 1})",
                                    "cfg.json");
  hwnas::JsonObjectReader r(doc, "cfg.json", "");
  EXPECT_EQ(r.required_int("a", 1, 10), 3);
  EXPECT_DOUBLE_EQ(r.required_number("b", 0.0), 2.5);
  EXPECT_EQ(r.required_enum("c", {"os", "ws", "is"}), "os");
  auto d = r.required_object("d");
  EXPECT_TRUE(d.optional_bool("e", false));
  EXPECT_EQ(r.optional_int("missing", 7, 0), 7);
  try {
    r.reject_unknown_keys();
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_STREQ(e.what(), "cfg.json: /zz: unknown key (value 1)");
  }
}

TEST(JsonFields, ErrorsNameFilePathAndValue) {
  auto doc = hwnas::parse_json_text(R"({"rows": -4, "df": "xx", "n": "7", "o": {"p": 1.5}})", "f.json");
  hwnas::JsonObjectReader r(doc, "f.json", "");
  try {
    r.required_int("rows", 1);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_STREQ(e.what(), "f.json: /rows: value -4 is out of range [1, 9223372036854775807]");
  }
  EXPECT_THROW(r.required_enum("df", {"os", "ws"}), hwnas::InputError);
  EXPECT_THROW(r.required_int("n", 0), hwnas::InputError);
  EXPECT_THROW(r.required_int("absent", 0), hwnas::InputError);
  auto o = r.required_object("o");
  try {
    o.required_int("p", 0);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_STREQ(e.what(), "f.json: /o/p: expected an integer, got 1.5");
  }
  EXPECT_THROW(hwnas::parse_json_text("{ \"a\": ", "bad.json"), hwnas::InputError);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(hwnas::format_duration(12.34), "12.3s");
  EXPECT_EQ(hwnas::format_duration(185), "3m05s");
  EXPECT_EQ(hwnas::format_duration(3720), "1h02m");
}
