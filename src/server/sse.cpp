#include "server/sse.hpp"

namespace inference::server {

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sse_data(const nlohmann::json& value) {
  std::string out = "data: ";
  out += json_text(value);
  out += "\n\n";
  return out;
}

std::string sse_event(std::string_view name, const nlohmann::json& value) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += json_text(value);
  out += "\n\n";
  return out;
}

nlohmann::json utf8_bytes(std::string_view text) {
  nlohmann::json bytes = nlohmann::json::array();
  for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace inference::server
