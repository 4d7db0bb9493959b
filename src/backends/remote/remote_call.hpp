// backends/remote/remote_call.hpp — one logical request to a remote server: endpoint choice,
// retries with back-off on transport errors, 5xx and 429 (Retry-After honoured), and the
// translation of HTTP failures into Status values with the server's own message.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "backends/remote/endpoint_source.hpp"
#include "inference/context.hpp"
#include "inference/error.hpp"
#include "net/http_client.hpp"

namespace inference::remote {

struct CallHooks {
  std::function<void()> on_attempt;  ///< a fresh attempt starts: reset per-attempt state
  net::BodyReceiver on_body;         ///< 2xx body bytes; false stops reading (not an error)
  /// A 2xx response head arrived: the server accepted the request (its body may come later).
  std::function<void()> on_accepted;
  /// True once something of this call reached the consumer: from then on nothing is retried,
  /// because a retry would repeat output the consumer already has.
  std::function<bool()> committed;
};

/// Runs `request` until it succeeds, fails for good or `ctx` is done. Returns ok when a 2xx
/// body was read to its end or the receiver stopped it; ctx.status() when the context ended
/// it; otherwise the error (codes: invalid_argument for a 4xx rejection, unavailable when no
/// endpoint can take it, backend for transport errors and 5xx).
Status perform_call(const Context& ctx, EndpointSource& source, const net::HttpRequest& request,
                    const CallHooks& hooks);

/// A non-streaming JSON request (bounded to 64 MiB of response). Throws Error on failure.
nlohmann::json call_json(const Context& ctx, EndpointSource& source,
                         const net::HttpRequest& request);

/// The human part of an error body: OpenAI/Anthropic/llama.cpp `error.message`, else the text
/// itself, shortened.
std::string server_error_message(const std::string& body);

}  // namespace inference::remote
