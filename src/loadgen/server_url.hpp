// The address a load generator talks to: "http://host:port[/prefix]" split into its parts.
#pragma once

#include <string>
#include <string_view>

namespace inference::loadgen {

struct ServerUrl {
  std::string host;  ///< "127.0.0.1", "localhost", "[::1]" kept without brackets: "::1"
  int port = 80;
  std::string prefix;  ///< path before /v1/... ("" or "/api"); never ends in '/'
};

/// Parses "http://HOST[:PORT][/PREFIX]". Only plain http (this tool measures servers, usually on
/// loopback; TLS would measure the TLS library). Throws inference::Error(invalid_argument) naming
/// what is wrong: another scheme, an empty host, a port outside 1..65535, a query or fragment.
ServerUrl parse_server_url(std::string_view url);

}  // namespace inference::loadgen
