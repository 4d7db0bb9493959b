#include "loadgen/serve_load.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "inference/error.hpp"
#include "loadgen/server_url.hpp"
#include "loadgen/sse_reader.hpp"

namespace inference::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// What one request produced.
struct Sample {
  enum class Outcome { completed, error, disconnected } outcome = Outcome::error;
  std::string error;
  double ttft_ms = -1;
  double latency_ms = 0;
  std::vector<double> gaps_ms;  // between successive text chunks
  int chunks = 0;               // text-bearing chunks
  int usage_prompt = -1;        // from the final usage chunk, when the server sends one
  int usage_completion = -1;
  int tokens() const { return usage_completion >= 0 ? usage_completion : chunks; }
};

// Words that are one token (with their leading space) in common BPE vocabularies, so a prompt
// of N words is about N tokens on whatever server is measured.
constexpr const char* kWords[] = {
    "the",   "of",     "and",   "to",   "in",    "is",    "was",   "for",    "on",   "are",
    "with",  "as",     "at",    "be",   "this",  "have",  "from",  "or",     "one",  "had",
    "by",    "word",   "but",   "not",  "what",  "all",   "were",  "we",     "when", "your",
    "can",   "said",   "there", "use",  "an",    "each",  "which", "she",    "do",   "how",
    "their", "if",     "will",  "up",   "other", "about", "out",   "many",   "then", "them",
    "these", "so",     "some",  "her",  "would", "make",  "like",  "him",    "into", "time",
    "has",   "look",   "two",   "more", "write", "go",    "see",   "number", "no",   "way",
    "could", "people", "my",    "than", "first", "water", "been",  "call",   "who",  "oil",
    "its",   "now",    "find",  "long", "down",  "day",   "did",   "get",    "come", "made",
    "may",   "part"};

// A distinct prompt per request (a leading request number and random words), so a server's
// prefix cache cannot turn the measured prefill into a lookup.
std::string make_prompt(int index, int words, uint32_t seed) {
  std::mt19937 rng(seed * 7919u + static_cast<uint32_t>(index));
  std::uniform_int_distribution<size_t> pick(0, std::size(kWords) - 1);
  std::string prompt = "Request " + std::to_string(index) + ":";
  for (int i = 0; i < words; ++i) {
    prompt += ' ';
    prompt += kWords[pick(rng)];
  }
  return prompt;
}

// The text one streamed chunk carries (chat delta content/reasoning or completion text).
std::string chunk_text(const json& chunk) {
  std::string text;
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array()) return text;
  for (const auto& choice : *choices) {
    if (!choice.is_object()) continue;
    if (auto t = choice.find("text"); t != choice.end() && t->is_string())
      text += t->get<std::string>();
    if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) {
      for (const char* key : {"content", "reasoning_content"}) {
        if (auto c = d->find(key); c != d->end() && c->is_string()) text += c->get<std::string>();
      }
    }
  }
  return text;
}

class LoadRun {
 public:
  LoadRun(const ServeLoadConfig& config, ServerUrl url) : config_(config), url_(std::move(url)) {
    path_ = url_.prefix +
            (config.endpoint == Endpoint::chat ? "/v1/chat/completions" : "/v1/completions");
  }

  const std::string& path() const { return path_; }

  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>(url_.host, url_.port);
    const auto timeout = std::chrono::duration<double>(config_.timeout_s);
    c->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    c->set_write_timeout(std::chrono::seconds(30));
    c->set_connection_timeout(std::chrono::seconds(10));
    c->set_keep_alive(true);
    // Without TCP_NODELAY the request body (a second small write after the headers) waits for
    // the server's delayed ACK: ~40 ms of TTFT that belongs to neither client nor server.
    c->set_tcp_nodelay(true);
    return c;
  }

  httplib::Headers headers() const {
    httplib::Headers h{{"Accept", "text/event-stream"}};
    if (!config_.api_key.empty()) h.emplace("Authorization", "Bearer " + config_.api_key);
    return h;
  }

  // The model to name in requests: the configured one, else the server's first model.
  void resolve_model() {
    model_ = config_.model;
    if (!model_.empty()) return;
    auto c = client();
    auto res = c->Get(url_.prefix + "/v1/models", headers());
    if (!res || res->status != 200) return;  // servers that serve one model need no name
    const json body = json::parse(res->body, nullptr, false);
    if (body.is_object() && body.contains("data") && body["data"].is_array() &&
        !body["data"].empty() && body["data"][0].is_object() &&
        body["data"][0].value("id", json()).is_string()) {
      model_ = body["data"][0]["id"].get<std::string>();
    }
  }
  const std::string& model() const { return model_; }

  std::string body(int index) const {
    json req = {{"max_tokens", config_.max_tokens},
                {"stream", true},
                {"stream_options", {{"include_usage", true}}},
                {"temperature", 0}};
    if (!model_.empty()) req["model"] = model_;
    if (config_.ignore_eos) req["ignore_eos"] = true;
    const std::string prompt = make_prompt(index, config_.prompt_tokens, config_.seed);
    if (config_.endpoint == Endpoint::chat) {
      req["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
    } else {
      req["prompt"] = prompt;
    }
    return req.dump();
  }

  // Hang up after this many text chunks (-1: never). 0 hangs up before the first token, while
  // the request is queued or prefilling.
  int disconnect_after(int index) const {
    if (config_.disconnect_fraction <= 0) return -1;
    std::mt19937 rng(config_.seed * 104729u + static_cast<uint32_t>(index));
    if (std::uniform_real_distribution<double>(0, 1)(rng) >= config_.disconnect_fraction) return -1;
    return std::uniform_int_distribution<int>(0, std::max(0, config_.max_tokens - 1))(rng);
  }

  Sample one_request(httplib::Client& c, int index) const {
    Sample s;
    const int hang_up_at = disconnect_after(index);
    httplib::Request req;
    req.method = "POST";
    req.path = path_;
    req.headers = headers();
    req.body = body(index);
    req.set_header("Content-Type", "application/json");

    int status = 0;
    std::string error_body;
    bool done = false;
    bool hung_up = false;
    Clock::time_point last;
    const Clock::time_point start = Clock::now();

    SseReader sse([&](std::string_view data) {
      if (data == "[DONE]") {
        done = true;
        return true;
      }
      const json chunk = json::parse(data, nullptr, false);
      if (!chunk.is_object()) {
        s.error = "malformed stream chunk: " + std::string(data.substr(0, 200));
        return false;
      }
      if (chunk.contains("error")) {
        s.error = "error in stream: " + chunk["error"].dump().substr(0, 300);
        return false;
      }
      if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object()) {
        if (u->value("prompt_tokens", json()).is_number_integer())
          s.usage_prompt = (*u)["prompt_tokens"].get<int>();
        if (u->value("completion_tokens", json()).is_number_integer())
          s.usage_completion = (*u)["completion_tokens"].get<int>();
      }
      if (chunk_text(chunk).empty()) return true;
      const auto now = Clock::now();
      if (s.chunks == 0) {
        s.ttft_ms = ms_between(start, now);
      } else {
        s.gaps_ms.push_back(ms_between(last, now));
      }
      last = now;
      ++s.chunks;
      if (hang_up_at >= 0 && s.chunks >= hang_up_at) {
        hung_up = true;
        return false;
      }
      return true;
    });

    req.response_handler = [&](const httplib::Response& res) {
      status = res.status;
      if (status == 200 && hang_up_at == 0) {  // hang up before the first token
        hung_up = true;
        return false;
      }
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (status != 200) {
        if (error_body.size() < 4096) error_body.append(data, std::min<size_t>(n, 4096));
        return true;
      }
      return sse.feed(std::string_view(data, n));
    };

    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool sent = c.send(req, res, err);
    s.latency_ms = ms_between(start, Clock::now());
    if (hung_up) {
      s.outcome = Sample::Outcome::disconnected;
      // The connection was abandoned mid-response: the next request must open a fresh one.
      c.stop();
      return s;
    }
    if (!s.error.empty()) return s;
    if (!sent) {
      // Where it broke tells a server that drops connections from one that cuts streams.
      s.error = "transport: " + httplib::to_string(err) +
                (status == 0 ? " (no response)"
                             : " (HTTP " + std::to_string(status) + ", after " +
                                   std::to_string(s.chunks) + " text chunks)");
      return s;
    }
    if (status != 200) {
      s.error = "HTTP " + std::to_string(status) + ": " + error_body.substr(0, 300);
      return s;
    }
    if (!sse.error().empty()) {
      s.error = sse.error();
      return s;
    }
    if (!done) {
      s.error = "stream ended without data: [DONE]";
      return s;
    }
    s.outcome = Sample::Outcome::completed;
    return s;
  }

 private:
  const ServeLoadConfig& config_;
  ServerUrl url_;
  std::string path_;
  std::string model_;
};

void check_config(const ServeLoadConfig& c) {
  auto bad = [](const std::string& what) { throw Error(ErrorCode::invalid_argument, what); };
  if (c.concurrency < 1 || c.concurrency > 4096)
    bad("--concurrency must be in 1..4096, got " + std::to_string(c.concurrency));
  if (c.requests < 1 || c.requests > 10'000'000)
    bad("--requests must be in 1..10000000, got " + std::to_string(c.requests));
  if (c.prompt_tokens < 0 || c.prompt_tokens > 1'000'000)
    bad("--prompt-tokens must be in 0..1000000, got " + std::to_string(c.prompt_tokens));
  if (c.max_tokens < 1 || c.max_tokens > 1'000'000)
    bad("--max-tokens must be in 1..1000000, got " + std::to_string(c.max_tokens));
  if (c.warmup < 0 || c.warmup > 1000) bad("--warmup must be in 0..1000");
  if (!(c.disconnect_fraction >= 0 && c.disconnect_fraction <= 1))
    bad("--disconnect-fraction must be in 0..1");
  if (!(c.timeout_s > 0 && c.timeout_s <= 86400)) bad("--timeout must be in (0, 86400] seconds");
}

}  // namespace

ServeLoadReport run_serve_load(const ServeLoadConfig& config,
                               const std::function<void(int done)>& on_done) {
  check_config(config);
  LoadRun run(config, parse_server_url(config.url));
  run.resolve_model();

  // Warm-up: one at a time, negative indices so their prompts differ from the measured ones.
  if (config.warmup > 0) {
    auto c = run.client();
    for (int i = 0; i < config.warmup; ++i) {
      const Sample s = run.one_request(*c, -1 - i);
      if (s.outcome == Sample::Outcome::error) {
        throw Error(ErrorCode::backend,
                    "warm-up request to " + config.url + run.path() + " failed: " + s.error);
      }
    }
  }

  std::vector<Sample> samples(static_cast<size_t>(config.requests));
  std::atomic<int> next{0};
  std::mutex done_mutex;
  int done_count = 0;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  const int n_clients = std::min(config.concurrency, config.requests);
  for (int t = 0; t < n_clients; ++t) {
    clients.emplace_back([&] {
      auto c = run.client();
      for (int i; (i = next.fetch_add(1)) < config.requests;) {
        samples[static_cast<size_t>(i)] = run.one_request(*c, i);
        if (on_done) {
          std::lock_guard lock(done_mutex);
          on_done(++done_count);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  const double wall_s = ms_between(start, Clock::now()) / 1000.0;

  ServeLoadReport r;
  r.url = config.url;
  r.model = run.model();
  r.path = run.path();
  r.concurrency = config.concurrency;
  r.requests = config.requests;
  r.wall_s = wall_s;
  std::vector<double> ttft, itl, latency, stream_rate;
  double prompt_sum = 0, gen_sum = 0;
  int prompt_known = 0;
  for (const Sample& s : samples) {
    if (s.outcome == Sample::Outcome::disconnected) {
      ++r.disconnected;
      continue;
    }
    if (s.outcome == Sample::Outcome::error) {
      if (r.errors++ == 0) r.first_error = s.error;
      continue;
    }
    ++r.completed;
    gen_sum += s.tokens();
    if (s.usage_prompt >= 0) {
      prompt_sum += s.usage_prompt;
      ++prompt_known;
    }
    if (s.ttft_ms >= 0) ttft.push_back(s.ttft_ms);
    itl.insert(itl.end(), s.gaps_ms.begin(), s.gaps_ms.end());
    latency.push_back(s.latency_ms);
    const double decode_ms = s.latency_ms - s.ttft_ms;
    if (s.ttft_ms >= 0 && s.tokens() > 1 && decode_ms > 0)
      stream_rate.push_back((s.tokens() - 1) / (decode_ms / 1000.0));
  }
  if (wall_s > 0) {
    r.requests_per_s = r.completed / wall_s;
    r.generated_tok_per_s = gen_sum / wall_s;
  }
  if (r.completed > 0) r.mean_generated_tokens = gen_sum / r.completed;
  if (prompt_known > 0) r.mean_prompt_tokens = prompt_sum / prompt_known;
  r.ttft_ms = summarize_latencies(std::move(ttft));
  r.itl_ms = summarize_latencies(std::move(itl));
  r.latency_ms = summarize_latencies(std::move(latency));
  r.stream_tok_per_s = summarize_latencies(std::move(stream_rate));
  return r;
}

namespace {

json summary_json(const LatencySummary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"p50", s.p50},
          {"p90", s.p90},     {"p99", s.p99},   {"max", s.max}};
}

}  // namespace

json to_json(const ServeLoadReport& r) {
  return {{"url", r.url},
          {"model", r.model},
          {"endpoint", r.path},
          {"concurrency", r.concurrency},
          {"requests", r.requests},
          {"completed", r.completed},
          {"errors", r.errors},
          {"disconnected", r.disconnected},
          {"first_error", r.first_error},
          {"wall_s", r.wall_s},
          {"requests_per_s", r.requests_per_s},
          {"generated_tok_per_s", r.generated_tok_per_s},
          {"mean_prompt_tokens", r.mean_prompt_tokens},
          {"mean_generated_tokens", r.mean_generated_tokens},
          {"ttft_ms", summary_json(r.ttft_ms)},
          {"itl_ms", summary_json(r.itl_ms)},
          {"latency_ms", summary_json(r.latency_ms)},
          {"stream_tok_per_s", summary_json(r.stream_tok_per_s)}};
}

std::string to_text(const ServeLoadReport& r) {
  std::ostringstream out;
  char line[256];
  out << "server   " << r.url << r.path << (r.model.empty() ? "" : "  model " + r.model) << "\n";
  std::snprintf(line, sizeof line,
                "requests %d completed, %d errors, %d disconnected in %.2f s at concurrency %d"
                " = %.2f req/s\n",
                r.completed, r.errors, r.disconnected, r.wall_s, r.concurrency, r.requests_per_s);
  out << line;
  std::snprintf(line, sizeof line,
                "tokens   %.1f prompt, %.1f generated per request (server's usage)\n",
                r.mean_prompt_tokens, r.mean_generated_tokens);
  out << line;
  std::snprintf(line, sizeof line,
                "speed    %.2f generated tok/s aggregate, %.2f tok/s per stream (median)\n",
                r.generated_tok_per_s, r.stream_tok_per_s.p50);
  out << line;
  out << "                      p50        p90        p99       mean\n";
  auto row = [&](const char* name, const LatencySummary& s) {
    std::snprintf(line, sizeof line, "%-14s %10.2f %10.2f %10.2f %10.2f\n", name, s.p50, s.p90,
                  s.p99, s.mean);
    out << line;
  };
  row("TTFT (ms)", r.ttft_ms);
  row("ITL (ms)", r.itl_ms);
  row("latency (ms)", r.latency_ms);
  if (!r.first_error.empty()) out << "first error: " << r.first_error << "\n";
  return out.str();
}

}  // namespace inference::loadgen
