// server/api_error.hpp — an HTTP error as each API spells it.
//
// Handlers throw ApiError for anything the client did wrong (or a state it must wait out);
// the server renders it in the shape of the API the request was for, so the official SDKs
// raise their own error types: OpenAI {"error":{message,type,param,code}}, Anthropic
// {"type":"error","error":{type,message}}.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace inference::server {

/// Which API's error shape a response uses.
enum class ApiStyle { openai, anthropic, llama };

class ApiError : public std::runtime_error {
 public:
  /// `param` names the offending field ("messages[2].role"), "" when none; `code` is the
  /// OpenAI machine code ("context_length_exceeded"), "" for null.
  ApiError(int status, std::string message, std::string param = {}, std::string code = {})
      : std::runtime_error(std::move(message)),
        status_(status),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const noexcept { return status_; }
  const std::string& param() const noexcept { return param_; }
  const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string param_;
  std::string code_;
};

/// 400 naming a field: the common case of request parsing.
inline ApiError bad_field(const std::string& param, const std::string& message) {
  return ApiError(400, message, param);
}

/// The response body for `error` in `style`.
nlohmann::json error_body(ApiStyle style, const ApiError& error);

/// The OpenAI `type` for a status (invalid_request_error, authentication_error, …).
const char* openai_error_type(int status);
/// The Anthropic `type` for a status (invalid_request_error, rate_limit_error, …).
const char* anthropic_error_type(int status);

}  // namespace inference::server
