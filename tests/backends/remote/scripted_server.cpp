#include "backends/remote/scripted_server.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace inference::test {

ScriptedServer::ScriptedServer(
    const std::function<void(httplib::Server&, ScriptedServer&)>& setup) {
  setup(server_, *this);
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("scripted server: cannot bind a port");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ScriptedServer::~ScriptedServer() {
  stopping_ = true;
  server_.stop();
  thread_.join();
}

void ScriptedServer::record(const httplib::Request& req) {
  std::lock_guard lock(mutex_);
  requests_.push_back({req.method, req.path, req.body, req.get_header_value("Authorization"),
                       std::chrono::steady_clock::now()});
}

std::vector<RecordedRequest> ScriptedServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t ScriptedServer::count(const std::string& path) const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& r : requests_) n += r.path == path;
  return n;
}

void ScriptedServer::stream(httplib::Response& res, std::vector<std::string> events,
                            std::chrono::milliseconds pause, int reset_after,
                            const ScriptedServer* owner) {
  res.set_chunked_content_provider(
      "text/event-stream",
      [events = std::move(events), pause, reset_after, owner](size_t, httplib::DataSink& sink) {
        for (size_t i = 0; i < events.size(); ++i) {
          if (reset_after >= 0 && static_cast<int>(i) >= reset_after) return false;  // drop
          if (i > 0 && pause.count() > 0) {
            auto until = std::chrono::steady_clock::now() + pause;
            while (std::chrono::steady_clock::now() < until) {
              if (owner && owner->stopping()) return false;
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
          }
          if (!sink.write(events[i].data(), events[i].size())) return false;
        }
        sink.done();
        return true;
      });
}

std::string completion_chunk(const std::string& text, const std::string& finish) {
  nlohmann::json choice = {{"index", 0}, {"text", text}};
  choice["finish_reason"] = finish.empty() ? nlohmann::json() : nlohmann::json(finish);
  return "data: " + nlohmann::json({{"choices", {choice}}}).dump() + "\n\n";
}

}  // namespace inference::test
