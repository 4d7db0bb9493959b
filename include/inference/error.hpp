// inference/error.hpp — error codes, the Status value and the exception type of the contract.
//
// Load and configuration failures throw inference::Error. Streams never throw from iteration;
// they end and report a Status through err(). Standard library only.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace inference {

/// What went wrong, independent of the message text. Stable: new codes are only appended.
enum class ErrorCode {
  ok = 0,             ///< No error.
  not_found,          ///< A file, directory, model or key does not exist.
  invalid_model,      ///< A model file is malformed (bad header, offsets, sizes, metadata).
  invalid_argument,   ///< A caller-supplied argument or request is invalid.
  unsupported,        ///< Well-formed, but uses something this build does not implement.
  unavailable,        ///< A backend is registered but cannot run here (no GPU, no binary).
  not_registered,     ///< No backend of that name is linked into this program.
  cancelled,          ///< The Context was cancelled.
  deadline_exceeded,  ///< The Context's deadline passed.
  out_of_memory,      ///< An allocation the operation needed could not be made.
  backend,            ///< The backend failed at run time (I/O, subprocess, remote server, …).
};

/// The stable lowercase name of a code ("not_found", "deadline_exceeded", …).
std::string_view to_string(ErrorCode code) noexcept;

/// The outcome of an operation that reports instead of throwing (streams, batch items).
/// A default-constructed Status is ok. Value type; cheap to copy when ok.
struct Status {
  ErrorCode code = ErrorCode::ok;
  std::string message;  ///< Human-readable; names the file, field or request at fault.

  bool ok() const noexcept { return code == ErrorCode::ok; }
  explicit operator bool() const noexcept { return !ok(); }  ///< true when there IS an error.
  /// "code: message", or "ok".
  std::string to_string() const;
};

/// The exception thrown at API boundaries (load, configuration, registry). what() is the message
/// only; code() tells the kind. Thread-safe to copy and read like any std::exception.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  explicit Error(const Status& status) : Error(status.code, status.message) {}

  ErrorCode code() const noexcept { return code_; }
  Status status() const { return {code_, what()}; }

 private:
  ErrorCode code_;
};

}  // namespace inference
