#include "server/api_error.hpp"

namespace inference::server {

const char* openai_error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

const char* anthropic_error_type(int status) {
  // The types of https://docs.anthropic.com/en/api/errors.
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

nlohmann::json error_body(ApiStyle style, const ApiError& error) {
  const std::string message = error.what();
  if (style == ApiStyle::anthropic)
    return {{"type", "error"},
            {"error", {{"type", anthropic_error_type(error.status())}, {"message", message}}}};
  nlohmann::json body = {{"message", message},
                         {"type", openai_error_type(error.status())},
                         {"param", nullptr},
                         {"code", nullptr}};
  if (!error.param().empty()) body["param"] = error.param();
  if (!error.code().empty()) body["code"] = error.code();
  // llama-server's own endpoints report the status as a number in `code`; its clients read it.
  if (style == ApiStyle::llama && error.code().empty()) body["code"] = error.status();
  return {{"error", body}};
}

}  // namespace inference::server
