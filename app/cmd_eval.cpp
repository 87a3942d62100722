// Placeholder until the eval command lands (see the open issues); fails loudly, never pretends.
#include <cstdio>

#include "commands.hpp"

namespace hwnas::app {

int cmd_eval(const Args&) {
  std::fprintf(stderr, "hwnas eval: not available in this build yet\n");
  return 1;
}

}  // namespace hwnas::app
