// backends/remote/endpoint_pool.hpp — several servers behind one model: each attempt goes to
// the healthy endpoint with the fewest requests in flight; an endpoint that fails
// `failure_threshold` times in a row is taken out (circuit breaker) and put back when a
// periodic health probe succeeds. This is how scoring spreads over a cluster.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/remote/endpoint_source.hpp"

namespace inference::remote {

struct PoolOptions {
  int32_t failure_threshold = 3;
  std::chrono::milliseconds health_interval{5000};
  std::string health_path = "/models";  ///< GET, relative to the base URL; 2xx = healthy
};

struct EndpointState {
  std::string url;
  bool healthy = true;
  int32_t in_flight = 0;
  int32_t consecutive_failures = 0;
  int64_t requests = 0;
  std::string last_error;
};

class EndpointPool final : public EndpointSource {
 public:
  /// Throws Error(invalid_argument) for an empty list or a bad URL.
  EndpointPool(const std::vector<std::string>& urls, PoolOptions options,
               std::vector<std::pair<std::string, std::string>> headers, std::string secret);
  ~EndpointPool() override;

  EndpointLease acquire(const Context& ctx) override;
  void release(const EndpointLease& lease, const std::optional<std::string>& failure) override;
  std::vector<std::pair<std::string, std::string>> headers() const override { return headers_; }
  std::string redact(std::string text) const override;

  /// A snapshot of every endpoint (tests, `infer backends`).
  std::vector<EndpointState> state() const;
  size_t size() const { return urls_.size(); }
  /// Probes every endpoint once now (the health thread does this every health_interval).
  void check_health();
  /// Stops the health thread. Idempotent.
  void stop();

 private:
  void health_loop();

  std::vector<net::BaseUrl> urls_;
  PoolOptions options_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string secret_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<EndpointState> state_;
  size_t next_ = 0;  // round-robin start among equally loaded endpoints
  bool stopping_ = false;
  Context life_ = Context::background().with_cancel();  // cancelled by stop(): ends a probe
  std::thread health_;
};

}  // namespace inference::remote
