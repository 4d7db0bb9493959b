#include "mcp/session.hpp"

#include <thread>

#include "inference/error.hpp"
#include "mcp/protocol_version.hpp"
#include "mcp/schema_check.hpp"

namespace inference::mcp {

namespace {

// Model output may hold bytes that are not UTF-8; replace them instead of throwing.
std::string dump_lenient(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* const kLevelNames[] = {"debug", "info",     "notice", "warning",
                                   "error", "critical", "alert",  "emergency"};

}  // namespace

std::optional<McpLogLevel> parse_log_level(const std::string& name) {
  for (int i = 0; i < 8; ++i) {
    if (name == kLevelNames[i]) return static_cast<McpLogLevel>(i);
  }
  return std::nullopt;
}

const char* to_string(McpLogLevel level) {
  return kLevelNames[static_cast<int>(level)];
}

// A running tools/call.
struct Session::Call {
  std::string key;
  Context context;
  std::atomic<bool> silenced{false};  // cancelled by the client: no reply (MCP)
  std::atomic<bool> done{false};
  std::thread thread;
};

// Where the reply of one request goes: straight to the frame's Outbound, or, for a batch, into
// one array that is sent when its last reply is in.
class Session::Reply {
 public:
  explicit Reply(Outbound out, std::size_t batch_size = 0)
      : out_(std::move(out)), batch_size_(batch_size) {}

  void send(json message) { deliver(std::move(message), false); }
  /// The request was cancelled by the client: no reply, except inside a batch (which must
  /// answer every request of it).
  void send_or_silence(json message, bool silence) { deliver(std::move(message), silence); }

 private:
  void deliver(json message, bool silence) {
    if (batch_size_ == 0) {
      out_(silence ? json() : std::move(message));
      return;
    }
    std::unique_lock lock(mutex_);
    replies_.push_back(std::move(message));
    if (replies_.size() < batch_size_) return;
    json all = std::move(replies_);
    lock.unlock();
    out_(all);
  }

  Outbound out_;
  std::size_t batch_size_;
  std::mutex mutex_;
  json replies_ = json::array();
};

// CallScope of one call: its context, and its progress and log notifications, which go to the
// Outbound of the frame that carried the call (so over HTTP they share its SSE stream).
class Session::Scope : public CallScope {
 public:
  Scope(Context context, json progress_token, Outbound out, const std::atomic<int>& level)
      : context_(std::move(context)),
        token_(std::move(progress_token)),
        out_(std::move(out)),
        level_(level) {}

  const Context& context() const override { return context_; }

  void progress(double progress, std::optional<double> total, const std::string& message) override {
    if (token_.is_null() || context_.cancelled()) return;
    json params{{"progressToken", token_}, {"progress", progress}};
    if (total) params["total"] = *total;
    if (!message.empty()) params["message"] = message;
    out_(make_notification("notifications/progress", std::move(params)));
  }

  void log(McpLogLevel level, const std::string& message) override {
    if (static_cast<int>(level) < level_.load()) return;
    out_(make_notification("notifications/message",
                           {{"level", to_string(level)}, {"logger", "infer"}, {"data", message}}));
  }

 private:
  Context context_;
  json token_;
  Outbound out_;
  const std::atomic<int>& level_;
};

Session::Session(std::shared_ptr<const ServerDefinition> server) : server_(std::move(server)) {}

Session::~Session() {
  cancel_all();
  wait_idle();
}

std::string Session::protocol_version() const {
  std::lock_guard lock(mutex_);
  return protocol_version_;
}

std::size_t Session::calls_in_flight() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

void Session::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& [key, call] : calls_) call->context.cancel();
}

void Session::wait_idle() {
  for (;;) {
    std::vector<std::shared_ptr<Call>> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    if (threads.empty()) return;
    for (auto& call : threads) {
      if (call->thread.joinable()) call->thread.join();
    }
  }
}

void Session::reap_finished() {
  std::vector<std::shared_ptr<Call>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = threads_.begin(); it != threads_.end();) {
      if ((*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& call : finished) {
    if (call->thread.joinable()) call->thread.join();
  }
}

std::size_t Session::receive(std::string_view text, const Outbound& out) {
  reap_finished();
  Frame frame = parse_frame(text);
  if (frame.error_response) {
    out(*frame.error_response);
    return 1;
  }
  if (frame.batch) {
    std::string version = protocol_version();
    if (!allows_batches(version)) {
      out(make_error(nullptr, rpc_error::invalid_request,
                     version.empty()
                         ? "a batch cannot come before initialize (which must be sent alone)"
                         : "JSON-RPC batches are not part of MCP revision " + version +
                               " (only 2025-03-26 has them)"));
      return 1;
    }
    std::size_t replies = 0;
    for (const auto& m : frame.messages) {
      if (m.kind == Incoming::Kind::request || m.kind == Incoming::Kind::invalid) ++replies;
    }
    auto reply = replies ? std::make_shared<Reply>(out, replies) : nullptr;
    for (const auto& m : frame.messages) {
      if (m.kind == Incoming::Kind::request && m.method == "initialize") {
        reply->send(
            make_error(m.id, rpc_error::invalid_request, "initialize must not be part of a batch"));
        continue;
      }
      handle(m, reply, out);
    }
    return replies ? 1 : 0;
  }
  const Incoming& m = frame.messages.front();
  if (m.kind == Incoming::Kind::notification || m.kind == Incoming::Kind::response) {
    handle(m, nullptr, out);
    return 0;
  }
  handle(m, std::make_shared<Reply>(out), out);
  return 1;
}

void Session::handle(const Incoming& m, const std::shared_ptr<Reply>& reply, const Outbound& out) {
  switch (m.kind) {
    case Incoming::Kind::invalid:
      reply->send(make_error(m.id, rpc_error::invalid_request, m.error));
      return;
    case Incoming::Kind::response:
      return;  // we send no requests, so there is nothing to match a response with
    case Incoming::Kind::notification:
      if (m.method == "notifications/initialized") {
        initialized_ = true;
      } else if (m.method == "notifications/cancelled") {
        on_cancelled(m.params);
      }
      return;  // other notifications (progress, roots changed, …) need nothing from us
    case Incoming::Kind::request:
      break;
  }
  try {
    if (!m.params.is_null() && !m.params.is_object()) {
      throw RpcError{rpc_error::invalid_params, m.method + ": params must be an object"};
    }
    if (m.method != "initialize" && m.method != "ping" && protocol_version().empty()) {
      throw RpcError{rpc_error::invalid_request,
                     m.method + ": the session is not initialized (send initialize first)"};
    }
    if (m.method == "tools/call") {
      start_tool_call(m, reply, out);
      return;
    }
    reply->send(make_result(m.id, dispatch(m)));
  } catch (const RpcError& e) {
    reply->send(make_error(m.id, e.code, e.message));
  } catch (const std::exception& e) {
    reply->send(make_error(m.id, rpc_error::internal_error, m.method + ": " + e.what()));
  }
}

json Session::dispatch(const Incoming& request) {
  const std::string& method = request.method;
  const json params = request.params.is_object() ? request.params : json::object();
  if (method == "initialize") return initialize(params);
  if (method == "ping") return json::object();
  if (method == "tools/list") return list_tools();
  if (method == "logging/setLevel") {
    auto it = params.find("level");
    auto level = it != params.end() && it->is_string() ? parse_log_level(it->get<std::string>())
                                                       : std::nullopt;
    if (!level) {
      throw RpcError{rpc_error::invalid_params,
                     "logging/setLevel: \"level\" must be one of debug, info, notice, warning, "
                     "error, critical, alert, emergency"};
    }
    log_level_ = static_cast<int>(*level);
    return json::object();
  }
  if (server_->resources) {
    if (method == "resources/list") return {{"resources", server_->resources->list()}};
    if (method == "resources/templates/list") return {{"resourceTemplates", json::array()}};
    if (method == "resources/read") {
      auto it = params.find("uri");
      if (it == params.end() || !it->is_string()) {
        throw RpcError{rpc_error::invalid_params, "resources/read: \"uri\" must be a string"};
      }
      return {{"contents", server_->resources->read(it->get<std::string>())}};
    }
  }
  throw RpcError{rpc_error::method_not_found, "method not found: " + method};
}

json Session::initialize(const json& params) {
  auto it = params.find("protocolVersion");
  if (it == params.end() || !it->is_string()) {
    throw RpcError{rpc_error::invalid_params, "initialize: \"protocolVersion\" must be a string"};
  }
  std::string version;
  {
    std::lock_guard lock(mutex_);
    if (!protocol_version_.empty()) {
      throw RpcError{rpc_error::invalid_request, "initialize: the session is already initialized"};
    }
    protocol_version_ = negotiate_protocol_version(it->get<std::string>());
    version = protocol_version_;
  }
  json capabilities{{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
  if (server_->resources) {
    capabilities["resources"] = {{"listChanged", false}, {"subscribe", false}};
  }
  json result{{"protocolVersion", version},
              {"capabilities", std::move(capabilities)},
              {"serverInfo", {{"name", server_->name}, {"version", server_->version}}}};
  if (!server_->instructions.empty()) result["instructions"] = server_->instructions;
  return result;
}

json Session::list_tools() const {
  std::string version = protocol_version();
  json tools = json::array();
  for (const auto& tool : server_->tools) {
    json entry{
        {"name", tool.name}, {"description", tool.description}, {"inputSchema", tool.input_schema}};
    if (has_structured_content(version)) {
      if (!tool.title.empty()) entry["title"] = tool.title;
      if (!tool.output_schema.is_null()) entry["outputSchema"] = tool.output_schema;
    }
    if (version >= "2025-03-26") {
      entry["annotations"] = {{"readOnlyHint", tool.read_only}, {"openWorldHint", false}};
    }
    tools.push_back(std::move(entry));
  }
  return {{"tools", std::move(tools)}};
}

json Session::tool_result(const json& structured) const {
  json result{{"content", json::array({{{"type", "text"}, {"text", dump_lenient(structured)}}})},
              {"isError", false}};
  if (has_structured_content(protocol_version())) result["structuredContent"] = structured;
  return result;
}

json Session::tool_error(const std::string& message) {
  return {{"content", json::array({{{"type", "text"}, {"text", message}}})}, {"isError", true}};
}

void Session::start_tool_call(const Incoming& request, const std::shared_ptr<Reply>& reply,
                              const Outbound& out) {
  const json& params = request.params;
  auto name_it = params.is_object() ? params.find("name") : params.end();
  if (!params.is_object() || name_it == params.end() || !name_it->is_string()) {
    throw RpcError{rpc_error::invalid_params, "tools/call: \"name\" must be a string"};
  }
  const std::string name = name_it->get<std::string>();
  const Tool* tool = nullptr;
  for (const auto& t : server_->tools) {
    if (t.name == name) tool = &t;
  }
  if (!tool) {
    throw RpcError{rpc_error::invalid_params,
                   "tools/call: unknown tool \"" + name + "\" (tools/list names the tools)"};
  }
  json arguments = params.contains("arguments") ? params["arguments"] : json::object();
  json token;
  if (auto meta = params.find("_meta"); meta != params.end() && meta->is_object()) {
    auto t = meta->find("progressToken");
    if (t != meta->end() && (t->is_string() || t->is_number_integer())) token = *t;
  }

  auto call = std::make_shared<Call>();
  call->key = request.id.dump();
  call->context = Context::background().with_cancel();
  std::unique_lock lock(mutex_);
  if (calls_.count(call->key)) {
    throw RpcError{rpc_error::invalid_request,
                   "tools/call: request id " + call->key + " is already in use by a running call"};
  }
  if (calls_.size() >= server_->max_concurrent_calls) {
    std::size_t running = calls_.size();
    lock.unlock();
    reply->send(make_result(
        request.id, tool_error(name + ": too many calls in flight (" + std::to_string(running) +
                               "); retry when one has finished")));
    return;
  }
  calls_[call->key] = call;
  threads_.push_back(call);
  // Started under the lock so that wait_idle() never sees the call without its thread.
  call->thread = std::thread(
      [this, call, tool, arguments = std::move(arguments), token = std::move(token), reply, out,
       id = request.id] { run_tool_call(*tool, arguments, id, token, call, reply, out); });
}

void Session::run_tool_call(const Tool& tool, const json& arguments, const json& id,
                            const json& token, const std::shared_ptr<Call>& call,
                            const std::shared_ptr<Reply>& reply, const Outbound& out) {
  Scope scope(call->context, token, out, log_level_);
  auto activity = server_->activity;
  uint64_t handle = activity->begin_call(tool.name);
  json response;
  try {
    if (!arguments.is_object()) throw ToolError("arguments must be an object");
    std::string problem = check_schema(tool.input_schema, arguments);
    if (!problem.empty()) throw ToolError("invalid arguments: " + problem);
    json structured = tool.run(arguments, scope);
    response = make_result(id, tool_result(structured));
  } catch (const ToolError& e) {
    response = make_result(id, tool_error(tool.name + ": " + e.what()));
  } catch (const Error& e) {
    response = make_result(
        id, tool_error(tool.name + ": " + std::string(to_string(e.code())) + ": " + e.what()));
  } catch (const std::exception& e) {
    response = make_result(id, tool_error(tool.name + ": internal error: " + e.what()));
  }
  activity->end_call(handle);
  {
    std::lock_guard lock(mutex_);
    calls_.erase(call->key);
  }
  reply->send_or_silence(std::move(response), call->silenced.load());
  call->done = true;
}

void Session::on_cancelled(const json& params) {
  if (!params.is_object()) return;
  auto it = params.find("requestId");
  if (it == params.end() || !(it->is_string() || it->is_number_integer())) return;
  std::lock_guard lock(mutex_);
  auto call = calls_.find(it->dump());
  if (call == calls_.end()) return;  // finished already, or never ours: MCP says ignore
  call->second->silenced = true;
  call->second->context.cancel();
}

}  // namespace inference::mcp
