#include "backends/remote/endpoint_pool.hpp"

#include "inference/log.hpp"

namespace inference::remote {

EndpointPool::EndpointPool(const std::vector<std::string>& urls, PoolOptions options,
                           std::vector<std::pair<std::string, std::string>> headers,
                           std::string secret)
    : options_(std::move(options)), headers_(std::move(headers)), secret_(std::move(secret)) {
  if (urls.empty()) throw Error(ErrorCode::invalid_argument, "no server URL given");
  for (const auto& u : urls) {
    urls_.push_back(net::parse_base_url(u));
    EndpointState s;
    s.url = urls_.back().to_string();
    state_.push_back(std::move(s));
  }
  if (options_.health_interval.count() > 0) health_ = std::thread([this] { health_loop(); });
}

EndpointPool::~EndpointPool() {
  stop();
}

void EndpointPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  life_.cancel();
  wake_.notify_all();
  if (health_.joinable()) health_.join();
}

std::string EndpointPool::redact(std::string text) const {
  if (secret_.empty()) return text;
  for (size_t at = text.find(secret_); at != std::string::npos; at = text.find(secret_, at))
    text.replace(at, secret_.size(), "[redacted]");
  return text;
}

EndpointLease EndpointPool::acquire(const Context&) {
  std::lock_guard lock(mutex_);
  size_t best = state_.size();
  for (size_t k = 0; k < state_.size(); ++k) {
    size_t i = (next_ + k) % state_.size();
    if (!state_[i].healthy) continue;
    if (best == state_.size() || state_[i].in_flight < state_[best].in_flight) best = i;
  }
  if (best == state_.size()) {
    std::string why = "all " + std::to_string(state_.size()) + " endpoint(s) are out of service:";
    for (const auto& s : state_) why += " " + s.url + " (" + s.last_error + ");";
    why.pop_back();
    throw Error(ErrorCode::unavailable, redact(why));
  }
  next_ = (best + 1) % state_.size();
  ++state_[best].in_flight;
  ++state_[best].requests;
  return {best, urls_[best]};
}

void EndpointPool::release(const EndpointLease& lease, const std::optional<std::string>& failure) {
  std::lock_guard lock(mutex_);
  EndpointState& s = state_.at(lease.index);
  --s.in_flight;
  if (!failure) {
    s.consecutive_failures = 0;
    return;
  }
  s.last_error = *failure;
  if (++s.consecutive_failures >= options_.failure_threshold && s.healthy) {
    s.healthy = false;
    log(LogLevel::warning, "http backend: " + s.url + " taken out of service after " +
                               std::to_string(s.consecutive_failures) +
                               " failures in a row: " + redact(*failure));
  }
}

std::vector<EndpointState> EndpointPool::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void EndpointPool::check_health() {
  for (size_t i = 0; i < urls_.size(); ++i) {
    net::HttpRequest probe;
    probe.method = "GET";
    probe.path = options_.health_path;
    probe.headers = headers_;
    net::HttpTimeouts t{timeouts.connect, std::min(timeouts.read, std::chrono::milliseconds(5000))};
    auto r = net::send_http(life_, urls_[i], probe, t, [](std::string_view) { return true; });
    bool ok = r.error == net::TransportError::none && r.status >= 200 && r.status < 300;
    std::lock_guard lock(mutex_);
    EndpointState& s = state_[i];
    if (ok) {
      if (!s.healthy) log(LogLevel::info, "http backend: " + s.url + " is back in service");
      s.healthy = true;
      s.consecutive_failures = 0;
    } else if (!s.healthy) {
      s.last_error = r.error != net::TransportError::none
                         ? r.error_text
                         : "health check answered HTTP " + std::to_string(r.status);
    }
  }
}

void EndpointPool::health_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.health_interval, [&] { return stopping_; });
    if (stopping_) break;
    // Probe only when something is out of service: healthy endpoints prove themselves with
    // real traffic, and a probe storm against a busy cluster helps nobody.
    bool any_out = false;
    for (const auto& s : state_) any_out |= !s.healthy;
    if (!any_out) continue;
    lock.unlock();
    check_health();
    lock.lock();
  }
}

}  // namespace inference::remote
