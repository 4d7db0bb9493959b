// backends/remote/load_options.hpp — reading LoadConfig::options and the API key for the remote
// backends, with errors that name the option (and never the key's value).
#pragma once

#include <cstdint>
#include <string>

#include "inference/types.hpp"
#include "net/http_client.hpp"
#include "net/retry_policy.hpp"

namespace inference::remote {

/// options[name] as an integer in [min, max], or `fallback` when absent. Throws
/// Error(invalid_argument) naming the option and its allowed range.
int64_t int_option(const LoadConfig& config, const std::string& name, int64_t fallback, int64_t min,
                   int64_t max);

/// Timeouts and retries from options timeout_ms, connect_timeout_ms, retries (attempts in
/// all), retry_base_ms, retry_max_ms.
void read_call_options(const LoadConfig& config, net::HttpTimeouts& timeouts,
                       net::RetryPolicy& retry);

/// config.api_key, else the variable config.api_key_env names ("" when neither is set).
/// Throws Error(invalid_argument) when the named variable is unset or empty.
std::string resolve_api_key(const LoadConfig& config);

}  // namespace inference::remote
