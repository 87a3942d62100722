#include "hwnas/common/json_fields.hpp"

#include <cmath>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"

namespace hwnas {

nlohmann::json parse_json_text(const std::string& text, const std::string& file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(file, std::string("invalid JSON: ") + e.what());
  }
}

nlohmann::json parse_json_file(const std::string& file) {
  return parse_json_text(read_file(file), file);
}

JsonObjectReader::JsonObjectReader(const nlohmann::json& obj, std::string file, std::string path)
    : obj_(obj), file_(std::move(file)), path_(std::move(path)) {
  if (!obj_.is_object())
    throw InputError(file_, (path_.empty() ? std::string("/") : path_) +
                                ": expected a JSON object, got " + obj_.dump());
}

bool JsonObjectReader::has(const std::string& key) const { return obj_.contains(key); }

std::string JsonObjectReader::where(const std::string& key) const {
  return file_ + ": " + path_ + "/" + key;
}

const nlohmann::json& JsonObjectReader::get(const std::string& key) {
  seen_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) throw InputError(where(key), "required key is missing");
  return *it;
}

const nlohmann::json& JsonObjectReader::required_value(const std::string& key) {
  return get(key);
}

std::int64_t JsonObjectReader::required_int(const std::string& key, std::int64_t min_value,
                                            std::int64_t max_value) {
  const auto& v = get(key);
  std::int64_t x = 0;
  if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
             std::fabs(v.get<double>()) < 9e15) {
    x = static_cast<std::int64_t>(v.get<double>());
  } else {
    throw InputError(where(key), "expected an integer, got " + v.dump());
  }
  if (x < min_value || x > max_value)
    throw InputError(where(key), "value " + std::to_string(x) + " is out of range [" +
                                     std::to_string(min_value) + ", " +
                                     std::to_string(max_value) + "]");
  return x;
}

std::int64_t JsonObjectReader::optional_int(const std::string& key, std::int64_t default_value,
                                            std::int64_t min_value, std::int64_t max_value) {
  if (!has(key)) {
    seen_.insert(key);
    return default_value;
  }
  return required_int(key, min_value, max_value);
}

double JsonObjectReader::required_number(const std::string& key, double min_value,
                                         double max_value) {
  const auto& v = get(key);
  if (!v.is_number()) throw InputError(where(key), "expected a number, got " + v.dump());
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min_value || x > max_value)
    throw InputError(where(key), "value " + v.dump() + " is out of range [" +
                                     nlohmann::json(min_value).dump() + ", " +
                                     nlohmann::json(max_value).dump() + "]");
  return x;
}

double JsonObjectReader::optional_number(const std::string& key, double default_value,
                                         double min_value, double max_value) {
  if (!has(key)) {
    seen_.insert(key);
    return default_value;
  }
  return required_number(key, min_value, max_value);
}

std::string JsonObjectReader::required_string(const std::string& key) {
  const auto& v = get(key);
  if (!v.is_string()) throw InputError(where(key), "expected a string, got " + v.dump());
  return v.get<std::string>();
}

std::string JsonObjectReader::optional_string(const std::string& key,
                                              const std::string& default_value) {
  if (!has(key)) {
    seen_.insert(key);
    return default_value;
  }
  return required_string(key);
}

namespace {
std::string check_enum(const std::string& value, std::initializer_list<const char*> allowed,
                       const std::string& where) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  throw InputError(where, "value \"" + value + "\" is not one of: " + list);
}
}  // namespace

std::string JsonObjectReader::required_enum(const std::string& key,
                                            std::initializer_list<const char*> allowed) {
  return check_enum(required_string(key), allowed, where(key));
}

std::string JsonObjectReader::optional_enum(const std::string& key,
                                            const std::string& default_value,
                                            std::initializer_list<const char*> allowed) {
  return check_enum(optional_string(key, default_value), allowed, where(key));
}

bool JsonObjectReader::optional_bool(const std::string& key, bool default_value) {
  if (!has(key)) {
    seen_.insert(key);
    return default_value;
  }
  const auto& v = get(key);
  if (!v.is_boolean()) throw InputError(where(key), "expected true or false, got " + v.dump());
  return v.get<bool>();
}

JsonObjectReader JsonObjectReader::required_object(const std::string& key) {
  const auto& v = get(key);
  return JsonObjectReader(v, file_, path_ + "/" + key);
}

void JsonObjectReader::reject_unknown_keys() const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (seen_.count(it.key()) == 0)
      throw InputError(where(it.key()), "unknown key (value " + it.value().dump() + ")");
  }
}

}  // namespace hwnas
