// What a tool is to the session: a name, schemas and a handler. The handler runs on its own
// thread with a CallScope (cancellation, progress, logging) and returns the structured result;
// it reports failures by throwing ToolError (or inference::Error), which the session turns into
// an `isError: true` result naming the problem.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "inference/context.hpp"

namespace inference::mcp {

/// A failure of one tool call (bad argument, backend error, cancellation): becomes an isError
/// result, never a JSON-RPC error.
struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// MCP log levels (RFC 5424 severities), lowest first.
enum class McpLogLevel { debug, info, notice, warning, error, critical, alert, emergency };
std::optional<McpLogLevel> parse_log_level(const std::string& name);
const char* to_string(McpLogLevel level);

/// What a running call may use besides its arguments.
class CallScope {
 public:
  virtual ~CallScope() = default;
  /// Cancelled by notifications/cancelled, the end of the session or the server's shutdown.
  virtual const Context& context() const = 0;
  /// Sends notifications/progress when the caller asked for it (a progressToken); else nothing.
  /// `progress` must increase from call to call.
  virtual void progress(double progress, std::optional<double> total,
                        const std::string& message) = 0;
  /// Sends notifications/message at `level` if the client's logging level lets it through.
  virtual void log(McpLogLevel level, const std::string& message) = 0;
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  nlohmann::json output_schema;
  bool read_only = false;  ///< annotations.readOnlyHint
  /// Returns the structured result (an object matching output_schema).
  std::function<nlohmann::json(const nlohmann::json& arguments, CallScope& scope)> run;
};

}  // namespace inference::mcp
