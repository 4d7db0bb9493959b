// HTTP helpers for the server tests: JSON requests, streamed requests that can hang up,
// and a strict Server-Sent Events parser (a framing error fails the test).
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace inference::test {

using nlohmann::json;

struct HttpReply {
  int status = -1;  ///< -1 when the request failed at the transport level
  std::string body;
  httplib::Headers headers;
  json json_body() const;
};

HttpReply get(int port, const std::string& path, const httplib::Headers& headers = {});
HttpReply post(int port, const std::string& path, const std::string& body,
               const httplib::Headers& headers = {});
inline HttpReply post(int port, const std::string& path, const json& body,
                      const httplib::Headers& headers = {}) {
  return post(port, path, body.dump(), headers);
}

/// POSTs `body` and hands each received chunk to `on_chunk`; returning false hangs up (the
/// client closes the connection). `read_timeout_ms` > 0: the client gives up waiting for bytes.
HttpReply post_streaming(int port, const std::string& path, const json& body,
                         const std::function<bool(const std::string&)>& on_chunk,
                         int read_timeout_ms = 0);

struct SseEvent {
  std::string event;  ///< "" when the event has no `event:` line
  std::string data;
  json json_data() const { return json::parse(data); }
};

/// Parses an SSE body strictly: events of `event:`/`data:` lines ended by a blank line.
/// Adds a test failure for any other line or a missing final blank line.
std::vector<SseEvent> parse_sse(const std::string& body);

/// Polls GET /slots until no slot is processing (up to `max_wait_ms`); true when idle.
bool wait_slots_idle(int port, int max_wait_ms = 10000);

}  // namespace inference::test
