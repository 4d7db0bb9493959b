#include "net/http_client.hpp"

#include <sys/socket.h>

#include <httplib.h>
#include <atomic>
#include <mutex>

namespace inference::net {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TransportError classify(httplib::Error e) {
  switch (e) {
    case httplib::Error::Success:
      return TransportError::none;
    case httplib::Error::Connection:
    case httplib::Error::BindIPAddress:
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return TransportError::connect;
    case httplib::Error::ConnectionTimeout:
      return TransportError::timeout;
    case httplib::Error::Canceled:
      return TransportError::cancelled;
    default:
      return TransportError::io;
  }
}

}  // namespace

HttpResult send_http(const Context& ctx, const BaseUrl& base, const HttpRequest& request,
                     const HttpTimeouts& timeouts, const BodyReceiver& on_body,
                     const HeadReceiver& on_head) {
  HttpResult result;
  httplib::Client client(base.origin());
  client.set_connection_timeout(timeouts.connect);
  client.set_read_timeout(timeouts.read);
  client.set_write_timeout(timeouts.read);
  client.set_keep_alive(false);

  // Cancellation: httplib's stop() shuts the socket down if a request is in flight. If the
  // context ends before the socket exists, stop() has nothing to shut, so the socket-options
  // hook (run when the socket is created) shuts it at birth instead.
  std::atomic<bool> stopping{false};
  // Read timeouts and resets both surface as Error::Read; the time since the last bytes tells
  // which one it was.
  auto last_activity = std::chrono::steady_clock::now();
  client.set_socket_options([&stopping](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
    if (stopping.load()) ::shutdown(sock, SHUT_RDWR);
  });
  auto registration = ctx.on_done([&] {
    stopping.store(true);
    client.stop();
  });

  httplib::Request req;
  req.method = request.method;
  req.path = base.path + request.path;
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  if (!request.body.empty() || request.method == "POST") {
    req.body = request.body;
    req.headers.emplace("Content-Type", request.content_type);
  }
  req.response_handler = [&](const httplib::Response& res) {
    result.status = res.status;
    last_activity = std::chrono::steady_clock::now();
    for (const auto& [name, value] : res.headers) result.headers[lower(name)] = value;
    if (on_head) on_head(res.status);
    return !stopping.load();
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (stopping.load()) return false;
    last_activity = std::chrono::steady_clock::now();
    if (result.status >= 200 && result.status < 300) return on_body(std::string_view(data, size));
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, result.error_body.size());
    result.error_body.append(data, std::min(size, room));
    return true;
  };

  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  bool sent = client.send(req, res, error);
  registration.reset();  // from here on, no callback touches `client`
  if (stopping.load() || ctx.cancelled()) {
    result.error = TransportError::cancelled;
    result.error_text = "cancelled";
  } else if (!sent) {
    result.error = classify(error);
    result.error_text = httplib::to_string(error);
    auto silent = std::chrono::steady_clock::now() - last_activity;
    if ((error == httplib::Error::Read || error == httplib::Error::Write) &&
        silent >= timeouts.read * 9 / 10) {
      result.error = TransportError::timeout;
      result.error_text = "no data for " + std::to_string(timeouts.read.count()) + " ms";
    } else if (error == httplib::Error::Read) {
      result.error_text = "connection closed or reset";
    }
  }
  if (result.status == 0 && res.status > 0) result.status = res.status;
  return result;
}

}  // namespace inference::net
