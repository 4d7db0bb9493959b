// backends/remote/endpoint_source.hpp — where a remote request goes: a pool of servers (http) or
// the child process (llama_server). The request code asks for an endpoint per attempt and
// reports how the attempt went, so routing, circuit breaking and restarts live in one place.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inference/context.hpp"
#include "inference/error.hpp"
#include "net/http_client.hpp"
#include "net/retry_policy.hpp"
#include "net/url.hpp"

namespace inference::remote {

struct EndpointLease {
  size_t index = 0;
  net::BaseUrl url;
};

class EndpointSource {
 public:
  virtual ~EndpointSource() = default;
  /// The endpoint for the next attempt. Throws Error (unavailable: none can take it).
  virtual EndpointLease acquire(const Context& ctx) = 0;
  /// Ends an attempt. `failure` is set when the endpoint itself failed (transport error, 5xx):
  /// that counts against its health; an answer of any other kind does not.
  virtual void release(const EndpointLease& lease, const std::optional<std::string>& failure) = 0;
  /// Adds what the source knows to an error of an attempt on `lease` (llama_server: the exit
  /// status and the last stderr lines of a crashed child).
  virtual Status explain(const EndpointLease& lease, Status status) {
    (void)lease;
    return status;
  }
  /// Headers every request carries (authentication).
  virtual std::vector<std::pair<std::string, std::string>> headers() const { return {}; }
  /// Removes secrets from a text before it is shown (an echoed API key).
  virtual std::string redact(std::string text) const { return text; }

  net::HttpTimeouts timeouts;
  net::RetryPolicy retry;
};

}  // namespace inference::remote
