#pragma once
// One function per `hwnas` subcommand, each in its own cmd_<name>.cpp. They receive the
// arguments after the subcommand name and return the process exit code:
// 0 ok, 1 runtime failure, 2 usage or input error.
#include <string>
#include <vector>

namespace hwnas::app {

using Args = std::vector<std::string>;

int cmd_sim(const Args& args);
int cmd_costgen(const Args& args);
int cmd_cost(const Args& args);
int cmd_search(const Args& args);
int cmd_train(const Args& args);
int cmd_eval(const Args& args);
int cmd_demo(const Args& args);

}  // namespace hwnas::app
