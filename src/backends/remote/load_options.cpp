#include "backends/remote/load_options.hpp"

#include <charconv>
#include <cstdlib>

#include "inference/error.hpp"

namespace inference::remote {

int64_t int_option(const LoadConfig& config, const std::string& name, int64_t fallback, int64_t min,
                   int64_t max) {
  auto it = config.options.find(name);
  if (it == config.options.end()) return fallback;
  const std::string& text = it->second;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw Error(ErrorCode::invalid_argument,
                "option " + name + "='" + text + "': expected an integer in [" +
                    std::to_string(min) + ", " + std::to_string(max) + "]");
  return value;
}

void read_call_options(const LoadConfig& config, net::HttpTimeouts& timeouts,
                       net::RetryPolicy& retry) {
  using std::chrono::milliseconds;
  constexpr int64_t kDay = 86'400'000;
  timeouts.read = milliseconds(int_option(config, "timeout_ms", timeouts.read.count(), 1, kDay));
  timeouts.connect =
      milliseconds(int_option(config, "connect_timeout_ms", timeouts.connect.count(), 1, kDay));
  retry.max_attempts =
      static_cast<int32_t>(int_option(config, "retries", retry.max_attempts, 1, 100));
  retry.base_delay =
      milliseconds(int_option(config, "retry_base_ms", retry.base_delay.count(), 0, kDay));
  retry.max_delay =
      milliseconds(int_option(config, "retry_max_ms", retry.max_delay.count(), 0, kDay));
}

std::string resolve_api_key(const LoadConfig& config) {
  if (!config.api_key.empty()) return config.api_key;
  if (config.api_key_env.empty()) return {};
  const char* value = std::getenv(config.api_key_env.c_str());
  if (!value || !*value)
    throw Error(ErrorCode::invalid_argument,
                "the API key variable " + config.api_key_env + " is not set");
  return value;
}

}  // namespace inference::remote
