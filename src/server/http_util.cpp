#include "server/http_util.hpp"

#include "inference/log.hpp"
#include "server/sse.hpp"

namespace inference::server {

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

void send_error(httplib::Response& res, ApiStyle style, const ApiError& error) {
  if (error.status() == 429 || error.status() == 503) res.set_header("Retry-After", "1");
  send_json(res, error.status(), error_body(style, error));
}

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return 400;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::unsupported:
      return 400;
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::cancelled:
      return 499;  // the client closed the request (nginx's convention)
    case ErrorCode::deadline_exceeded:
      return 504;
    default:
      return 500;
  }
}

ApiError api_error_for(const Status& status) {
  return ApiError(status_for(status.code),
                  status.message.empty() ? std::string(to_string(status.code)) : status.message);
}

HttpHandler guarded(ApiStyle style, HttpHandler handler) {
  return [style, handler = std::move(handler)](const httplib::Request& req,
                                               httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const ApiError& e) {
      send_error(res, style, e);
    } catch (const Error& e) {
      send_error(res, style, api_error_for(e.status()));
    } catch (const std::bad_alloc&) {
      send_error(res, style, ApiError(500, "out of memory while handling the request"));
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("server: ") + req.method + " " + req.path + ": " + e.what());
      send_error(res, style, ApiError(500, std::string("internal error: ") + e.what()));
    }
  };
}

void serve_job(httplib::Response& res, std::shared_ptr<GenerationJob> job,
               std::shared_ptr<JobWriter> writer, const std::string& content_type) {
  job->start_early();  // a refusal by the backend is still a 4xx, before any byte is sent
  res.status = 200;
  if (content_type == "text/event-stream") {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");  // proxies must not hold events back
  }
  res.set_chunked_content_provider(
      content_type, [job, writer](size_t /*offset*/, httplib::DataSink& sink) {
        auto write = [&](const std::string& bytes) {
          return bytes.empty() || sink.write(bytes.data(), bytes.size());
        };
        const bool completed =
            job->run([&] { return sink.is_writable(); },
                     [&](JobEvent& event) { return write(writer->on_event(event)); });
        if (!completed || !write(writer->finish())) return false;  // the connection is dropped
        sink.done();
        return true;
      });
}

ApiStyle style_for_path(const std::string& path) {
  if (path.rfind("/v1/messages", 0) == 0) return ApiStyle::anthropic;
  if (path.rfind("/v1/", 0) == 0 || path == "/chat/completions" || path == "/completions" ||
      path == "/models" || path == "/embeddings")
    return ApiStyle::openai;
  return ApiStyle::llama;
}

}  // namespace inference::server
