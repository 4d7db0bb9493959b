#include "http_test_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace inference::test {

namespace {

httplib::Client client(int port, int read_timeout_ms = 0) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5);
  if (read_timeout_ms > 0) {
    c.set_read_timeout(std::chrono::milliseconds(read_timeout_ms));
  } else {
    c.set_read_timeout(60);
  }
  return c;
}

HttpReply reply(const httplib::Result& r) {
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  return out;
}

}  // namespace

json HttpReply::json_body() const {
  try {
    return json::parse(body);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "): " << body;
    return json();
  }
}

HttpReply get(int port, const std::string& path, const httplib::Headers& headers) {
  auto c = client(port);
  return reply(c.Get(path, headers));
}

HttpReply post(int port, const std::string& path, const std::string& body,
               const httplib::Headers& headers) {
  auto c = client(port);
  return reply(c.Post(path, headers, body, "application/json"));
}

HttpReply post_streaming(int port, const std::string& path, const json& body,
                         const std::function<bool(const std::string&)>& on_chunk,
                         int read_timeout_ms) {
  auto c = client(port, read_timeout_ms);
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  HttpReply out;
  req.response_handler = [&](const httplib::Response& r) {
    out.status = r.status;
    out.headers = r.headers;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    std::string chunk(data, n);
    out.body += chunk;
    return on_chunk(chunk);
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  c.send(req, res, error);
  return out;
}

std::vector<SseEvent> parse_sse(const std::string& body) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool open = false;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t eol = body.find('\n', pos);
    if (eol == std::string::npos) {
      ADD_FAILURE() << "SSE body does not end with a newline: " << body.substr(pos);
      break;
    }
    const std::string line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) {
      if (!open) {
        ADD_FAILURE() << "empty SSE event at byte " << pos;
        continue;
      }
      events.push_back(current);
      current = {};
      open = false;
    } else if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
      open = true;
    } else if (line.rfind("data: ", 0) == 0) {
      if (!current.data.empty()) current.data += "\n";
      current.data += line.substr(6);
      open = true;
    } else {
      ADD_FAILURE() << "unexpected SSE line: '" << line << "'";
    }
  }
  if (open) ADD_FAILURE() << "the last SSE event is not ended by a blank line";
  return events;
}

bool wait_slots_idle(int port, int max_wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpReply r = get(port, "/slots");
    if (r.status == 200) {
      bool busy = false;
      for (const auto& slot : json::parse(r.body)) busy = busy || slot["is_processing"].get<bool>();
      if (!busy) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace inference::test
