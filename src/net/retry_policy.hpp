// net/retry_policy.hpp — how long to wait before the next attempt of a failed request.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace inference::net {

struct RetryPolicy {
  int32_t max_attempts = 3;                    ///< Attempts in all (1 = no retry).
  std::chrono::milliseconds base_delay{200};   ///< Delay before the 2nd attempt (before jitter).
  std::chrono::milliseconds max_delay{10000};  ///< Cap on one delay, also on a Retry-After.

  /// Exponential back-off with "full jitter": uniform in [delay/2, delay] where delay =
  /// base * 2^(attempt-1), capped. Jitter keeps many clients from retrying in lockstep.
  /// `attempt` is the number of attempts made so far (>= 1). A server's Retry-After, when
  /// given, is honoured as the lower bound (capped by max_delay).
  std::chrono::milliseconds delay(int32_t attempt,
                                  std::optional<std::chrono::milliseconds> retry_after) const;
};

/// Parses a Retry-After header: delta-seconds or an HTTP-date (RFC 9110). nullopt when
/// malformed. A date in the past gives 0.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace inference::net
