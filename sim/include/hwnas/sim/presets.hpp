#pragma once
// The accelerator presets of arch_configs/, compiled in. `--arch` takes a file path or a preset
// name, so a user can start from `--arch gemmini_16x16` anywhere.
#include <string>
#include <vector>

#include "hwnas/sim/arch_config.hpp"

namespace hwnas::sim {

struct EmbeddedPreset {
  const char* name;  // file name without .json
  const char* json;
};

const std::vector<EmbeddedPreset>& embedded_presets();

// A path to an existing file is loaded as a config; otherwise a preset name (with or without
// ".json", with or without a leading "arch_configs/") selects the embedded preset. Neither:
// InputError listing the presets.
ArchConfig load_arch_config_or_preset(const std::string& path_or_name);

}  // namespace hwnas::sim
