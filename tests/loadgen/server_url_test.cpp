#include "loadgen/server_url.hpp"

#include <gtest/gtest.h>

#include "inference/error.hpp"

namespace inference::loadgen {
namespace {

TEST(ServerUrl, HostPortPrefix) {
  ServerUrl u = parse_server_url("http://127.0.0.1:8080");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.prefix, "");
  u = parse_server_url("http://localhost/api/");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.prefix, "/api");
  u = parse_server_url("http://[::1]:9000/");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.prefix, "");
}

TEST(ServerUrl, BadUrlsNameTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://x", "only http://"},  {"127.0.0.1:8080", "expected http://"},
      {"http://", "empty host"},      {"http://:80", "empty host"},
      {"http://x:", "empty port"},    {"http://x:0", "1..65535"},
      {"http://x:65536", "1..65535"}, {"http://x:8a", "1..65535"},
      {"http://x/?q=1", "query"},     {"http://u@x", "user info"},
      {"http://[::1", "unclosed"},    {"http://[::1]x", "':PORT'"},
  };
  for (const auto& [url, what] : cases) {
    try {
      parse_server_url(url);
      ADD_FAILURE() << url << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << url << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace inference::loadgen
