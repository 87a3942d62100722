// Placeholder until the sim command lands (see the open issues); fails loudly, never pretends.
#include <cstdio>

#include "commands.hpp"

namespace hwnas::app {

int cmd_sim(const Args&) {
  std::fprintf(stderr, "hwnas sim: not available in this build yet\n");
  return 1;
}

}  // namespace hwnas::app
