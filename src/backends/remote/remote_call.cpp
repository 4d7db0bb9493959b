#include "backends/remote/remote_call.hpp"

#include "inference/log.hpp"

namespace inference::remote {
namespace {

constexpr size_t kMaxJsonResponse = 64u << 20;

bool retryable_status(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string describe_transport(const net::HttpResult& r, const net::BaseUrl& url) {
  switch (r.error) {
    case net::TransportError::connect:
      return "cannot connect to " + url.to_string() + " (" + r.error_text + ")";
    case net::TransportError::timeout:
      return "no answer from " + url.to_string() + " (timed out: " + r.error_text + ")";
    default:
      return "the connection to " + url.to_string() + " failed (" + r.error_text + ")";
  }
}

Status http_status_error(const net::HttpResult& r, const net::BaseUrl& url) {
  std::string what = server_error_message(r.error_body);
  std::string prefix = url.to_string() + " answered HTTP " + std::to_string(r.status);
  if (!what.empty()) prefix += ": " + what;
  if (r.status == 401 || r.status == 403)
    return {ErrorCode::backend, prefix + " (check the API key)"};
  if (r.status == 404) return {ErrorCode::not_found, prefix};
  if (r.status >= 400 && r.status < 500 && r.status != 429)
    return {ErrorCode::invalid_argument, prefix};
  return {ErrorCode::backend, prefix};
}

}  // namespace

std::string server_error_message(const std::string& body) {
  if (body.empty()) return {};
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    const auto* e = j.contains("error") ? &j["error"] : &j;
    if (e->is_string()) return e->get<std::string>();
    if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
      return (*e)["message"].get<std::string>();
  }
  std::string text = body.substr(0, 300);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Status perform_call(const Context& ctx, EndpointSource& source, const net::HttpRequest& request,
                    const CallHooks& hooks) {
  net::HttpRequest req = request;
  for (auto& h : source.headers()) req.headers.push_back(h);
  const int32_t attempts = std::max(1, source.retry.max_attempts);
  Status last;
  for (int32_t attempt = 1;; ++attempt) {
    if (ctx.cancelled()) return ctx.status();
    EndpointLease lease;
    try {
      lease = source.acquire(ctx);
    } catch (const Error& e) {
      if (ctx.cancelled()) return ctx.status();
      // Nothing can take it now; the last attempt's error says more when there was one.
      Status s = e.status();
      if (!last.ok()) s.message += "; previous attempt: " + last.message;
      return {s.code, source.redact(s.message)};
    }
    if (hooks.on_attempt) hooks.on_attempt();
    bool stopped_by_receiver = false;
    net::BodyReceiver receive = [&](std::string_view bytes) {
      if (hooks.on_body(bytes)) return true;
      stopped_by_receiver = true;
      return false;
    };
    net::HeadReceiver head = [&](int status) {
      if (status >= 200 && status < 300 && hooks.on_accepted) hooks.on_accepted();
    };
    net::HttpResult r = net::send_http(ctx, lease.url, req, source.timeouts, receive, head);
    std::optional<std::chrono::milliseconds> retry_after;
    bool retry = false;
    if (r.error == net::TransportError::cancelled) {
      source.release(lease, std::nullopt);
      if (stopped_by_receiver && !ctx.cancelled()) return {};
      return ctx.cancelled() ? ctx.status() : Status{ErrorCode::cancelled, "request stopped"};
    }
    if (r.error != net::TransportError::none) {
      std::string why = describe_transport(r, lease.url);
      source.release(lease, why);
      bool committed = hooks.committed && hooks.committed();
      last = source.explain(
          lease, {ErrorCode::backend, committed ? why + " after output had streamed" : why});
      retry = !committed;
    } else if (r.status >= 200 && r.status < 300) {
      source.release(lease, std::nullopt);
      return {};
    } else {
      bool server_fault = r.status >= 500;
      source.release(lease, server_fault
                                ? std::optional<std::string>("HTTP " + std::to_string(r.status))
                                : std::nullopt);
      last = http_status_error(r, lease.url);
      retry = retryable_status(r.status);
      if (auto it = r.headers.find("retry-after"); it != r.headers.end())
        retry_after = net::parse_retry_after(it->second);
    }
    last.message = source.redact(last.message);
    if (!retry || attempt >= attempts) {
      if (retry && attempts > 1)
        last.message += " (gave up after " + std::to_string(attempts) + " attempts)";
      return last;
    }
    auto delay = source.retry.delay(attempt, retry_after);
    log(LogLevel::warning,
        "remote: " + last.message + "; retrying in " + std::to_string(delay.count()) + " ms");
    if (!ctx.sleep_for(delay)) return ctx.status();
  }
}

nlohmann::json call_json(const Context& ctx, EndpointSource& source,
                         const net::HttpRequest& request) {
  std::string body;
  bool too_big = false;
  CallHooks hooks;
  hooks.on_attempt = [&] { body.clear(); };
  hooks.on_body = [&](std::string_view bytes) {
    if (body.size() + bytes.size() > kMaxJsonResponse) {
      too_big = true;
      return false;
    }
    body.append(bytes);
    return true;
  };
  Status s = perform_call(ctx, source, request, hooks);
  if (!s.ok()) throw Error(s);
  if (too_big)
    throw Error(ErrorCode::backend, request.path + ": the response is larger than 64 MiB");
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw Error(ErrorCode::backend,
                request.path + ": the server's response is not JSON: " + body.substr(0, 200));
  return j;
}

}  // namespace inference::remote
