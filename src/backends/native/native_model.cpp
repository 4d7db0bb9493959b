#include "backends/native/native_model.hpp"

#include "engine/generation/generator.hpp"
#include "engine/generation/prefill.hpp"
#include "inference/error.hpp"

namespace inference::native {

using generation::SlotLease;

NativeModel::NativeModel(std::unique_ptr<engine::Engine> engine) {
  info_ = engine->info();
  info_.backend = "native";
  info_.context_length = engine->context_length();
  info_.vocab_size = engine->n_vocab();
  tokenizer_ = &engine->tokenizer();
  chat_prompt_.emplace(engine->chat_template_source(), info_.architecture, *tokenizer_);
  shared_ = std::make_shared<generation::SharedEngine>(std::move(engine));
}

NativeModel::~NativeModel() {
  close();
}

void NativeModel::close() {
  std::lock_guard lock(shared_->mutex);
  chat_prompt_.reset();
  tokenizer_ = nullptr;
  shared_->engine.reset();  // open streams see the model closed and end with unavailable
}

const tokenizer::Tokenizer& NativeModel::open_tokenizer() const {
  if (!tokenizer_) throw Error(ErrorCode::unavailable, "the model was closed");
  return *tokenizer_;
}

TokenStream NativeModel::start_locked(const Context& ctx, std::vector<int32_t> prompt,
                                      const GenerateConfig& config) {
  shared_->open_engine();
  auto slot = SlotLease::acquire(shared_, prompt);
  if (!slot)
    throw Error(ErrorCode::unavailable,
                "all " + std::to_string(shared_->slot_busy.size()) +
                    " sequence slots are busy: finish or destroy an open stream first, or load "
                    "the model with more parallel_slots");
  return TokenStream(std::make_unique<generation::Generator>(shared_, std::move(*slot),
                                                             std::move(prompt), config, ctx));
}

TokenStream NativeModel::generate(const Context& ctx, std::string_view prompt,
                                  const GenerateConfig& config) {
  try {
    std::lock_guard lock(shared_->mutex);
    auto ids = open_tokenizer().encode(prompt, /*add_special=*/true, /*parse_special=*/false);
    return start_locked(ctx, std::move(ids), config);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

TokenStream NativeModel::generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                                         const GenerateConfig& config) {
  try {
    std::lock_guard lock(shared_->mutex);
    return start_locked(ctx, std::vector<int32_t>(prompt.begin(), prompt.end()), config);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

TokenStream NativeModel::chat(const Context& ctx, std::span<const Message> messages,
                              const GenerateConfig& config) {
  try {
    std::lock_guard lock(shared_->mutex);
    if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
    auto ids = chat_prompt_->encode(chat_prompt_->render(messages));
    return start_locked(ctx, std::move(ids), config);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

std::vector<ClassifyResult> NativeModel::classify(const Context& ctx,
                                                  std::span<const std::string> prompts,
                                                  const GenerateConfig& config) {
  std::lock_guard lock(shared_->mutex);
  engine::Engine& engine = shared_->open_engine();
  if (Status s = generation::validate_generate_config(config, engine.n_vocab()); !s.ok())
    throw Error(s);
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(prompts.size());
  for (const auto& p : prompts) ids.push_back(engine.tokenizer().encode(p, true, false));

  // Borrow every free slot for the call; returned before the lock is released.
  std::vector<SlotLease> leases;
  std::vector<int32_t> seqs;
  while (auto slot = SlotLease::acquire(shared_, {})) {
    seqs.push_back(slot->seq());
    leases.push_back(std::move(*slot));
  }
  if (seqs.empty())
    throw Error(ErrorCode::unavailable, "classify: all sequence slots are busy with open streams");
  const auto start = std::chrono::steady_clock::now();
  std::vector<ClassifyResult> results;
  try {
    results = classify_batched(engine, ctx, ids, seqs, config);
  } catch (...) {
    for (auto& lease : leases) lease.release_locked();
    throw;
  }
  for (auto& lease : leases) lease.release_locked();
  GenerateMetrics m;
  for (const auto& p : ids) m.prompt_tokens += static_cast<int64_t>(p.size());
  m.prefill_duration = std::chrono::steady_clock::now() - start;
  if (m.prefill_duration.count() > 0)
    m.prefill_tokens_per_second = static_cast<double>(m.prompt_tokens) * 1e9 /
                                  static_cast<double>(m.prefill_duration.count());
  shared_->record(m, {});
  return results;
}

std::vector<BatchResult> NativeModel::batch_generate(const Context& ctx,
                                                     std::span<const std::string> prompts,
                                                     const GenerateConfig& config) {
  // One prompt after another on this model's slots: every decode is serialised anyway, so
  // interleaving would not be faster on the CPU until decode batches span sequences.
  std::vector<BatchResult> results;
  results.reserve(prompts.size());
  for (const auto& prompt : prompts) {
    BatchResult result;
    auto stream = generate(ctx, prompt, config);
    for (const Token& t : stream) {
      result.text += t.text;
      result.tokens.push_back(t);
    }
    result.status = stream.err();
    results.push_back(std::move(result));
  }
  return results;
}

GenerateMetrics NativeModel::metrics() const {
  std::lock_guard lock(shared_->mutex);
  GenerateMetrics m = shared_->last_metrics;
  m.active_memory_bytes = shared_->engine ? shared_->engine->memory_bytes() : 0;
  m.peak_memory_bytes = std::max(shared_->peak_memory, m.active_memory_bytes);
  // Weights only: the KV cache read per token grows with the position.
  m.bytes_per_token = shared_->engine ? shared_->engine->weight_bytes_per_token() : 0;
  return m;
}

Status NativeModel::err() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->last_status;
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
  std::lock_guard lock(shared_->mutex);
  if (!chat_prompt_) throw Error(ErrorCode::unavailable, "the model was closed");
  return chat_prompt_->render(messages, add_generation_prompt);
}

AttentionSnapshot NativeModel::inspect_attention(const Context& ctx, std::string_view prompt) {
  std::lock_guard lock(shared_->mutex);
  engine::Engine& engine = shared_->open_engine();
  AttentionSnapshot snap;
  snap.tokens = engine.tokenizer().encode(prompt, true, false);
  generation::check_prompt(engine, snap.tokens);
  auto slot = SlotLease::acquire(shared_, {});
  if (!slot) throw Error(ErrorCode::unavailable, "inspect_attention: all sequence slots are busy");
  try {
    engine.capture_attention(ctx, snap.tokens, slot->seq(), snap.queries, snap.keys);
  } catch (...) {
    slot->release_locked();
    throw;
  }
  slot->release_locked();
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
