#include "mcp/protocol_version.hpp"

#include <algorithm>

namespace inference::mcp {

const std::vector<std::string>& supported_protocol_versions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                    "2024-11-05"};
  return versions;
}

bool is_supported_protocol_version(std::string_view version) {
  const auto& all = supported_protocol_versions();
  return std::find(all.begin(), all.end(), version) != all.end();
}

std::string negotiate_protocol_version(std::string_view requested) {
  if (is_supported_protocol_version(requested)) return std::string(requested);
  return supported_protocol_versions().front();
}

bool allows_batches(std::string_view version) {
  return version == "2025-03-26";
}

// Revision dates compare as strings.
bool has_structured_content(std::string_view version) {
  return version >= "2025-06-18";
}

}  // namespace inference::mcp
