// The MCP protocol revisions this server speaks and what differs between them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inference::mcp {

/// Newest first. 2025-11-25 is the newest revision the official TypeScript SDK speaks
/// (LATEST_PROTOCOL_VERSION of @modelcontextprotocol/sdk 1.32); the others are the older
/// revisions it still offers.
const std::vector<std::string>& supported_protocol_versions();

/// The version to answer `initialize` with: the client's if we speak it, else our newest
/// (the client then decides whether it can go on).
std::string negotiate_protocol_version(std::string_view requested);

bool is_supported_protocol_version(std::string_view version);

/// JSON-RPC batches exist in 2025-03-26 only (added there, removed in 2025-06-18).
bool allows_batches(std::string_view version);

/// Tool output schemas, structuredContent and titles arrived in 2025-06-18.
bool has_structured_content(std::string_view version);

}  // namespace inference::mcp
