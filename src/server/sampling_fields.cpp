// Request pieces shared by the OpenAI, Anthropic and llama.cpp parsers.
#include <cmath>
#include <limits>

#include "server/request_parsing.hpp"

namespace inference::server {

namespace {

constexpr size_t kMaxStopBytes = 1024;

// Text of one content array entry: {"type":"text","text":…}; other part types (images,
// audio, files) are refused by name rather than dropped.
std::string content_part_text(const json& part, const std::string& path) {
  expect_object(part, path);
  const auto type = get_string(part, "type", path);
  if (!type) throw bad_field(path + ".type", "'" + path + ".type' is required");
  if (*type != "text")
    throw bad_field(path + ".type", "'" + path + ".type' is '" + *type +
                                        "': only text content is supported by this server");
  const auto text = get_string(part, "text", path);
  if (!text) throw bad_field(path + ".text", "'" + path + ".text' is required");
  return *text;
}

}  // namespace

std::vector<Message> parse_openai_messages(const json& messages, const std::string& path) {
  expect_array(messages, path);
  if (messages.empty()) throw bad_field(path, "'" + path + "' must contain at least one message");
  std::vector<Message> out;
  out.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string at = index_path(path, i);
    const json& m = expect_object(messages[i], at);
    const auto role = get_string(m, "role", at);
    if (!role) throw bad_field(at + ".role", "'" + at + ".role' is required");
    Message msg;
    if (*role == "system" || *role == "developer") {
      msg.role = "system";  // OpenAI's newer name for the system turn
    } else if (*role == "user" || *role == "assistant" || *role == "tool") {
      msg.role = *role;
    } else {
      throw bad_field(at + ".role", "'" + at + ".role' is '" + *role +
                                        "': expected system, developer, user, assistant or tool");
    }
    if (const json* content = find_field(m, "content")) {
      if (content->is_string()) {
        msg.content = content->get<std::string>();
      } else if (content->is_array()) {
        // Parts are joined by newlines: how a text-only template sees a multi-part message.
        for (size_t j = 0; j < content->size(); ++j) {
          if (j > 0) msg.content += "\n";
          msg.content += content_part_text((*content)[j], index_path(at + ".content", j));
        }
      } else {
        throw bad_field(at + ".content", "'" + at +
                                             ".content' must be a string or an array of content "
                                             "parts, got " +
                                             type_name(*content));
      }
    } else if (msg.role != "assistant") {
      throw bad_field(at + ".content", "'" + at + ".content' is required");
    }
    if (const json* calls = find_field(m, "tool_calls")) {
      if (msg.role != "assistant")
        throw bad_field(at + ".tool_calls",
                        "'" + at + ".tool_calls' is only valid on assistant messages");
      expect_array(*calls, at + ".tool_calls");
      for (size_t j = 0; j < calls->size(); ++j) {
        const std::string cp = index_path(at + ".tool_calls", j);
        const json& call = expect_object((*calls)[j], cp);
        ToolCall tc;
        tc.id = get_string(call, "id", cp).value_or("");
        const json* fn = find_field(call, "function");
        if (!fn) throw bad_field(cp + ".function", "'" + cp + ".function' is required");
        expect_object(*fn, cp + ".function");
        const auto name = get_string(*fn, "name", cp + ".function");
        if (!name) throw bad_field(cp + ".function.name", "'" + cp + ".function.name' is required");
        tc.name = *name;
        if (const json* args = find_field(*fn, "arguments"))
          tc.arguments = args->is_string() ? args->get<std::string>() : args->dump();
        msg.tool_calls.push_back(std::move(tc));
      }
    } else if (msg.role == "assistant" && !find_field(m, "content")) {
      throw bad_field(at + ".content", "'" + at + ".content' is required");
    }
    if (msg.role == "tool") {
      msg.tool_call_id = get_string(m, "tool_call_id", at).value_or("");
      msg.name = get_string(m, "name", at).value_or("");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::vector<std::string> parse_stop(const json& body, const char* key, const ParseLimits& limits) {
  const json* v = find_field(body, key);
  if (!v) return {};
  std::vector<std::string> out;
  auto add = [&](const json& s, const std::string& path) {
    const std::string& text = expect_string(s, path);
    if (text.empty()) throw bad_field(path, "'" + path + "' must not be empty");
    if (text.size() > kMaxStopBytes)
      throw bad_field(path,
                      "'" + path + "' is longer than " + std::to_string(kMaxStopBytes) + " bytes");
    out.push_back(text);
  };
  if (v->is_string()) {
    add(*v, key);
    return out;
  }
  if (!v->is_array())
    throw bad_field(key, std::string("'") + key +
                             "' must be a string or an array of strings, got " + type_name(*v));
  if (v->size() > static_cast<size_t>(limits.max_stop))
    throw bad_field(key, std::string("'") + key + "' has " + std::to_string(v->size()) +
                             " entries; at most " + std::to_string(limits.max_stop) +
                             " are allowed");
  for (size_t i = 0; i < v->size(); ++i) add((*v)[i], index_path(key, i));
  return out;
}

std::vector<int32_t> parse_token_ids(const json& value, const std::string& path,
                                     const ParseLimits& limits) {
  expect_array(value, path);
  std::vector<int32_t> ids;
  ids.reserve(value.size());
  const int64_t hi =
      limits.vocab_size > 0 ? limits.vocab_size - 1 : std::numeric_limits<int32_t>::max();
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = index_path(path, i);
    const json& id = value[i];
    if (!id.is_number_integer())
      throw bad_field(at, "'" + at + "' must be a token id (an integer), got " + type_name(id));
    const int64_t v = id.is_number_unsigned() && id.get<uint64_t>() > static_cast<uint64_t>(hi)
                          ? hi + 1
                          : id.get<int64_t>();
    if (v < 0 || v > hi)
      throw bad_field(at, "'" + at + "' is token id " + id.dump() +
                              ", outside the vocabulary [0, " + std::to_string(hi + 1) + ")");
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

std::vector<LogitBias> parse_logit_bias(const json& value, const std::string& path,
                                        const ParseLimits& limits) {
  std::vector<LogitBias> out;
  const int64_t n_vocab =
      limits.vocab_size > 0 ? limits.vocab_size : std::numeric_limits<int32_t>::max();
  auto token = [&](int64_t id, const std::string& at) {
    if (id < 0 || id >= n_vocab)
      throw bad_field(at, "'" + at + "' names token id " + std::to_string(id) +
                              ", outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
    return static_cast<int32_t>(id);
  };
  auto bias = [&](const json& b, const std::string& at) -> float {
    if (b.is_boolean() && !b.get<bool>()) return -100.0f;  // llama.cpp's "never"
    if (!b.is_number()) throw bad_field(at, "'" + at + "' must be a number, got " + type_name(b));
    const double v = b.get<double>();
    if (!std::isfinite(v) || v < -100.0 || v > 100.0)
      throw bad_field(at, "'" + at + "' must be between -100 and 100, got " + b.dump());
    return static_cast<float>(v);
  };
  if (value.is_object()) {
    for (const auto& [key, b] : value.items()) {
      const std::string at = path + "." + key;
      int64_t id = -1;
      size_t used = 0;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != key.size())
        throw bad_field(at, "'" + at + "': the keys of '" + path + "' must be token ids");
      out.push_back({token(id, at), bias(b, at)});
    }
    return out;
  }
  if (value.is_array()) {  // llama.cpp: [[id, bias], …], bias false = never
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string at = index_path(path, i);
      const json& pair = value[i];
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer())
        throw bad_field(at, "'" + at + "' must be a pair [token id, bias]");
      out.push_back({token(pair[0].get<int64_t>(), at), bias(pair[1], at)});
    }
    return out;
  }
  throw bad_field(path, "'" + path + "' must be an object mapping token ids to biases, got " +
                            type_name(value));
}

OutputConstraint parse_constraint(const json& body) {
  OutputConstraint c;
  int given = 0;
  if (const json* rf = find_field(body, "response_format")) {
    expect_object(*rf, "response_format");
    const auto type = get_string(*rf, "type", "response_format");
    if (!type) throw bad_field("response_format.type", "'response_format.type' is required");
    if (*type == "json_object") {
      c.kind = OutputConstraint::Kind::json;
      ++given;
    } else if (*type == "json_schema") {
      const json* js = find_field(*rf, "json_schema");
      if (!js)
        throw bad_field("response_format.json_schema", "'response_format.json_schema' is required");
      expect_object(*js, "response_format.json_schema");
      if (const json* schema = find_field(*js, "schema")) {
        expect_object(*schema, "response_format.json_schema.schema");
        c.kind = OutputConstraint::Kind::json_schema;
        c.source = schema->dump();
      } else {
        c.kind = OutputConstraint::Kind::json;
      }
      ++given;
    } else if (*type != "text") {
      throw bad_field("response_format.type", "'response_format.type' is '" + *type +
                                                  "': expected text, json_object or json_schema");
    }
  }
  if (const auto grammar = get_string(body, "grammar")) {
    c.kind = OutputConstraint::Kind::gbnf;
    c.source = *grammar;
    ++given;
  }
  if (const json* schema = find_field(body, "json_schema")) {
    expect_object(*schema, "json_schema");
    c.kind = OutputConstraint::Kind::json_schema;
    c.source = schema->dump();
    ++given;
  }
  if (given > 1)
    throw bad_field("response_format",
                    "give at most one of 'response_format', 'grammar' and 'json_schema'");
  return c;
}

}  // namespace inference::server
