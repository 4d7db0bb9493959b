#include "backends/llama_server/find_server_binary.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace inference::llama_server {
namespace {

bool executable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::string> find_server_binary(const std::string& configured, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<std::string> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (!configured.empty()) {
    if (executable_file(configured)) return configured;
    return fail("the configured server binary " + configured + " is not an executable file");
  }
  if (const char* env = std::getenv("INFERENCE_LLAMA_SERVER"); env && *env) {
    if (executable_file(env)) return std::string(env);
    return fail(std::string("INFERENCE_LLAMA_SERVER=") + env + " is not an executable file");
  }
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
      if (dir.empty()) dir = ".";
      std::string candidate = dir + "/llama-server";
      if (executable_file(candidate)) return candidate;
    }
  }
  return fail("no llama-server on PATH and INFERENCE_LLAMA_SERVER is not set");
}

}  // namespace inference::llama_server
