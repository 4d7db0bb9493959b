#include "cli/command.hpp"

#include <algorithm>
#include <utility>

namespace inference::cli {
namespace {

std::vector<std::pair<int, CommandSetup>>& table() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}

}  // namespace

CommandRegistration::CommandRegistration(int order, CommandSetup setup) {
  table().emplace_back(order, std::move(setup));
}

std::vector<CommandSetup> registered_commands() {
  auto sorted = table();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<CommandSetup> setups;
  for (auto& [order, setup] : sorted) setups.push_back(setup);
  return setups;
}

GlobalOptions& global_options() {
  static GlobalOptions options;
  return options;
}

}  // namespace inference::cli
