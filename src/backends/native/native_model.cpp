#include "backends/native/native_model.hpp"

#include <algorithm>

#include "engine/generation/prefill.hpp"
#include "inference/error.hpp"
#include "train/lora_trainer.hpp"

namespace inference::native {

NativeModel::NativeModel(std::unique_ptr<engine::Engine> engine,
                         generation::SchedulerOptions options, const std::string& chat_template) {
  info_ = engine->info();
  info_.backend = "native";
  info_.context_length = engine->context_length();
  info_.vocab_size = engine->n_vocab();
  tokenizer_ = &engine->tokenizer();
  adapters_ = engine->adapters();
  chat_prompt_.emplace(chat_template.empty() ? engine->chat_template_source() : chat_template,
                       info_.architecture, *tokenizer_);
  scheduler_ = std::make_shared<generation::BatchScheduler>(std::move(engine), options);
}

NativeModel::~NativeModel() {
  close();
}

void NativeModel::close() {
  {
    std::lock_guard lock(mu_);
    chat_prompt_.reset();
    tokenizer_ = nullptr;
  }
  scheduler_->close();  // open streams see the model closed and end with unavailable
}

const tokenizer::Tokenizer& NativeModel::open_tokenizer() const {
  if (!tokenizer_) throw Error(ErrorCode::unavailable, "the model was closed");
  return *tokenizer_;
}

TokenStream NativeModel::generate(const Context& ctx, std::string_view prompt,
                                  const GenerateConfig& config) {
  try {
    auto ids = open_tokenizer().encode(prompt, /*add_special=*/true, /*parse_special=*/false);
    return scheduler_->generate(std::move(ids), config, ctx);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

TokenStream NativeModel::generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                                         const GenerateConfig& config) {
  return scheduler_->generate(std::vector<int32_t>(prompt.begin(), prompt.end()), config, ctx);
}

TokenStream NativeModel::chat(const Context& ctx, std::span<const Message> messages,
                              const GenerateConfig& config) {
  try {
    std::vector<int32_t> ids;
    {
      std::lock_guard lock(mu_);
      if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
      ids = chat_prompt_->encode(chat_prompt_->render(messages));
    }
    return scheduler_->generate(std::move(ids), config, ctx);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

std::string NativeModel::chat_template_source() const {
  std::lock_guard lock(mu_);
  return chat_prompt_ ? chat_prompt_->source() : std::string();
}

std::string NativeModel::apply_chat_template_with_tools(std::span<const Message> messages,
                                                        const std::string& tools_json,
                                                        bool add_generation_prompt) const {
  std::lock_guard lock(mu_);
  if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
  return chat_prompt_->render_with_tools(messages, tools_json, add_generation_prompt);
}

TokenStream NativeModel::chat_with_tools(const Context& ctx, std::span<const Message> messages,
                                         const std::string& tools_json,
                                         const GenerateConfig& config) {
  try {
    std::vector<int32_t> ids;
    {
      std::lock_guard lock(mu_);
      if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
      ids = chat_prompt_->encode(chat_prompt_->render_with_tools(messages, tools_json));
    }
    return scheduler_->generate(std::move(ids), config, ctx);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

std::vector<BatchResult> NativeModel::batch_generate(const Context& ctx,
                                                     std::span<const std::string> prompts,
                                                     const GenerateConfig& config) {
  // Every prompt is a sequence of the shared batch; items beyond the free slots wait their turn
  // (they do not count against max_queued: it limits callers, not one caller's items).
  if (scheduler_->closed()) throw Error(ErrorCode::unavailable, "the model was closed");
  std::vector<BatchResult> results(prompts.size());
  std::vector<std::shared_ptr<generation::SequenceState>> seqs;
  std::vector<size_t> owner;  // result index of each submitted sequence
  struct Release {            // a sequence left running (an exception) must free its slot
    generation::BatchScheduler& scheduler;
    std::vector<std::shared_ptr<generation::SequenceState>>& seqs;
    ~Release() {
      for (const auto& seq : seqs) scheduler.release(seq);
    }
  } release{*scheduler_, seqs};
  for (size_t i = 0; i < prompts.size(); ++i) {
    try {
      auto ids = open_tokenizer().encode(prompts[i], true, false);
      seqs.push_back(scheduler_->submit(std::move(ids), config, ctx,
                                        generation::SequenceMode::generate, /*unbounded=*/true));
      owner.push_back(i);
    } catch (const Error& e) {
      results[i].status = e.status();
    }
  }
  scheduler_->run_all(seqs, [&](size_t k, Token& t) {
    BatchResult& r = results[owner[k]];
    r.text += t.text;
    r.tokens.push_back(std::move(t));
  });
  for (size_t k = 0; k < seqs.size(); ++k)
    results[owner[k]].status = scheduler_->status_of(*seqs[k]);
  return results;
}

GenerateMetrics NativeModel::metrics() const {
  GenerateMetrics m = scheduler_->last_metrics();
  m.active_memory_bytes = scheduler_->memory_bytes();
  m.peak_memory_bytes = std::max(scheduler_->peak_memory_bytes(), m.active_memory_bytes);
  // Weights only: the KV cache read per token grows with the position.
  m.bytes_per_token = scheduler_->weight_bytes_per_token();
  return m;
}

Status NativeModel::err() const {
  return scheduler_->last_status();
}

std::vector<int32_t> NativeModel::encode(std::string_view text, bool add_special,
                                         bool parse_special) const {
  return open_tokenizer().encode(text, add_special, parse_special);
}

std::string NativeModel::decode(std::span<const int32_t> ids) const {
  return open_tokenizer().decode(ids);
}

std::string NativeModel::token_text(int32_t id) const {
  const auto& tok = open_tokenizer();
  if (id < 0 || id >= tok.n_vocab())
    throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) +
                                                 " is outside the vocabulary [0, " +
                                                 std::to_string(tok.n_vocab()) + ")");
  return tok.token_to_piece(id);
}

std::string NativeModel::apply_chat_template(std::span<const Message> messages,
                                             bool add_generation_prompt) const {
  std::lock_guard lock(mu_);
  if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
  return chat_prompt_->render(messages, add_generation_prompt);
}

AttentionSnapshot NativeModel::inspect_attention(const Context& ctx, std::string_view prompt) {
  AttentionSnapshot snap;
  snap.tokens = open_tokenizer().encode(prompt, true, false);
  generation::check_prompt(snap.tokens, static_cast<int32_t>(info_.vocab_size),
                           static_cast<int32_t>(info_.context_length));
  scheduler_->with_free_slot([&](engine::Engine& engine, int32_t seq) {
    engine.capture_attention(ctx, snap.tokens, seq, snap.queries, snap.keys);
  });
  snap.n_layers = static_cast<int32_t>(info_.n_layers);
  snap.n_heads = static_cast<int32_t>(info_.n_heads);
  snap.n_kv_heads = static_cast<int32_t>(info_.n_kv_heads);
  snap.n_tokens = static_cast<int32_t>(snap.tokens.size());
  const size_t per_head = static_cast<size_t>(snap.n_layers) * snap.n_heads * snap.n_tokens;
  if (per_head == 0 || snap.queries.size() % per_head != 0)
    throw Error(ErrorCode::backend, "inspect_attention: the engine returned " +
                                        std::to_string(snap.queries.size()) +
                                        " query values, not a multiple of layers x heads x tokens");
  snap.head_dim = static_cast<int32_t>(snap.queries.size() / per_head);
  return snap;
}

}  // namespace inference::native
