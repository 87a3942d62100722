#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "hwnas/common/error.hpp"

namespace hwnas::app {

Options::Options(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

Options& Options::add(const std::string& name, const std::string& value_name,
                      const std::string& default_value, const std::string& help) {
  specs_.push_back({name, value_name, default_value, help, false});
  return *this;
}

Options& Options::flag(const std::string& name, const std::string& help) {
  specs_.push_back({name, "", "", help, true});
  return *this;
}

const Options::Spec& Options::spec(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return s;
  throw std::logic_error("option --" + name + " was not declared for hwnas " + command_);
}

bool Options::parse(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      print_usage();
      return false;
    }
    if (a.rfind("--", 0) != 0)
      throw InputError("hwnas " + command_, "unexpected argument '" + a + "' (options start with --)");
    std::string name = a.substr(2), value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const Spec* s = nullptr;
    for (const auto& sp : specs_)
      if (sp.name == name) s = &sp;
    if (s == nullptr)
      throw InputError("hwnas " + command_, "unknown option --" + name + " (see hwnas " + command_ + " --help)");
    if (s->is_flag) {
      if (has_inline) throw InputError("hwnas " + command_, "--" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size())
        throw InputError("hwnas " + command_, "--" + name + " needs a value (" + s->value_name + ")");
      value = args[++i];
    }
    values_[name] = value;
  }
  return true;
}

bool Options::given(const std::string& name) const {
  spec(name);
  return values_.count(name) != 0;
}

bool Options::is_set(const std::string& name) const { return !str(name).empty(); }

std::string Options::str(const std::string& name) const {
  const Spec& s = spec(name);
  auto it = values_.find(name);
  return it != values_.end() ? it->second : s.default_value;
}

std::string Options::required(const std::string& name) const {
  std::string v = str(name);
  if (v.empty()) throw InputError("hwnas " + command_, "--" + name + " is required");
  return v;
}

std::int64_t Options::integer(const std::string& name, std::int64_t min_value,
                              std::int64_t max_value) const {
  const std::string v = str(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0)
    throw InputError("hwnas " + command_, "--" + name + " expects an integer, got '" + v + "'");
  if (x < min_value || x > max_value)
    throw InputError("hwnas " + command_, "--" + name + " = " + v + " is out of range [" +
                                              std::to_string(min_value) + ", " +
                                              std::to_string(max_value) + "]");
  return x;
}

double Options::number(const std::string& name, double min_value, double max_value) const {
  const std::string v = str(name);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(x))
    throw InputError("hwnas " + command_, "--" + name + " expects a number, got '" + v + "'");
  if (x < min_value || x > max_value)
    throw InputError("hwnas " + command_, "--" + name + " = " + v + " is out of range [" +
                                              std::to_string(min_value) + ", " +
                                              std::to_string(max_value) + "]");
  return x;
}

bool Options::enabled(const std::string& flag_name) const {
  spec(flag_name);
  return values_.count(flag_name) != 0;
}

void Options::print_usage() const {
  std::printf("usage: hwnas %s [options]\n\n%s\n\noptions:\n", command_.c_str(), summary_.c_str());
  for (const auto& s : specs_) {
    std::string left = "--" + s.name + (s.is_flag ? "" : " " + s.value_name);
    std::printf("  %-28s %s", left.c_str(), s.help.c_str());
    if (!s.is_flag && !s.default_value.empty()) std::printf(" [default: %s]", s.default_value.c_str());
    std::printf("\n");
  }
}

std::string Options::effective_settings() const {
  std::string out;
  for (const auto& s : specs_) {
    if (s.is_flag) {
      if (enabled(s.name)) out += "  --" + s.name + "\n";
      continue;
    }
    const std::string v = str(s.name);
    if (!v.empty()) out += "  --" + s.name + " " + v + "\n";
  }
  return out;
}

}  // namespace hwnas::app
