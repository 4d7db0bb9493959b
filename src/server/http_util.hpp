// server/http_util.hpp — the glue between cpp-httplib and the endpoints: JSON and error
// responses, exception mapping, and serving a GenerationJob as a (streamed) response. Internal.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "inference/error.hpp"
#include "server/api_error.hpp"
#include "server/generation_job.hpp"
#include "server/server_state.hpp"

namespace inference::server {

using HttpHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
/// The error in `style`'s shape; 429 and 503 carry Retry-After.
void send_error(httplib::Response& res, ApiStyle style, const ApiError& error);

/// The HTTP status for a library error (invalid_argument → 400, unavailable → 503, …).
int status_for(ErrorCode code);
/// ApiError for a library Status (its message, its status).
ApiError api_error_for(const Status& status);

/// Wraps a handler: ApiError, inference::Error and any other exception become an error
/// response in `style` instead of escaping into the HTTP library.
HttpHandler guarded(ApiStyle style, HttpHandler handler);

/// Turns a job's events into response bytes. Called on the response thread only.
class JobWriter {
 public:
  virtual ~JobWriter() = default;
  /// Bytes to send for one event ("" = nothing yet).
  virtual std::string on_event(JobEvent& event) = 0;
  /// Bytes to send once every choice has ended.
  virtual std::string finish() = 0;
};

/// Serves `job` as the response: chunked transfer, generation on the job's workers, every
/// event written as it comes. The client's disconnect (seen by a failed write or by the
/// socket check) cancels the job. `content_type` is text/event-stream for streams and
/// application/json for whole responses (written at the end).
void serve_job(httplib::Response& res, std::shared_ptr<GenerationJob> job,
               std::shared_ptr<JobWriter> writer, const std::string& content_type);

/// The API whose error shape a path uses.
ApiStyle style_for_path(const std::string& path);

}  // namespace inference::server
