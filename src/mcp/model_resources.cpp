#include "mcp/model_resources.hpp"

#include <cctype>
#include <cstdio>

namespace inference::mcp {
namespace {

json describe(const ModelPool::Known& m) {
  return {{"id", m.id},
          {"name", m.info.name},
          {"format", m.info.format},
          {"architecture", m.info.architecture},
          {"quantization", m.info.quantization},
          {"size_bytes", m.info.size_bytes},
          {"context_length", m.info.context_length},
          {"parameter_count", m.info.parameter_count}};
}

}  // namespace

std::string ModelResources::uri_of(const std::string& id) {
  std::string uri = "model://";
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      uri += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      uri += buf;
    }
  }
  return uri;
}

json ModelResources::list() {
  json out = json::array();
  for (const auto& m : models_->known_models()) {
    std::string description = m.info.architecture.empty() ? "model" : m.info.architecture;
    if (!m.info.quantization.empty()) description += ", " + m.info.quantization;
    description += ", " + std::to_string(m.info.size_bytes) + " bytes";
    json entry{{"uri", uri_of(m.id)},
               {"name", m.id},
               {"description", description},
               {"mimeType", "application/json"}};
    if (!m.info.name.empty()) entry["title"] = m.info.name;
    out.push_back(std::move(entry));
  }
  return out;
}

json ModelResources::read(const std::string& uri) {
  for (const auto& m : models_->known_models()) {
    if (uri_of(m.id) == uri) {
      return json::array(
          {{{"uri", uri},
            {"mimeType", "application/json"},
            {"text", describe(m).dump(2, ' ', false, json::error_handler_t::replace)}}});
    }
  }
  throw RpcError{rpc_error::resource_not_found, "resource not found: " + uri};
}

}  // namespace inference::mcp
