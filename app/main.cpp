// hwnas: hardware-aware neural architecture search on systolic-array accelerators.
// A thin dispatcher: each subcommand parses its own options (cmd_*.cpp).
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <cstring>
#include <exception>
#include <string>
#include <systemc>

#include "commands.hpp"
#include "hwnas/common/error.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(const hwnas::app::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"demo", hwnas::app::cmd_demo,
     "the embedded default: simulate a built-in network, then a short hardware-aware search"},
    {"sim", hwnas::app::cmd_sim, "simulate a layer or a network on an accelerator"},
    {"costgen", hwnas::app::cmd_costgen, "build the cost table of a search space"},
    {"cost", hwnas::app::cmd_cost, "whole-network cost of a genotype or topology"},
    {"search", hwnas::app::cmd_search, "hardware-aware DARTS search"},
    {"train", hwnas::app::cmd_train, "train the network of a genotype"},
    {"eval", hwnas::app::cmd_eval, "evaluate a trained network"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "hwnas %s: hardware-aware NAS for systolic-array accelerators\n\n",
               HWNAS_VERSION);
  std::fprintf(out, "usage: hwnas <command> [options]   (hwnas <command> --help for options)\n\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
}

}  // namespace

// SystemC prints its copyright banner at elaboration unless this variable is set; a CLI whose
// output users pipe and diff must not start with it. The program's own main() takes precedence
// over the one in libsystemc.so, sets the variable, then enters SystemC the standard way.
//
// A supernet step allocates and frees gigabytes of activations; with glibc's defaults each large
// block is mmap'ed and returned to the kernel, so every step page-faults it all back in (the
// first step measured 20 s instead of 4 s). Keep freed memory in the heap instead.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("hwnas %s\n", HWNAS_VERSION);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    hwnas::app::Args args(argv + 2, argv + argc);
    try {
      return c.run(args);
    } catch (const hwnas::InputError& e) {
      std::fprintf(stderr, "hwnas %s: error: %s\n", c.name, e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hwnas %s: failed: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "hwnas: unknown command '%s'\n\n", name.c_str());
  print_usage(stderr);
  return 2;
}
