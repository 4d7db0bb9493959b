#include "server/auth.hpp"

namespace inference::server {

namespace {

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[b.empty() ? 0 : i % b.size()]);
  return diff == 0 && !b.empty();
}

}  // namespace

bool api_key_matches(std::string_view authorization, std::string_view x_api_key,
                     std::string_view key) {
  if (key.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer &&
      equal_constant_time(authorization.substr(kBearer.size()), key))
    return true;
  return !x_api_key.empty() && equal_constant_time(x_api_key, key);
}

}  // namespace inference::server
