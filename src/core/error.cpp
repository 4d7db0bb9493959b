#include "inference/error.hpp"

namespace inference {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok:
      return "ok";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::invalid_model:
      return "invalid_model";
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::unsupported:
      return "unsupported";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::not_registered:
      return "not_registered";
    case ErrorCode::cancelled:
      return "cancelled";
    case ErrorCode::deadline_exceeded:
      return "deadline_exceeded";
    case ErrorCode::out_of_memory:
      return "out_of_memory";
    case ErrorCode::backend:
      return "backend";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string out(inference::to_string(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace inference
