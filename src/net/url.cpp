#include "net/url.hpp"

#include <charconv>

#include "inference/error.hpp"

namespace inference::net {
namespace {

[[noreturn]] void bad(std::string_view url, const std::string& why) {
  throw Error(ErrorCode::invalid_argument, "bad server URL '" + std::string(url) + "': " + why);
}

}  // namespace

std::string BaseUrl::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

BaseUrl parse_base_url(std::string_view url) {
  BaseUrl out;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) bad(url, "expected http://host[:port][/path]");
  out.scheme = std::string(url.substr(0, sep));
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https")
    bad(url, "the scheme must be http or https, not '" + out.scheme + "'");
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    bad(url, "credentials in the URL are not accepted; use an API key");
  if (path.find_first_of("?#") != std::string_view::npos)
    bad(url, "a base URL has no query or fragment");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) bad(url, "unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad(url, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) bad(url, "no host");
  if (port_text.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      bad(url, "the port must be a number in 1..65535");
    out.port = port;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path = std::string(path);
  return out;
}

}  // namespace inference::net
