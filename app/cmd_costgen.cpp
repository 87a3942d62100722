// Placeholder until the costgen command lands (see the open issues); fails loudly, never pretends.
#include <cstdio>

#include "commands.hpp"

namespace hwnas::app {

int cmd_costgen(const Args&) {
  std::fprintf(stderr, "hwnas costgen: not available in this build yet\n");
  return 1;
}

}  // namespace hwnas::app
