#pragma once
// Declarative option parsing shared by every subcommand: options are declared once (name, value
// name, default, help) and --help, the "effective settings" echo and errors come from that one
// declaration. Errors throw hwnas::InputError (exit 2) naming the option and value.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hwnas::app {

class Options {
 public:
  Options(std::string command, std::string summary);

  // A valued option (--name VALUE or --name=VALUE). An empty default means "not set".
  Options& add(const std::string& name, const std::string& value_name,
               const std::string& default_value, const std::string& help);
  // A boolean flag (--name).
  Options& flag(const std::string& name, const std::string& help);

  // Returns false when --help was given (usage printed to stdout); throws on bad input.
  bool parse(const std::vector<std::string>& args);

  bool is_set(const std::string& name) const;  // given on the command line or non-empty default
  bool given(const std::string& name) const;   // given on the command line
  std::string str(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t min_value,
                       std::int64_t max_value) const;
  double number(const std::string& name, double min_value, double max_value) const;
  bool enabled(const std::string& flag_name) const;
  std::string required(const std::string& name) const;  // throws when unset

  void print_usage() const;
  std::string effective_settings() const;  // one "  --name value" line per option

 private:
  struct Spec {
    std::string name, value_name, default_value, help;
    bool is_flag = false;
  };
  const Spec& spec(const std::string& name) const;
  std::string command_, summary_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace hwnas::app
