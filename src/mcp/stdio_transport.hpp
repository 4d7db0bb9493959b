// The stdio transport: newline-delimited JSON-RPC on a pair of streams (stdin/stdout for
// `infer mcp`). Nothing but protocol messages is written to `out`; diagnostics go to the log.
#pragma once

#include <cstdio>
#include <memory>

#include "mcp/session.hpp"

namespace inference::mcp {

/// Serves one session until `in` ends, then cancels the calls still running, waits for them
/// and returns. Lines longer than kMaxFrameBytes are answered with a parse error and skipped.
void serve_stdio(std::shared_ptr<const ServerDefinition> server, std::FILE* in, std::FILE* out);

}  // namespace inference::mcp
