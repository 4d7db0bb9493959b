// Fuzz target: arbitrary JSON-RPC frames into an MCP session. Each line of the input is one
// frame (the stdio framing); the first byte picks the protocol revision so batches and the
// pre-initialize state are reached too. Every frame must be answered or ignored — never a
// crash, a hang, an exception escaping, or a message that is not a JSON-RPC object/array.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mcp/server.hpp"
#include "mcp/session.hpp"

namespace {

const std::shared_ptr<const inference::mcp::ServerDefinition>& server() {
  // No model: generation tools fail with a tool error instead of loading anything.
  static const auto definition = inference::mcp::make_server({});
  return definition;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::mcp;
  if (size == 0) return 0;
  static const char* const versions[] = {"", "2025-11-25", "2025-06-18", "2025-03-26",
                                         "2024-11-05"};
  const char* version = versions[data[0] % 5];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  Outbound check = [](const json& message) {
    if (!message.is_null() && !message.is_object() && !message.is_array()) std::abort();
    (void)message.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  Session session(server());
  if (*version) {
    session.receive(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")" +
            std::string(version) + R"("}})",
        check);
  }
  while (!input.empty()) {
    auto end = input.find('\n');
    session.receive(input.substr(0, end), check);
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  session.wait_idle();
  return 0;
}
