#include "mcp/json_rpc.hpp"

namespace inference::mcp {
namespace {

// nlohmann's parser has no depth limit and its destructor/dump recurse on some versions, so a
// frame like "[[[[…" is refused before parsing: count nesting outside strings.
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

bool valid_id(const json& id) {
  return id.is_string() || id.is_number_integer();
}

}  // namespace

Incoming classify_message(const json& message) {
  Incoming in;
  if (!message.is_object()) {
    in.error = "a JSON-RPC message must be an object";
    return in;
  }
  auto id_it = message.find("id");
  if (id_it != message.end() && valid_id(*id_it)) in.id = *id_it;
  auto version = message.find("jsonrpc");
  if (version == message.end() || *version != "2.0") {
    in.error = "\"jsonrpc\" must be \"2.0\"";
    return in;
  }
  auto method = message.find("method");
  if (method != message.end()) {
    if (!method->is_string()) {
      in.error = "\"method\" must be a string";
      return in;
    }
    in.method = method->get<std::string>();
    // MCP params are objects; other kinds are kept so the session answers them with -32602.
    if (auto params = message.find("params"); params != message.end()) in.params = *params;
    if (id_it == message.end()) {
      in.kind = Incoming::Kind::notification;
    } else if (!valid_id(*id_it)) {
      in.error = "\"id\" must be a string or an integer";
    } else {
      in.kind = Incoming::Kind::request;
    }
    return in;
  }
  if (id_it != message.end() && (message.contains("result") || message.contains("error"))) {
    in.kind = Incoming::Kind::response;
    return in;
  }
  in.error =
      "a JSON-RPC message needs \"method\" (request or notification) or \"result\"/\"error\"";
  return in;
}

Frame parse_frame(std::string_view text) {
  Frame frame;
  if (text.size() > kMaxFrameBytes) {
    frame.error_response =
        make_error(nullptr, rpc_error::parse_error,
                   "frame of " + std::to_string(text.size()) +
                       " bytes is larger than the limit of " + std::to_string(kMaxFrameBytes));
    return frame;
  }
  if (!nesting_within(text, kMaxJsonDepth)) {
    frame.error_response =
        make_error(nullptr, rpc_error::parse_error,
                   "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return frame;
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    frame.error_response = make_error(nullptr, rpc_error::parse_error, "frame is not valid JSON");
    return frame;
  }
  if (parsed.is_array()) {
    if (parsed.empty()) {
      frame.error_response = make_error(nullptr, rpc_error::invalid_request, "empty batch");
      return frame;
    }
    frame.batch = true;
    for (const auto& m : parsed) frame.messages.push_back(classify_message(m));
    return frame;
  }
  frame.messages.push_back(classify_message(parsed));
  return frame;
}

json make_result(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json make_error(const json& id, int code, std::string message, json data) {
  json error{{"code", code}, {"message", std::move(message)}};
  if (!data.is_null()) error["data"] = std::move(data);
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

json make_notification(std::string method, json params) {
  return json{{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}

}  // namespace inference::mcp
