// engine/engine.cpp — Engine::load and the native engine: owns the mapped model, the bound
// weights, the KV cache, the thread pool and the decoder, and validates every batch before
// any state changes.
#include "engine/engine.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "engine/forward.hpp"
#include "engine/hparams.hpp"
#include "engine/kv_cache.hpp"
#include "engine/model_files.hpp"
#include "engine/resident_weights.hpp"
#include "engine/weights.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::engine {
namespace {

// Context used when the caller asks for the model default: the training context, capped so
// that a 128k-context model does not reserve a 128k cache by default.
constexpr int32_t kDefaultContextCap = 4096;
constexpr int32_t kMaxContext = 1 << 20;
constexpr int32_t kMaxSequences = 256;
// Tokens per forward chunk: bounds the scratch buffers; longer batches are split. The scratch
// holds ~60-110 KB of activations per token for 0.5B-1B models (the FFN's gate and up rows
// dominate), so 512 tokens would cost 30-57 MB — more than the 10% over file + KV cache that
// the whole process may use (issue 6) — while a 256-token chunk still reuses each weight
// block across enough tokens to keep prefill compute-bound.
constexpr int32_t kMaxChunk = 256;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, what);
}

class NativeEngine final : public Engine {
 public:
  NativeEngine(std::unique_ptr<ModelFiles> files, const ModelLoadOptions& options)
      : files_(std::move(files)), hp_(files_->hparams()) {
    weights_ = bind_weights(files_->tensors(), hp_);
    tokenizer_ = files_->load_tokenizer();
    if (options.n_sequences < 1 || options.n_sequences > kMaxSequences) {
      invalid("n_sequences must be between 1 and " + std::to_string(kMaxSequences));
    }
    if (options.context_length < 0 || options.context_length > kMaxContext) {
      invalid("context_length must be between 0 and " + std::to_string(kMaxContext));
    }
    n_ctx_ = options.context_length > 0 ? options.context_length
                                        : std::min(hp_.n_ctx_train, kDefaultContextCap);
    const auto kv_type = options.kv_cache_type.empty()
                             ? std::optional(KvElement::f16)
                             : kv_element_from_name(options.kv_cache_type);
    if (!kv_type) {
      throw Error(ErrorCode::unsupported,
                  "KV cache type '" + options.kv_cache_type +
                      "' is not supported by the native engine (f16, f32, q8_0)");
    }
    if (options.threads < 0) invalid("threads must be >= 0");
    pool_ = std::make_unique<kernels::ThreadPool>(options.threads);
    if (options.huge_page_weights && !options.packed_weights)
      resident_ = ResidentWeights::adopt(weights_, *files_, *pool_);
    if (options.batch_size < 0) invalid("batch_size must be >= 0");
    const int32_t chunk = std::min(
        n_ctx_, options.batch_size > 0 ? std::min(options.batch_size, kMaxChunk * 16) : kMaxChunk);
    cache_ = std::make_unique<KvCache>(hp_, options.n_sequences, n_ctx_, chunk, *kv_type);
    if (options.prefault_kv) cache_->prefault();
    if (!options.adapters.empty()) {
      // GGUF files of llama-family models store q/k rows permuted for adjacent-pair RoPE;
      // Hugging Face directories of the same models run un-permuted rows with NeoX RoPE.
      const bool qk_permuted = !hp_.arch->rope_neox && !hp_.rope_neox;
      lora_ = load_lora_set(options.adapters, hp_, qk_permuted, options.n_sequences);
      if (options.merge_adapters) {
        merge_lora_set(lora_, weights_, merged_weights_);
        lora_ = LoraSet{};
      }
    }
    if (options.packed_weights) pack_weights();
    decoder_ = std::make_unique<Decoder>(hp_, weights_, *cache_, *pool_, chunk, &lora_, &packed_);
    next_pos_.resize(static_cast<size_t>(options.n_sequences));
  }

  void decode(const Context& ctx, std::span<const BatchEntry> batch,
              std::vector<float>& logits) override {
    const size_t n_out = validate(batch);
    logits.resize(n_out * static_cast<size_t>(hp_.n_vocab));
    float* out = logits.data();
    for (size_t begin = 0; begin < batch.size();) {
      const size_t end = std::min(batch.size(), begin + static_cast<size_t>(decoder_->max_batch()));
      auto chunk = batch.subspan(begin, end - begin);
      decoder_->forward(ctx, chunk, out);
      for (const BatchEntry& e : chunk) out += e.logits ? hp_.n_vocab : 0;
      begin = end;
    }
  }

  void truncate_sequence(int32_t seq, int32_t from_pos) override {
    check_seq(seq);
    cache_->truncate(seq, from_pos);
  }
  int32_t sequence_length(int32_t seq) const override {
    check_seq(seq);
    return cache_->length(seq);
  }
  std::span<const int32_t> sequence_tokens(int32_t seq) const override {
    check_seq(seq);
    return cache_->tokens(seq);
  }

  int32_t n_adapters() const override { return static_cast<int32_t>(lora_.adapters.size()); }

  std::vector<AdapterConfig> adapters() const override {
    std::vector<AdapterConfig> out;
    for (size_t a = 0; a < lora_.adapters.size(); ++a)
      out.push_back({lora_.adapters[a].source, lora_.default_scales[a]});
    return out;
  }

  void set_adapter_scales(int32_t seq, std::span<const float> scales) override {
    check_seq(seq);
    const size_t n = lora_.adapters.size();
    if (scales.size() > n) {
      invalid("adapter scales: " + std::to_string(scales.size()) + " given, but " +
              std::to_string(n) + " adapter(s) are loaded unmerged");
    }
    float* row = lora_.seq_scales.data() + static_cast<size_t>(seq) * n;
    bool changed = false;
    for (size_t a = 0; a < n; ++a) {
      const float want = a < scales.size() ? scales[a] : lora_.default_scales[a];
      if (!(want >= -kMaxAdapterScale && want <= kMaxAdapterScale))
        invalid("adapter scale out of range [-1000, 1000]");
      changed |= row[a] != want;
      row[a] = want;
    }
    // What the cache holds was computed with the old scales: it cannot be reused.
    if (changed) cache_->truncate(seq, 0);
  }

  int32_t n_vocab() const override { return hp_.n_vocab; }
  int32_t context_length() const override { return n_ctx_; }
  int32_t n_sequences() const override { return cache_->n_seq(); }
  const tokenizer::Tokenizer& tokenizer() const override { return *tokenizer_; }
  const std::string& chat_template_source() const override { return files_->chat_template(); }

  ModelInfo info() const override {
    ModelInfo info;
    info.architecture = hp_.arch_name;
    info.name = files_->name();
    info.backend = "native";
    info.quantization = files_->quantization();
    info.vocab_size = hp_.n_vocab;
    info.n_layers = hp_.n_layer;
    info.hidden_size = hp_.n_embd;
    info.n_heads = hp_.n_head;
    info.n_kv_heads = hp_.n_head_kv;
    info.context_length = n_ctx_;
    info.train_context_length = hp_.n_ctx_train;
    info.parameter_count = weights_.parameter_count;
    info.file_size = files_->file_size();
    return info;
  }

  uint64_t weight_bytes_per_token() const override {
    return engine::weight_bytes_per_token(weights_);
  }

  uint64_t memory_bytes() const override {
    uint64_t lora = 0;
    for (const auto& w : merged_weights_) lora += w.size() * sizeof(float);
    for (const auto& a : lora_.adapters) {
      for (const auto& layer : a.layers) {
        for (const auto& m : layer) lora += m ? (m->a.size() + m->b_t.size()) * sizeof(float) : 0;
      }
    }
    uint64_t packed = 0;
    for (const auto& [data, p] : packed_) packed += p->bytes();
    return files_->file_size() + cache_->bytes() + decoder_->scratch_bytes() + lora + packed;
  }

  void capture_attention(const Context& ctx, std::span<const int32_t> tokens, int32_t seq,
                         std::vector<float>& queries, std::vector<float>& keys) override {
    check_seq(seq);
    if (tokens.empty()) invalid("capture_attention: no tokens");
    if (tokens.size() > static_cast<size_t>(n_ctx_)) {
      invalid("capture_attention: " + std::to_string(tokens.size()) +
              " tokens exceed the context length " + std::to_string(n_ctx_));
    }
    cache_->truncate(seq, 0);
    const int32_t T = static_cast<int32_t>(tokens.size());
    std::vector<BatchEntry> batch;
    batch.reserve(tokens.size());
    for (int32_t i = 0; i < T; ++i)
      batch.push_back({tokens[static_cast<size_t>(i)], i, seq, false});
    validate(batch);
    const size_t hd = static_cast<size_t>(hp_.head_dim) * static_cast<size_t>(T) *
                      static_cast<size_t>(hp_.n_layer);
    queries.assign(hd * static_cast<size_t>(hp_.n_head), 0.0f);
    keys.assign(hd * static_cast<size_t>(hp_.n_head_kv), 0.0f);
    const AttentionCapture capture{queries.data(), keys.data(), T};
    for (size_t begin = 0; begin < batch.size();) {
      const size_t end = std::min(batch.size(), begin + static_cast<size_t>(decoder_->max_batch()));
      decoder_->forward(ctx, std::span<const BatchEntry>(batch).subspan(begin, end - begin),
                        nullptr, &capture);
      begin = end;
    }
  }

 private:
  void check_seq(int32_t seq) const {
    if (seq < 0 || seq >= cache_->n_seq()) {
      invalid("sequence " + std::to_string(seq) + " out of range [0, " +
              std::to_string(cache_->n_seq()) + ")");
    }
  }

  // Checks ids, sequences and positions of the whole batch before anything is evaluated;
  // returns the number of logits rows requested.
  size_t validate(std::span<const BatchEntry> batch) {
    for (int32_t s = 0; s < cache_->n_seq(); ++s)
      next_pos_[static_cast<size_t>(s)] = cache_->length(s);
    size_t n_out = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const BatchEntry& e = batch[i];
      // Messages are only built on failure: this loop runs once per token.
      auto where = [i] { return "batch entry " + std::to_string(i) + ": "; };
      if (e.token < 0 || e.token >= hp_.n_vocab) {
        invalid(where() + "token id " + std::to_string(e.token) + " out of range [0, " +
                std::to_string(hp_.n_vocab) + ")");
      }
      check_seq(e.seq);
      int32_t& expected = next_pos_[static_cast<size_t>(e.seq)];
      if (e.pos != expected) {
        invalid(where() + "position " + std::to_string(e.pos) + " of sequence " +
                std::to_string(e.seq) + " does not continue its cache (expected " +
                std::to_string(expected) + ")");
      }
      if (e.pos >= n_ctx_) {
        invalid(where() + "position " + std::to_string(e.pos) + " exceeds the context length " +
                std::to_string(n_ctx_));
      }
      ++expected;
      if (e.logits) ++n_out;
    }
    return n_out;
  }

  std::unique_ptr<ModelFiles> files_;
  HParams hp_;
  ModelWeights weights_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  int32_t n_ctx_ = 0;
  std::unique_ptr<kernels::ThreadPool> pool_;
  ResidentWeights resident_;  // options.huge_page_weights: the matrices weights_ points into
  std::unique_ptr<KvCache> cache_;
  LoraSet lora_;                                    // unmerged adapters (read by decoder_)
  std::vector<std::vector<float>> merged_weights_;  // float copies that weights_ points into
  PackedWeights packed_;  // options.packed_weights: the panel forms (read by decoder_)
  std::unique_ptr<Decoder> decoder_;
  std::vector<int32_t> next_pos_;

  // Every matrix the decoder multiplies, packed where its type has a panel form on this CPU.
  void pack_weights() {
    for (const kernels::WeightView* w : multiplied_matrices(weights_)) {
      if (w->data == nullptr || packed_.count(w->data) != 0) continue;
      auto packed = kernels::PackedWeight::pack(*pool_, *w);
      if (!packed && kernels::PackedWeight::has_panel_form(w->type)) {
        throw Error(ErrorCode::out_of_memory, "cannot allocate the packed weights");
      }
      if (packed) {
        packed_.emplace(w->data, std::move(packed));
        // Only the panels are read from now on (a tied embedding's rows fault back in as
        // looked up): the file's copy need not stay resident next to them.
        files_->release_pages(w->data, static_cast<size_t>(w->rows) * w->row_bytes);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Engine> Engine::load(const std::filesystem::path& path,
                                     const ModelLoadOptions& options) {
  return std::make_unique<NativeEngine>(open_model_files(path), options);
}

}  // namespace inference::engine
