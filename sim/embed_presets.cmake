# Writes OUT: a C++ file defining embedded_presets() from the JSON files in FILES.
string(REPLACE "|" ";" FILES "${FILES}")
set(body "")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "      {\"${name}\", R\"hwnas_preset(${text})hwnas_preset\"},\n")
endforeach()
file(WRITE ${OUT}.new "// Generated from arch_configs/*.json by sim/embed_presets.cmake. Do not edit.
#include \"hwnas/sim/presets.hpp\"

namespace hwnas::sim {

const std::vector<EmbeddedPreset>& embedded_presets() {
  static const std::vector<EmbeddedPreset> presets = {
${body}  };
  return presets;
}

}  // namespace hwnas::sim
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.new ${OUT})
file(REMOVE ${OUT}.new)
