// JSON-RPC 2.0 framing for MCP: classifying incoming frames and building responses and errors.
// Knows nothing about MCP methods; the session (session.hpp) does the dispatch.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inference::mcp {

using json = nlohmann::json;

/// The JSON-RPC 2.0 error codes MCP uses.
namespace rpc_error {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
/// MCP: resources/read of a URI the server does not have.
inline constexpr int resource_not_found = -32002;
}  // namespace rpc_error

/// Largest frame (one stdio line, one HTTP body) accepted; bigger ones are refused unparsed.
inline constexpr std::size_t kMaxFrameBytes = 8u << 20;
/// Deepest nesting of arrays/objects accepted in a frame (our schemas need far less).
inline constexpr int kMaxJsonDepth = 64;

/// One message of a frame, classified.
struct Incoming {
  enum class Kind { request, notification, response, invalid };
  Kind kind = Kind::invalid;
  json id;  ///< request/response id (null for notifications and unidentifiable invalid ones)
  std::string method;
  json params;        ///< object, or null when absent
  std::string error;  ///< for Kind::invalid: what is wrong
};

/// A parsed frame: a single message or a batch (JSON array), or a frame-level error that
/// must be answered with `error_response` (parse error, empty batch).
struct Frame {
  bool batch = false;
  std::vector<Incoming> messages;
  std::optional<json> error_response;
};

/// Parses and classifies one frame. Never throws; bad input becomes Frame::error_response or
/// Incoming::Kind::invalid entries with a message naming what is wrong.
Frame parse_frame(std::string_view text);

/// Classifies one already-parsed message (an element of a batch or the whole frame).
Incoming classify_message(const json& message);

json make_result(const json& id, json result);
json make_error(const json& id, int code, std::string message, json data = nullptr);
json make_notification(std::string method, json params);

/// A request that fails with a JSON-RPC error (thrown by method handlers, caught by the session).
struct RpcError {
  int code;
  std::string message;
};

}  // namespace inference::mcp
