// backends/remote/remote_stream.hpp — a TokenStream fed by a streamed (SSE) remote request.
//
// cpp-httplib reads a response by pushing bytes into a callback, while a TokenStream is pulled
// by its consumer, so the request runs on a thread of its own and hands tokens over through a
// small bounded queue: when the consumer stops pulling, the queue fills, the thread stops
// reading, and TCP flow control pauses the server. Cancelling the Context or destroying the
// stream shuts the socket down, which ends the thread at once.
#pragma once

#include <functional>
#include <memory>

#include "backends/remote/chunk_update.hpp"
#include "backends/remote/endpoint_source.hpp"
#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "inference/types.hpp"
#include "net/http_client.hpp"

namespace inference::remote {

struct StreamRequest {
  net::HttpRequest http;
  ChunkDecoder decode;
  /// Enforced here as well as by the server (a server may ignore them): max_tokens, and
  /// stop_tokens when the protocol reports token ids.
  int32_t max_tokens = 0;
  std::vector<int32_t> stop_tokens;
  /// Called once when the stream ends, with its final metrics and status (the model's
  /// metrics()/err()).
  std::function<void(const GenerateMetrics&, const Status&)> on_finish;
};

/// Starts the request and returns the stream reading it once the server has accepted the
/// request (a 2xx response head) or it failed for good. A failure before any output (a 4xx
/// such as a prompt over the context, every attempt refused) is the returned stream's error at
/// once, so a caller such as a proxying server can still answer it with a status code. The
/// context ending also ends the wait (the stream then reports it).
TokenStream start_remote_stream(const Context& ctx, std::shared_ptr<EndpointSource> source,
                                StreamRequest request);

}  // namespace inference::remote
