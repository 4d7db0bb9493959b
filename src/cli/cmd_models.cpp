// infer models DIR — every model under a directory (GGUF files, Safetensors directories), with
// its summary; unreadable or malformed entries are listed as problems, not fatal.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "formats/display.hpp"
#include "inference/discovery.hpp"

namespace inference::cli {
namespace {

void setup_models(CLI::App& root) {
  auto* cmd = root.add_subcommand("models", "List the models under a directory (recursive)");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("DIR", *dir, "Directory to search")->required();
  cmd->add_flag("--json", *json, "One JSON object {models, problems} (schema in docs/formats.md)");
  cmd->callback([dir, json] {
    Discovery found = discover(*dir);
    if (*json) {
      nlohmann::ordered_json out = {{"models", nlohmann::ordered_json::array()},
                                    {"problems", found.problems}};
      for (const auto& m : found.models) {
        out["models"].push_back({{"path", m.path.string()},
                                 {"format", m.format},
                                 {"architecture", m.architecture},
                                 {"name", m.name},
                                 {"quantization", m.quantization},
                                 {"size_bytes", m.size_bytes},
                                 {"context_length", m.context_length},
                                 {"parameter_count", m.parameter_count}});
      }
      std::cout << out.dump(2) << "\n";
      return;
    }
    if (found.models.empty()) std::printf("no models found under %s\n", dir->c_str());
    for (const auto& m : found.models) {
      std::printf("%s\n    %s  %s  %s  %s params  ctx %lld  %s\n", m.path.c_str(), m.format.c_str(),
                  m.architecture.empty() ? "?" : m.architecture.c_str(),
                  m.quantization.empty() ? "?" : m.quantization.c_str(),
                  formats::format_count(m.parameter_count).c_str(),
                  static_cast<long long>(m.context_length),
                  formats::format_bytes(m.size_bytes).c_str());
    }
    for (const auto& problem : found.problems) std::cerr << "infer: warning: " << problem << "\n";
  });
}

const CommandRegistration kRegister{40, setup_models};

}  // namespace
}  // namespace inference::cli
