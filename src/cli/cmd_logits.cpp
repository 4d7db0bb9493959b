// infer logits — the verification tool: evaluates a prompt as one batch with the native engine
// and prints the top-K log-probabilities of the next token (at the last position, or every
// position with --all), and/or writes the raw logits rows (float32 little-endian) to a file.
// With --backend llama_server or http it asks that backend for the next token's top-K
// log-probabilities (all a server returns); what needs whole rows stays native-only.
#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "engine/engine.hpp"
#include "inference/backend.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/ops/softmax.hpp"

namespace inference::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  std::string prompt;
  bool all = false;
  int top = 10;
  std::string out;
  bool json = false;
  std::string kv_type = "f32";
  int threads = 0;
  int ctx = 0;
  bool parse_special = false;
  std::vector<std::string> lora;
  bool lora_merge = false;
  std::string backend;  // "" or "native": the engine itself
  LoadFlags remote;     // --url, --remote-model, --api-key-env, --backend-opt
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item.substr(first), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || item.find_first_not_of(" \t", first + used) != std::string::npos ||
        value < 0 || value > INT32_MAX) {
      throw ExitRequest{kUsage, "--tokens: '" + item + "' is not a token id"};
    }
    ids.push_back(static_cast<int32_t>(value));
  }
  if (ids.empty()) throw ExitRequest{kUsage, "--tokens: no token ids given"};
  return ids;
}

void write_rows(const std::string& path, const std::vector<float>& rows) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::backend, "cannot open " + path + " for writing");
  if constexpr (std::endian::native == std::endian::little) {
    out.write(reinterpret_cast<const char*>(rows.data()),
              static_cast<std::streamsize>(rows.size() * sizeof(float)));
  } else {
    for (float f : rows) {
      const uint32_t bits = std::bit_cast<uint32_t>(f);
      const char le[4] = {static_cast<char>(bits), static_cast<char>(bits >> 8),
                          static_cast<char>(bits >> 16), static_cast<char>(bits >> 24)};
      out.write(le, 4);
    }
  }
  if (!out) throw Error(ErrorCode::backend, "writing " + path + " failed");
}

void print_position(const engine::Engine& engine, int32_t pos, int32_t token, const float* row,
                    int top, bool json, std::vector<float>& logprobs, std::vector<int32_t>& order) {
  const int32_t n_vocab = engine.n_vocab();
  kernels::log_softmax_row(row, logprobs.data(), n_vocab);
  const int k = std::min(top, n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) order[static_cast<size_t>(i)] = i;
  // Highest logit first, ties to the lower id (the reference's order).
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return row[a] != row[b] ? row[a] > row[b] : a < b;
  });
  auto piece = [&](int32_t id) { return engine.tokenizer().token_to_piece(id); };
  if (json) {
    nlohmann::json line = {{"pos", pos}, {"token", token}};
    nlohmann::json entries = nlohmann::json::array();
    for (int i = 0; i < k; ++i) {
      const int32_t id = order[static_cast<size_t>(i)];
      entries.push_back({{"id", id},
                         {"logprob", logprobs[static_cast<size_t>(id)]},
                         {"logit", row[id]},
                         {"text", piece(id)}});
    }
    line["top"] = std::move(entries);
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << "position " << pos << " (token " << token << "):\n";
  for (int i = 0; i < k; ++i) {
    const int32_t id = order[static_cast<size_t>(i)];
    std::cout << "  " << id << "\t" << logprobs[static_cast<size_t>(id)] << "\t"
              << nlohmann::json(piece(id)).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace)
              << "\n";
  }
}

// The next token's top-K log-probabilities from a backend that is not the engine itself: one
// classify call asking for `top` alternatives.
void run_backend_logits(const LogitsOptions& o) {
  const std::string needs_rows = "needs the native backend (a " + o.backend +
                                 " backend gives only the next token's top log-probabilities)";
  if (!o.tokens.empty()) throw ExitRequest{kUsage, "logits: --tokens " + needs_rows};
  if (o.all) throw ExitRequest{kUsage, "logits: --all " + needs_rows};
  if (!o.out.empty()) throw ExitRequest{kUsage, "logits: --out " + needs_rows};
  if (o.top < 1)
    throw ExitRequest{kUsage, "logits: --top must be >= 1 with --backend " + o.backend};
  LoadConfig load = o.remote.config();
  load.backend = o.backend;
  load.context_length = o.ctx;
  load.threads = o.threads;
  for (const auto& flag : o.lora) load.adapters.push_back(parse_adapter_flag(flag));
  auto model = load_model(o.model, load);
  GenerateConfig config;
  config.temperature = 0.0f;
  config.logprobs = o.top;
  const std::vector<std::string> prompts = {o.prompt};
  auto results = model->classify(Context::background(), prompts, config);
  if (results.size() != 1)
    throw Error(ErrorCode::backend, "the " + o.backend + " backend returned " +
                                        std::to_string(results.size()) + " results for 1 prompt");
  const ClassifyResult& r = results.front();
  if (!r.status.ok())
    throw Error(r.status.code,
                "the " + o.backend +
                    " backend cannot give the next token's log-probabilities: " + r.status.message);
  if (r.token.top_logprobs.empty())
    throw Error(ErrorCode::unsupported,
                "the " + o.backend +
                    " backend returned no log-probabilities for the next token (does the "
                    "server support logprobs?)");
  auto text = [](const std::string& t) {
    return nlohmann::json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const size_t k = std::min(static_cast<size_t>(o.top), r.token.top_logprobs.size());
  if (o.json) {
    // Positions and logits are not known to a server client: "pos" and "token" are null.
    nlohmann::json line = {{"pos", nullptr}, {"token", nullptr}};
    nlohmann::json entries = nlohmann::json::array();
    for (size_t i = 0; i < k; ++i) {
      const auto& e = r.token.top_logprobs[i];
      entries.push_back({{"id", e.id}, {"logprob", e.logprob}, {"text", e.text}});
    }
    line["top"] = std::move(entries);
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "next token (" << o.backend << " backend):\n";
    for (size_t i = 0; i < k; ++i) {
      const auto& e = r.token.top_logprobs[i];
      std::cout << "  " << e.id << "\t" << e.logprob << "\t" << text(e.text) << "\n";
    }
  }
  model->close();
}

void run_logits(const LogitsOptions& o) {
  if (o.tokens.empty() == o.prompt.empty()) {
    throw ExitRequest{kUsage, "logits: give exactly one of --tokens or --prompt"};
  }
  if (o.top < 0) throw ExitRequest{kUsage, "logits: --top must be >= 0"};
  if (!o.backend.empty() && o.backend != "native") return run_backend_logits(o);
  engine::ModelLoadOptions load{
      .context_length = o.ctx, .n_sequences = 1, .threads = o.threads, .kv_cache_type = o.kv_type};
  for (const auto& flag : o.lora) load.adapters.push_back(parse_adapter_flag(flag));
  load.merge_adapters = o.lora_merge;
  auto engine = engine::Engine::load(o.model, load);
  const std::vector<int32_t> ids =
      o.tokens.empty() ? engine->tokenizer().encode(o.prompt, /*add_special=*/true, o.parse_special)
                       : parse_ids(o.tokens);
  if (ids.empty()) throw Error(ErrorCode::invalid_argument, "the prompt has no tokens");
  if (ids.size() > static_cast<size_t>(engine->context_length())) {
    throw Error(ErrorCode::invalid_argument, "the prompt has " + std::to_string(ids.size()) +
                                                 " tokens, more than the context length " +
                                                 std::to_string(engine->context_length()) +
                                                 " (use --ctx)");
  }
  std::vector<engine::BatchEntry> batch;
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.push_back({ids[i], static_cast<int32_t>(i), 0, o.all || i + 1 == ids.size()});
  }
  std::vector<float> logits;
  engine->decode(Context::background(), batch, logits);

  const size_t n_vocab = static_cast<size_t>(engine->n_vocab());
  const size_t first = o.all ? 0 : ids.size() - 1;
  if (o.top > 0) {
    std::vector<float> logprobs(n_vocab);
    std::vector<int32_t> order(n_vocab);
    for (size_t p = first; p < ids.size(); ++p) {
      print_position(*engine, static_cast<int32_t>(p), ids[p],
                     logits.data() + (p - first) * n_vocab, o.top, o.json, logprobs, order);
    }
  }
  if (!o.out.empty()) write_rows(o.out, logits);
}

void setup_logits(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "logits", "Evaluate a prompt in one batch; print top-K log-probabilities / dump logits");
  auto o = std::make_shared<LogitsOptions>();
  cmd->add_option("model", o->model,
                  "GGUF file or Safetensors model directory (http backend: base URL)")
      ->required();
  cmd->add_option("--tokens", o->tokens, "Comma-separated token ids (no BOS is added)");
  cmd->add_option("--prompt", o->prompt,
                  "Text, tokenized with the model's tokenizer (adds BOS "
                  "when the model asks for it)");
  cmd->add_flag("--parse-special", o->parse_special,
                "With --prompt: text of special tokens becomes those tokens");
  cmd->add_flag("--all", o->all, "Every position, not only the last");
  cmd->add_option("--top", o->top, "How many log-probabilities per position (0 = none)")
      ->capture_default_str();
  cmd->add_option("--out", o->out,
                  "Write raw float32 little-endian logits, one row of n_vocab per position "
                  "(every position with --all, else the last)");
  cmd->add_flag("--json", o->json, "One JSON object per position");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type")
      ->check(CLI::IsMember({"f32", "f16"}))
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = physical cores)");
  cmd->add_option("--ctx", o->ctx, "Context length (0 = model default, capped at 4096)");
  cmd->add_option("--lora", o->lora, "LoRA adapter PATH[:SCALE] (repeatable)");
  cmd->add_flag("--lora-merge", o->lora_merge, "Merge the adapters into the weights at load");
  cmd->add_option("--backend", o->backend,
                  "native (default: the engine itself), or llama_server / http: the next "
                  "token's top-K log-probabilities from that backend (--prompt only)");
  add_remote_flags(cmd, o->remote);
  cmd->callback([o] { run_logits(*o); });
}

const CommandRegistration kRegister{40, setup_logits};

}  // namespace
}  // namespace inference::cli
