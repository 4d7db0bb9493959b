// perf/model_bench.cpp — see model_bench.hpp.
#include "perf/model_bench.hpp"

#include <chrono>
#include <random>

#include "inference/capabilities.hpp"
#include "inference/context.hpp"
#include "inference/error.hpp"

namespace inference::perf {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TokenPromptModel& token_prompt(TextModel& model) {
  auto* tp = dynamic_cast<TokenPromptModel*>(&model);
  if (tp == nullptr) {
    throw Error(ErrorCode::unsupported,
                "bench: the backend cannot generate from token ids (TokenPromptModel)");
  }
  return *tp;
}

// Pulls the stream to its end; throws its error.
int64_t drain(TokenStream& stream) {
  int64_t tokens = 0;
  for (const Token& token : stream) tokens += token.id >= 0 ? 1 : 0;
  if (stream.err()) throw Error(stream.err().code, "bench: " + stream.err().message);
  return tokens;
}

}  // namespace

std::vector<int32_t> bench_tokens(int n, int32_t n_vocab) {
  std::mt19937 gen(42);
  std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (auto& t : tokens) t = dist(gen);
  return tokens;
}

ContractBench::ContractBench(TextModel& model) : model_(model) {
  token_prompt(model);
  auto* tokenizer = dynamic_cast<TokenizerModel*>(&model);
  if (tokenizer == nullptr) {
    throw Error(ErrorCode::unsupported, "bench: the backend does not expose its vocabulary");
  }
  n_vocab_ = static_cast<int32_t>(tokenizer->vocab_size());
}

std::vector<int32_t> ContractBench::fresh(const std::vector<int32_t>& tokens, int n) {
  std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + n);
  prompt[0] = static_cast<int32_t>((prompt[0] + streams_++) % n_vocab_);
  return prompt;
}

double ContractBench::prompt_pass(const std::vector<int32_t>& tokens, int n) {
  const auto prompt = fresh(tokens, n);
  GenerateConfig config;
  config.max_tokens = 1;
  config.temperature = 0.0f;
  config.ignore_eos = true;
  const auto start = Clock::now();
  auto stream = token_prompt(model_).generate_tokens(Context::background(), prompt, config);
  drain(stream);
  return seconds_since(start);
}

double ContractBench::generation(const std::vector<int32_t>& tokens, int n) {
  const auto prompt = fresh(tokens, 1);
  GenerateConfig config;
  config.max_tokens = n;
  config.temperature = 0.0f;
  config.ignore_eos = true;
  const auto start = Clock::now();
  auto stream = token_prompt(model_).generate_tokens(Context::background(), prompt, config);
  const int64_t produced = drain(stream);
  const double seconds = seconds_since(start);
  if (produced != n) {
    throw Error(ErrorCode::backend, "bench: generated " + std::to_string(produced) + " of " +
                                        std::to_string(n) + " tokens");
  }
  return seconds;
}

void ContractBench::ensure_context(const std::vector<int32_t>& tokens, int depth) {
  if (context_depth_ == depth) return;
  context_ = fresh(tokens, depth);
  context_depth_ = depth;
  GenerateConfig config;
  config.max_tokens = 1;
  config.temperature = 0.0f;
  config.ignore_eos = true;
  auto stream = token_prompt(model_).generate_tokens(Context::background(), context_, config);
  drain(stream);
}

std::vector<int32_t> ContractBench::extend_context(const std::vector<int32_t>& tokens, int depth,
                                                   int n) {
  ensure_context(tokens, depth);
  std::vector<int32_t> prompt = context_;
  prompt.insert(prompt.end(), tokens.begin() + depth, tokens.begin() + depth + n);
  // Unique, so no earlier request's cached continuation of the context is reused.
  prompt[static_cast<size_t>(depth)] =
      static_cast<int32_t>((prompt[static_cast<size_t>(depth)] + streams_++) % n_vocab_);
  return prompt;
}

double ContractBench::prompt_pass_at(const std::vector<int32_t>& tokens, int depth, int n) {
  if (depth == 0) return prompt_pass(tokens, n);
  const auto prompt = extend_context(tokens, depth, n);
  GenerateConfig config;
  config.max_tokens = 1;
  config.temperature = 0.0f;
  config.ignore_eos = true;
  const auto start = Clock::now();
  auto stream = token_prompt(model_).generate_tokens(Context::background(), prompt, config);
  drain(stream);
  return seconds_since(start);
}

double ContractBench::generation_at(const std::vector<int32_t>& tokens, int depth, int n) {
  if (depth == 0) return generation(tokens, n);
  const auto prompt = extend_context(tokens, depth, 1);
  GenerateConfig config;
  config.max_tokens = n + 1;
  config.temperature = 0.0f;
  config.ignore_eos = true;
  auto stream = token_prompt(model_).generate_tokens(Context::background(), prompt, config);
  // The first token also pays for the prompt's prefill: the clock starts when it arrives.
  Clock::time_point start;
  int64_t produced = 0;
  for (const Token& token : stream) {
    if (token.id < 0) continue;
    if (produced++ == 0) start = Clock::now();
  }
  if (stream.err()) throw Error(stream.err().code, "bench: " + stream.err().message);
  const double seconds = seconds_since(start);
  if (produced != n + 1) {
    throw Error(ErrorCode::backend, "bench: generated " + std::to_string(produced) + " of " +
                                        std::to_string(n + 1) + " tokens");
  }
  return seconds;
}

}  // namespace inference::perf
