// infer backends — lists the linked backends and whether each can run here.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "inference/backend.hpp"

namespace inference::cli {
namespace {

void setup_backends(CLI::App& root) {
  auto* cmd = root.add_subcommand("backends", "List the linked backends and their availability");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "One JSON object per backend, one per line");
  cmd->callback([json] {
    auto names = backend_preference_order();
    std::string chosen;
    for (const auto& name : names) {
      auto backend = find_backend(name);
      if (backend && backend->available()) {
        chosen = name;
        break;
      }
    }
    if (names.empty() && !*json) std::cout << "no backends are linked into this build\n";
    for (const auto& name : list_backends()) {
      auto backend = find_backend(name);
      if (!backend) continue;
      bool available = backend->available();
      std::string reason = available ? "" : backend->unavailable_reason();
      if (*json) {
        nlohmann::json line = {{"name", name},
                               {"available", available},
                               {"default", name == chosen},
                               {"reason", reason}};
        std::cout << line.dump() << "\n";
      } else {
        std::cout << name << (name == chosen ? " (default)" : "") << "\t"
                  << (available ? "available" : "unavailable")
                  << (reason.empty() ? "" : ": " + reason) << "\n";
      }
    }
  });
}

const CommandRegistration kRegister{10, setup_backends};

}  // namespace
}  // namespace inference::cli
