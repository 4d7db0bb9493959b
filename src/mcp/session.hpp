// One MCP session: the lifecycle (initialize, version negotiation, initialized), and the
// dispatch of requests and notifications to tools, resources and logging. Transport-neutral:
// a transport hands it whole frames and gives it an Outbound to write what it produces.
//
// Threading: receive() may be called from any thread (calls are serialised only where state is
// shared). Each tools/call runs on its own thread so that notifications/cancelled and other
// requests are handled while it runs; its result (and its progress and log notifications) go
// to the Outbound of the frame that carried the call, possibly after receive() returned.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/activity.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/tool.hpp"

namespace inference::mcp {

/// Receives every message a frame produces. Thread-safe on the transport's side. A null json
/// means "a request of this frame finished without a reply" (it was cancelled by the client,
/// and MCP says not to answer it), so a transport waiting for N replies can count it.
using Outbound = std::function<void(const json& message)>;

/// The model resources (resources/list, resources/read).
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  /// The `resources` array of resources/list.
  virtual json list() = 0;
  /// The `contents` array of resources/read; throws RpcError(resource_not_found) for unknown URIs.
  virtual json read(const std::string& uri) = 0;
};

/// What every session of one server shares.
struct ServerDefinition {
  std::string name = "infer";
  std::string version;
  std::string instructions;
  std::vector<Tool> tools;
  std::shared_ptr<ResourceProvider> resources;  ///< may be null: no resources capability
  std::shared_ptr<Activity> activity = std::make_shared<Activity>();
  /// Most tools/call running at once in one session; more are refused with a tool error.
  std::size_t max_concurrent_calls = 16;
};

class Session {
 public:
  explicit Session(std::shared_ptr<const ServerDefinition> server);
  /// Cancels the calls still running and waits for them.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Handles one frame (a message or, in 2025-03-26, a batch). Returns how many replies will
  /// reach `out` for it (0 when it held only notifications or responses; a batch counts as 1);
  /// replies to tool calls arrive later, from the call's thread.
  std::size_t receive(std::string_view frame, const Outbound& out);

  /// Cancels every running call (end of session, shutdown). Their replies say "cancelled".
  void cancel_all();
  /// Blocks until no call is running.
  void wait_idle();

  bool initialized() const { return initialized_.load(); }
  /// The negotiated revision ("" before initialize).
  std::string protocol_version() const;
  std::size_t calls_in_flight() const;

 private:
  struct Call;
  class Reply;
  class Scope;

  void handle(const Incoming& message, const std::shared_ptr<Reply>& reply, const Outbound& out);
  json dispatch(const Incoming& request);
  json initialize(const json& params);
  json list_tools() const;
  void start_tool_call(const Incoming& request, const std::shared_ptr<Reply>& reply,
                       const Outbound& out);
  void run_tool_call(const Tool& tool, const json& arguments, const json& id, const json& token,
                     const std::shared_ptr<Call>& call, const std::shared_ptr<Reply>& reply,
                     const Outbound& out);
  void on_cancelled(const json& params);
  void reap_finished();
  json tool_result(const json& structured) const;
  static json tool_error(const std::string& message);

  std::shared_ptr<const ServerDefinition> server_;
  mutable std::mutex mutex_;
  std::string protocol_version_;
  std::atomic<bool> initialized_{false};
  std::atomic<int> log_level_{static_cast<int>(McpLogLevel::info)};
  std::map<std::string, std::shared_ptr<Call>> calls_;  // by request id (dumped)
  std::vector<std::shared_ptr<Call>> threads_;          // every call thread not yet joined
};

}  // namespace inference::mcp
