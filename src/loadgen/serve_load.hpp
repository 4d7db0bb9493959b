// serve_load — runs a fixed number of streamed completion requests against an OpenAI-compatible
// server from N concurrent clients and times every token as it arrives (the work behind
// `infer bench-serve`).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "loadgen/latency_summary.hpp"

namespace inference::loadgen {

enum class Endpoint { chat, completions };  ///< /v1/chat/completions or /v1/completions

struct ServeLoadConfig {
  std::string url;         ///< http://HOST:PORT[/prefix]
  int concurrency = 1;     ///< clients streaming at once
  int requests = 16;       ///< measured requests in all (warm-up not counted)
  int prompt_tokens = 32;  ///< prompt length in words (about one token each in BPE vocabularies)
  int max_tokens = 128;    ///< max_tokens of each request
  int warmup = 1;          ///< requests sent first, one at a time, and not measured
  std::string api_key;     ///< sent as "Authorization: Bearer" when not empty
  std::string model;       ///< "" = the first id of GET /v1/models (or none if that fails)
  Endpoint endpoint = Endpoint::chat;
  bool ignore_eos = true;  ///< ask for exactly max_tokens (llama-server/vLLM/ours honour it)
  double disconnect_fraction = 0;  ///< this share of requests hang up after a random token count
  double timeout_s = 600;          ///< per request read timeout
  uint32_t seed = 1;               ///< prompts and disconnect points derive from it
};

struct ServeLoadReport {
  std::string url;
  std::string model;
  std::string path;  ///< endpoint path used
  int concurrency = 0;
  int requests = 0;
  int completed = 0;     ///< streamed to the end ([DONE])
  int errors = 0;        ///< HTTP error status, transport failure, malformed or truncated stream
  int disconnected = 0;  ///< hung up on purpose (disconnect_fraction)
  std::string first_error;
  double wall_s = 0;
  double requests_per_s = 0;       ///< completed / wall
  double generated_tok_per_s = 0;  ///< all generated tokens of completed requests / wall
  double mean_prompt_tokens = 0;   ///< from the server's usage (0 when it reports none)
  double mean_generated_tokens = 0;
  LatencySummary ttft_ms;           ///< request sent -> first generated text
  LatencySummary itl_ms;            ///< gaps between successive text chunks
  LatencySummary latency_ms;        ///< request sent -> stream ended
  LatencySummary stream_tok_per_s;  ///< per request: tokens after the first / decode time
};

/// Runs the load. Throws inference::Error(invalid_argument) on a bad configuration or URL; a
/// server that fails requests is reported in `errors`, not thrown. `on_done`, if set, is called
/// (from the client threads, serialised) after each measured request with the count so far.
ServeLoadReport run_serve_load(const ServeLoadConfig& config,
                               const std::function<void(int done)>& on_done = {});

nlohmann::json to_json(const ServeLoadReport& report);
std::string to_text(const ServeLoadReport& report);

}  // namespace inference::loadgen
