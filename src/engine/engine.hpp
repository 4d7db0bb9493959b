// engine/engine.hpp — the native engine's entry points: a loaded model and a runtime that
// evaluates batches of (token, position, sequence) entries against a per-sequence KV cache.
//
// One code path for prompt processing, single-stream decode and many concurrent sequences.
// The generator (sampling, stop handling, streaming) and the native backend are built on this.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inference/context.hpp"
#include "inference/types.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::engine {

struct ModelLoadOptions {
  int32_t context_length = 0;  ///< 0 = model default, capped (see docs/architecture.md)
  int32_t n_sequences = 1;     ///< KV cache slots (parallel sequences)
  int32_t threads = 0;         ///< 0 = physical cores
  std::string kv_cache_type;   ///< "" / "f16" (default), "f32", "q8_0" (half the bytes of f16)
  int32_t batch_size = 0;      ///< most tokens per forward chunk; 0 = min(256, context)
  /// LoRA adapters (engine/lora): applied unmerged on top of the base weights, or merged into
  /// float copies of the weights they touch when merge_adapters.
  std::vector<AdapterConfig> adapters;
  bool merge_adapters = false;
  /// Make the whole KV cache resident at load (KvCache::prefault): a server's memory is then
  /// its steady state from the start, with no page faults in the middle of a request.
  bool prefault_kv = false;
  /// Also keep every weight matrix that has one in the prompt GEMM's panel form
  /// (kernels::PackedWeight: 0.75–1.25 bytes per weight on AVX-512, 1.25 with AVX2), and drop
  /// the file's pages of those matrices from resident memory. Rows on fixed paths (continuous
  /// batching, RowKind) then all take the panel GEMM without unpacking: a decode step of many
  /// streams multiplies the weights at prompt-processing speed, read once for all of them; one
  /// stream alone decodes about as fast as on the row-vector kernels on AVX-512 (slower with
  /// AVX2's byte panels). Still batch-invariant: a row gets the same bits alone or in any
  /// batch. A throughput option for servers with many concurrent streams.
  bool packed_weights = false;
  /// Copy the weight matrices out of the file mapping into memory advised as transparent huge
  /// pages (engine/resident_weights.hpp: decode streams them faster; the file's pages are
  /// released, so resident memory holds them once). Ignored with packed_weights, and where the
  /// system has no huge pages.
  bool huge_page_weights = true;
};

/// How the kernels for a batch entry are chosen.
/// - `automatic`: by the chunk's size (fastest; a row's rounding depends on its neighbours).
/// - `generated` / `prompt`: fixed per kind whatever else shares the chunk — a generated token
///   takes the row-vector kernels and per-query attention (as a decode of one token does), a
///   prompt token the prompt kernels (panel GEMM, blocked attention) — so a sequence gets the
///   same bits alone or in any batch. Continuous batching marks its entries so; a chunk that
///   does must list its `generated` entries first.
enum class RowKind : uint8_t { automatic, generated, prompt };

/// One entry of a batch.
struct BatchEntry {
  int32_t token = 0;
  int32_t pos = 0;
  int32_t seq = 0;
  bool logits = false;  ///< produce the logits row for this entry
  RowKind kind = RowKind::automatic;
};

class Model;

/// Weights + tokenizer + template + runtime state (KV cache, thread pool, scratch).
/// Not thread-safe: the caller (native backend) serialises calls.
class Engine {
 public:
  /// Loads a GGUF file or a Safetensors model directory. Throws inference::Error.
  static std::unique_ptr<Engine> load(const std::filesystem::path& path,
                                      const ModelLoadOptions& options);
  virtual ~Engine() = default;

  /// Evaluates `batch`; writes one row of n_vocab() logits to `logits` per entry with
  /// logits=true, in batch order (logits is resized). Checks ctx between layers/chunks and
  /// throws Error(cancelled/deadline_exceeded) when it is done. Positions of a sequence must
  /// continue its cache (pos == sequence_length(seq) for the first entry of each sequence).
  virtual void decode(const Context& ctx, std::span<const BatchEntry> batch,
                      std::vector<float>& logits) = 0;

  /// Forgets cached positions >= from_pos of `seq` (from_pos 0 clears it). Models with
  /// sliding-window layers keep only the last window + batch_size positions of those layers;
  /// if the kept prefix would need older ones, the sequence is cleared instead: check
  /// sequence_length() afterwards and re-feed what is missing.
  virtual void truncate_sequence(int32_t seq, int32_t from_pos) = 0;
  virtual int32_t sequence_length(int32_t seq) const = 0;
  /// The tokens currently cached for `seq` (for prefix reuse across chat turns).
  virtual std::span<const int32_t> sequence_tokens(int32_t seq) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t context_length() const = 0;
  virtual int32_t n_sequences() const = 0;
  virtual const tokenizer::Tokenizer& tokenizer() const = 0;
  /// The model's Jinja chat template source ("" if the file has none).
  virtual const std::string& chat_template_source() const = 0;
  virtual ModelInfo info() const = 0;
  /// Bytes held now (weights mapped + cache + scratch).
  virtual uint64_t memory_bytes() const = 0;
  /// Weight bytes one forward pass reads (engine/weights.hpp weight_bytes_per_token); 0 if
  /// unknown.
  virtual uint64_t weight_bytes_per_token() const { return 0; }

  /// Number of LoRA adapters applied unmerged (0 when none or merged at load).
  virtual int32_t n_adapters() const { return 0; }
  /// The unmerged adapters, in load order, with the scales they were loaded with.
  virtual std::vector<AdapterConfig> adapters() const { return {}; }
  /// Per-sequence scales of the unmerged adapters (index = adapter; each multiplies the
  /// adapter's own alpha / r and replaces the scale it was loaded with), used by every later
  /// decode of `seq` until changed; adapters past the end of `scales` get their load-time scale.
  /// Throws Error(invalid_argument) when more scales than adapters are given or one is outside
  /// [-1000, 1000].
  virtual void set_adapter_scales(int32_t seq, std::span<const float> scales) {
    (void)seq;
    if (!scales.empty())
      throw Error(ErrorCode::invalid_argument, "this model was loaded without LoRA adapters");
  }

  /// Post-RoPE Q and K of every layer for `tokens` evaluated as one fresh sequence in slot `seq`
  /// (which is cleared first). Layout as inference::AttentionSnapshot.
  virtual void capture_attention(const Context& ctx, std::span<const int32_t> tokens, int32_t seq,
                                 std::vector<float>& queries, std::vector<float>& keys) = 0;
};

}  // namespace inference::engine
