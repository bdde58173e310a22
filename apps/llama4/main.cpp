// Entry point of the `llama4` program: builds the CLI from the registered sub-commands, runs the
// chosen one, and turns every llama4::Error into a one-line message and exit code 1.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>

#include "command.h"

namespace llama4::cli {
std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}
}  // namespace llama4::cli

namespace {

// Builds the CLI, parses the arguments and runs the chosen sub-command.
int run(int argc, char** argv) {
  using namespace llama4::cli;
  CLI::App app{"llama4 — inference for Llama 4 text models", "llama4"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "llama4.cpp 0.1.0");

  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, CommandAction>> commands;
  for (const auto& info : registry) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    commands.emplace_back(sub, info.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, action] : commands)
    if (sub->parsed()) return action();
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // llama4::Error among them
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
