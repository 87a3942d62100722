#pragma once
// Typed, validated reads of JSON objects at a boundary. Every failure throws InputError naming
// the file, the JSON path (e.g. "/energy/mac_pj") and the offending value; unknown keys are
// rejected so a misspelt key is never silently ignored.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace hwnas {

// Parses text as JSON; a syntax error becomes InputError("<file>", "invalid JSON at byte N: ...").
nlohmann::json parse_json_text(const std::string& text, const std::string& file);
nlohmann::json parse_json_file(const std::string& file);

class JsonObjectReader {
 public:
  // path is the JSON pointer of obj inside file ("" for the root).
  JsonObjectReader(const nlohmann::json& obj, std::string file, std::string path);

  bool has(const std::string& key) const;
  std::string where(const std::string& key) const;  // "file: /path/key"

  std::int64_t required_int(const std::string& key, std::int64_t min_value,
                            std::int64_t max_value = std::numeric_limits<std::int64_t>::max());
  std::int64_t optional_int(const std::string& key, std::int64_t default_value,
                            std::int64_t min_value,
                            std::int64_t max_value = std::numeric_limits<std::int64_t>::max());
  double required_number(const std::string& key, double min_value,
                         double max_value = std::numeric_limits<double>::max());
  double optional_number(const std::string& key, double default_value, double min_value,
                         double max_value = std::numeric_limits<double>::max());
  std::string required_string(const std::string& key);
  std::string optional_string(const std::string& key, const std::string& default_value);
  // A string that must be one of `allowed`.
  std::string required_enum(const std::string& key, std::initializer_list<const char*> allowed);
  std::string optional_enum(const std::string& key, const std::string& default_value,
                            std::initializer_list<const char*> allowed);
  bool optional_bool(const std::string& key, bool default_value);
  // A nested object; marks the key as known.
  JsonObjectReader required_object(const std::string& key);
  const nlohmann::json& required_value(const std::string& key);

  // Throws InputError for the first key that no accessor asked for.
  void reject_unknown_keys() const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& get(const std::string& key);
  const nlohmann::json& obj_;
  std::string file_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace hwnas
