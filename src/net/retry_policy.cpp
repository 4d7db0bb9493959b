#include "net/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>
#include <string>

namespace inference::net {

std::chrono::milliseconds RetryPolicy::delay(
    int32_t attempt, std::optional<std::chrono::milliseconds> retry_after) const {
  using std::chrono::milliseconds;
  int shift = std::clamp(attempt - 1, 0, 20);
  int64_t ceiling = std::min<int64_t>(base_delay.count() << shift, max_delay.count());
  ceiling = std::max<int64_t>(ceiling, 0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(ceiling / 2, ceiling);
  milliseconds d{pick(rng)};
  if (retry_after) d = std::max(d, std::min(*retry_after, max_delay));
  return d;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<int64_t>(seconds, 86400) * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto diff = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return std::max(diff, std::chrono::milliseconds(0));
}

}  // namespace inference::net
