// Base URL parsing and the retry policy's delays and Retry-After reading.
#include <gtest/gtest.h>

#include "inference/error.hpp"
#include "net/retry_policy.hpp"
#include "net/url.hpp"

namespace inference::net {
namespace {

using std::chrono::milliseconds;

TEST(BaseUrl, ParsesSchemeHostPortAndPath) {
  auto u = parse_base_url("http://127.0.0.1:8080/v1/");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "/v1");
  EXPECT_EQ(u.to_string(), "http://127.0.0.1:8080/v1");
  auto s = parse_base_url("HTTPS://api.example.com");
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(s.path, "");
  auto v6 = parse_base_url("http://[::1]:9000/x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.origin(), "http://[::1]:9000");
}

TEST(BaseUrl, RejectsWhatItCannotUse) {
  for (const char* bad : {"localhost:8080", "ftp://h/", "http://:80/", "http://h:0/", "http://h:x/",
                          "http://u:p@h/", "http://h/v1?x=1", "http://[::1/"}) {
    try {
      parse_base_url(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("bad server URL"), std::string::npos);
    }
  }
}

TEST(RetryPolicy, BacksOffExponentiallyWithJitterAndHonoursRetryAfter) {
  RetryPolicy p{
      .max_attempts = 5, .base_delay = milliseconds(100), .max_delay = milliseconds(1000)};
  for (int i = 0; i < 50; ++i) {
    auto d1 = p.delay(1, std::nullopt);
    EXPECT_GE(d1, milliseconds(50));
    EXPECT_LE(d1, milliseconds(100));
    auto d3 = p.delay(3, std::nullopt);
    EXPECT_GE(d3, milliseconds(200));
    EXPECT_LE(d3, milliseconds(400));
    EXPECT_LE(p.delay(30, std::nullopt), milliseconds(1000));
  }
  EXPECT_GE(p.delay(1, milliseconds(700)), milliseconds(700));
  EXPECT_EQ(p.delay(1, milliseconds(60000)), milliseconds(1000));  // capped
}

TEST(RetryAfter, SecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("3"), milliseconds(3000));
  EXPECT_EQ(parse_retry_after(" 0 "), milliseconds(0));
  EXPECT_FALSE(parse_retry_after("-1").has_value());
  EXPECT_FALSE(parse_retry_after("soon").has_value());
  EXPECT_FALSE(parse_retry_after("").has_value());
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), milliseconds(10000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now), milliseconds(0));
}

}  // namespace
}  // namespace inference::net
