// Sub-command registry of the `llama4` program. Each sub-command lives in its own file and
// registers itself with a static CommandRegistration, so adding a command touches no other file:
//
//   static CommandRegistration reg{"inspect", "Show a model's config and layer plan", 10,
//       [](CLI::App& cmd) { auto opts = ...; cmd.add_option(...); return [opts] { ...; return 0; };
//       }};
//
// The setup function declares the options on `cmd` and returns the action run when the command is
// chosen; the action returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace llama4::cli {

using CommandAction = std::function<int()>;
using CommandSetup = std::function<CommandAction(CLI::App&)>;

struct CommandInfo {
  std::string name;
  std::string description;
  int order;  // position in --help
  CommandSetup setup;
};

std::vector<CommandInfo>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, int order, CommandSetup setup) {
    command_registry().push_back(
        {std::move(name), std::move(description), order, std::move(setup)});
  }
};

}  // namespace llama4::cli
