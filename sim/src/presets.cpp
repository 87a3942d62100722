#include "hwnas/sim/presets.hpp"

#include <filesystem>

#include "hwnas/common/error.hpp"
#include "hwnas/common/json_fields.hpp"

namespace hwnas::sim {

ArchConfig load_arch_config_or_preset(const std::string& path_or_name) {
  if (std::filesystem::exists(path_or_name)) return load_arch_config(path_or_name);
  std::string name = std::filesystem::path(path_or_name).filename().string();
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)
    name = name.substr(0, name.size() - 5);
  const bool bare = path_or_name.find('/') == std::string::npos ||
                    path_or_name.rfind("arch_configs/", 0) == 0;
  std::string known;
  for (const auto& p : embedded_presets()) {
    if (bare && name == p.name) {
      const std::string source = std::string("preset ") + p.name;
      return parse_arch_config(parse_json_text(p.json, source), source);
    }
    known += (known.empty() ? "" : ", ") + std::string(p.name);
  }
  throw InputError(path_or_name, "no such file, and not a preset name (presets: " + known + ")");
}

}  // namespace hwnas::sim
