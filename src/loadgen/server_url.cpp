#include "loadgen/server_url.hpp"

#include <charconv>

#include "inference/error.hpp"

namespace inference::loadgen {
namespace {

[[noreturn]] void bad(std::string_view url, const std::string& why) {
  throw Error(ErrorCode::invalid_argument, "bad server URL '" + std::string(url) + "': " + why);
}

}  // namespace

ServerUrl parse_server_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    bad(url, url.find("://") != std::string_view::npos ? "only http:// is supported"
                                                       : "expected http://HOST[:PORT]");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) bad(url, "no query or fragment allowed");
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) bad(url, "no user info allowed");

  ServerUrl out;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) bad(url, "unclosed '[' in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad(url, "expected ':PORT' after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) bad(url, "empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) bad(url, "empty port");
    }
  }
  if (out.host.empty()) bad(url, "empty host");
  if (!port_text.empty()) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      bad(url, "port '" + std::string(port_text) + "' is not a number in 1..65535");
    out.port = port;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix = std::string(path);
  return out;
}

}  // namespace inference::loadgen
