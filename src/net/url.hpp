// net/url.hpp — the base URL of a remote server ("http://host:port/v1").
#pragma once

#include <string>
#include <string_view>

namespace inference::net {

struct BaseUrl {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets for IPv6
  int port = 0;
  std::string path;  ///< prefix without trailing slash ("" or "/v1")

  /// "scheme://host:port" — what an HTTP client connects to.
  std::string origin() const;
  /// origin() + path: the URL as a person would write it (used in messages).
  std::string to_string() const { return origin() + path; }
};

/// Parses an http(s) base URL. Throws Error(invalid_argument) naming the URL and what is wrong
/// (scheme, empty host, bad port, query or fragment). Userinfo is rejected so that a credential
/// never ends up in messages.
BaseUrl parse_base_url(std::string_view url);

}  // namespace inference::net
