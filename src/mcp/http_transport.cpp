#include "mcp/http_transport.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include "inference/error.hpp"
#include "inference/log.hpp"
#include "mcp/protocol_version.hpp"

namespace inference::mcp {
namespace {

using namespace std::chrono_literals;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string new_session_id() {
  std::random_device device;
  std::string id;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += hex[device() & 15];
  return id;
}

// Compares without an early exit, so response timing does not reveal how much of a guessed
// token was right.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

bool is_reply(const json& message) {
  return message.is_null() || message.is_array() || message.contains("id");
}

// What one POST (or GET) will send: messages queued by the session's threads, written by
// httplib's content provider. `expected` replies end a POST stream; a GET stream ends with the
// session or the server.
struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> events;  // serialised messages
  std::size_t expected = 0;
  std::size_t replies = 0;
  bool closed = false;

  void push(const json& message) {
    std::lock_guard lock(mutex);
    if (is_reply(message)) ++replies;
    if (!message.is_null()) {
      events.push_back(message.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    ready.notify_all();
  }
  void close() {
    std::lock_guard lock(mutex);
    closed = true;
    ready.notify_all();
  }
};

struct HttpSession {
  explicit HttpSession(std::shared_ptr<const ServerDefinition> server)
      : session(std::move(server)) {}
  Session session;
  std::atomic<std::chrono::steady_clock::rep> last_used{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::mutex mutex;
  std::vector<std::weak_ptr<Channel>> streams;  // open GET streams
};

}  // namespace

bool is_loopback_host(const std::string& host) {
  std::string h = lower(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const auto& a : allowed) {
    if (a == origin) return true;
  }
  // scheme://host[:port]
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = lower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  std::string rest = origin.substr(scheme_end + 3);
  std::string host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(0, close + 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  return is_loopback_host(host);
}

struct HttpServer::Impl {
  std::shared_ptr<const ServerDefinition> server;
  HttpOptions options;
  httplib::Server http;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions;

  bool admit(const httplib::Request& req, httplib::Response& res) {
    if (!origin_allowed(req.get_header_value("Origin"), options.allowed_origins)) {
      error(res, 403, "origin not allowed: " + req.get_header_value("Origin"));
      return false;
    }
    if (!options.bearer_token.empty() &&
        !same_secret(req.get_header_value("Authorization"), "Bearer " + options.bearer_token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      error(res, 401, "missing or wrong bearer token");
      return false;
    }
    return true;
  }

  static void error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(make_error(nullptr, rpc_error::invalid_request, message).dump(),
                    "application/json");
  }

  std::shared_ptr<HttpSession> find_session(const httplib::Request& req, httplib::Response& res) {
    std::string id = req.get_header_value("Mcp-Session-Id");
    if (id.empty()) {
      error(res, 400, "missing Mcp-Session-Id header (initialize first)");
      return nullptr;
    }
    std::lock_guard lock(mutex);
    auto it = sessions.find(id);
    if (it == sessions.end()) {
      error(res, 404, "unknown or ended session " + id);
      return nullptr;
    }
    it->second->last_used = std::chrono::steady_clock::now().time_since_epoch().count();
    return it->second;
  }

  // Under `mutex`.
  void evict_idle_session() {
    auto oldest = sessions.end();
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->second->session.calls_in_flight() > 0) continue;
      if (oldest == sessions.end() || it->second->last_used < oldest->second->last_used) {
        oldest = it;
      }
    }
    if (oldest == sessions.end()) return;
    end_session(*oldest->second);
    sessions.erase(oldest);
  }

  // Streams `channel` as SSE until its replies are all sent (POST) or it is closed (GET).
  void stream(httplib::Response& res, std::shared_ptr<Channel> channel, bool until_replies) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [this, channel, until_replies](std::size_t, httplib::DataSink& sink) {
          std::deque<std::string> events;
          bool finished = false;
          {
            std::unique_lock lock(channel->mutex);
            auto done = [&] {
              return channel->closed || (until_replies && channel->replies >= channel->expected);
            };
            while (channel->events.empty() && !done()) {
              if (channel->ready.wait_for(lock, 15s) == std::cv_status::timeout) {
                lock.unlock();
                // A comment line keeps proxies from closing an idle stream and finds dead peers.
                if (!sink.write(": keep-alive\n\n", 14)) return false;
                lock.lock();
              }
              if (stopping) return false;
            }
            events.swap(channel->events);
            finished = done();
          }
          for (const auto& event : events) {
            std::string chunk = "event: message\ndata: " + event + "\n\n";
            if (!sink.write(chunk.data(), chunk.size())) return false;
          }
          if (finished) sink.done();
          return true;
        });
  }

  void post(const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::string content_type = lower(req.get_header_value("Content-Type"));
    if (content_type.rfind("application/json", 0) != 0) {
      error(res, 415, "Content-Type must be application/json");
      return;
    }
    std::string accept = lower(req.get_header_value("Accept"));
    bool sse_ok = accept.find("text/event-stream") != std::string::npos;
    bool json_ok = accept.empty() || accept.find("application/json") != std::string::npos ||
                   accept.find("*/*") != std::string::npos;
    if (!sse_ok && !json_ok) {
      error(res, 406, "Accept must include application/json or text/event-stream");
      return;
    }
    // initialize is the one message that opens a session, and it must travel alone.
    json probe = json::parse(req.body, nullptr, false);
    bool initialize = probe.is_object() && probe.value("method", json()) == "initialize";
    std::shared_ptr<HttpSession> session;
    std::string session_id;
    if (initialize) {
      std::lock_guard lock(mutex);
      // Many clients never DELETE their session: at the limit, the idle session used longest
      // ago makes room.
      if (sessions.size() >= options.max_sessions) evict_idle_session();
      if (sessions.size() >= options.max_sessions) {
        error(res, 503,
              "too many sessions with calls in flight (" + std::to_string(sessions.size()) + ")");
        return;
      }
      session = std::make_shared<HttpSession>(server);
      session_id = new_session_id();
    } else {
      session = find_session(req, res);
      if (!session) return;
      std::string version = req.get_header_value("MCP-Protocol-Version");
      if (!version.empty() && !is_supported_protocol_version(version)) {
        error(res, 400, "unsupported MCP-Protocol-Version " + version);
        return;
      }
    }
    auto channel = std::make_shared<Channel>();
    std::size_t expected =
        session->session.receive(req.body, [channel](const json& m) { channel->push(m); });
    if (initialize) {
      if (session->session.protocol_version().empty()) {
        session_id.clear();  // initialize failed: no session to keep
      } else {
        std::lock_guard lock(mutex);
        sessions[session_id] = session;
        res.set_header("Mcp-Session-Id", session_id);
      }
    }
    if (expected == 0) {
      res.status = 202;
      return;
    }
    {
      std::unique_lock lock(channel->mutex);
      channel->expected = expected;
      // Answered already (everything but tools/call): plain JSON is simplest for every client.
      bool complete = channel->replies >= expected;
      if (complete || !sse_ok) {
        channel->ready.wait(lock, [&] { return channel->replies >= expected || stopping; });
        if (channel->events.empty()) {
          res.status = 202;  // the call was cancelled by the client: nothing to say
          return;
        }
        // Notifications are dropped in JSON mode (the client did not accept a stream); the
        // reply is the last message queued.
        res.set_content(channel->events.back(), "application/json");
        return;
      }
    }
    stream(res, channel, true);
  }

  void get(const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    if (lower(req.get_header_value("Accept")).find("text/event-stream") == std::string::npos) {
      error(res, 406, "GET /mcp needs Accept: text/event-stream");
      return;
    }
    auto session = find_session(req, res);
    if (!session) return;
    auto channel = std::make_shared<Channel>();
    {
      // One server stream per session: a new GET (a client reconnecting) replaces the old one,
      // so dead streams cannot pile up and hold every worker.
      std::lock_guard lock(session->mutex);
      for (auto& weak : session->streams) {
        if (auto old = weak.lock()) old->close();
      }
      session->streams = {channel};
    }
    stream(res, channel, false);
  }

  void del(const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    auto session = find_session(req, res);
    if (!session) return;
    {
      std::lock_guard lock(mutex);
      sessions.erase(req.get_header_value("Mcp-Session-Id"));
    }
    end_session(*session);
    res.status = 200;
  }

  static void end_session(HttpSession& session) {
    session.session.cancel_all();
    std::lock_guard lock(session.mutex);
    for (auto& weak : session.streams) {
      if (auto channel = weak.lock()) channel->close();
    }
  }
};

HttpServer::HttpServer(std::shared_ptr<const ServerDefinition> server, HttpOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!is_loopback_host(options.host) && options.bearer_token.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "refusing to serve MCP on " + options.host +
                    " without a bearer token: it is not a loopback address, so set one with "
                    "--auth-token-env VAR (or bind 127.0.0.1)");
  }
  impl_->server = std::move(server);
  impl_->options = std::move(options);
  auto& http = impl_->http;
  http.set_payload_max_length(kMaxFrameBytes);
  // An idle keep-alive connection holds a worker, and stop() waits for it: keep that short.
  http.set_keep_alive_timeout(1);
  // Each open SSE stream holds a worker; leave room for streams, calls and cancellations.
  http.new_task_queue = [] { return new httplib::ThreadPool(64); };
  Impl* impl = impl_.get();
  const std::string& path = impl_->options.path;
  http.Post(path, [impl](const httplib::Request& q, httplib::Response& r) { impl->post(q, r); });
  http.Get(path, [impl](const httplib::Request& q, httplib::Response& r) { impl->get(q, r); });
  http.Delete(path, [impl](const httplib::Request& q, httplib::Response& r) { impl->del(q, r); });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::bind() {
  const auto& o = impl_->options;
  if (o.port == 0) {
    port_ = impl_->http.bind_to_any_port(o.host);
  } else if (impl_->http.bind_to_port(o.host, o.port)) {
    port_ = o.port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    throw Error(ErrorCode::unavailable,
                "cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use?)");
  }
}

void HttpServer::run() {
  impl_->http.listen_after_bind();
  std::map<std::string, std::shared_ptr<HttpSession>> sessions;
  {
    std::lock_guard lock(impl_->mutex);
    sessions.swap(impl_->sessions);
  }
  for (auto& [id, session] : sessions) Impl::end_session(*session);
}

void HttpServer::stop() {
  impl_->stopping = true;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, session] : impl_->sessions) Impl::end_session(*session);
  }
  impl_->http.stop();
}

}  // namespace inference::mcp
