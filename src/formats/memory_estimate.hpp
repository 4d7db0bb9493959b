// formats/memory_estimate.hpp — how much memory loading a model would take (`infer fit`).
//
// memory = weights + KV cache + compute scratch, where (all in bytes; B = min(ctx, batch)
// tokens per forward pass, T = threads; the terms follow the native engine's buffers)
//   weights  = sum of tensor data bytes (mapped from the file, resident once touched)
//   KV cache = slots × Σ_layers cells(layer) × n_kv_heads × (head_dim_k + head_dim_v) × kv_bytes
//              cells(layer) = min(ctx, sliding_window + B) for sliding-window layers (the engine
//              keeps the window plus one batch), else ctx
//              kv_bytes = 4 (f32), 2 (f16), 34/32 (q8_0: 32 values in 34 bytes)
//   scratch  = 4 × B × (3·n_embd + 2·q_dim + 2·kv_dim + 2·n_ff + 2·head_dim_k)   activations
//              + 4 × B × max(n_embd, n_ff)        quantised activations (upper bound)
//              + 4 × T × (ctx + head_dim_k)       attention scores, one row per thread
//              + 4 × vocab × slots                one logits row per sequence
//              q_dim = n_heads × head_dim_k, kv_dim = n_kv_heads × head_dim_k
// It will be checked against measured memory once the engine runs (docs/formats.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/model_summary.hpp"

namespace inference::formats {

enum class KvCacheType { f32, f16, q8_0 };
/// "f32" / "f16" / "q8_0", or nullopt.
std::optional<KvCacheType> kv_cache_type_from_name(std::string_view name) noexcept;
std::string_view to_string(KvCacheType type) noexcept;

struct FitOptions {
  int64_t context = 0;  ///< tokens per slot; 0 = the model's training context
  int64_t slots = 1;    ///< concurrent sequences
  KvCacheType kv_type = KvCacheType::f16;
  int64_t batch = 512;  ///< tokens per forward pass during prompt processing
  int64_t threads = 0;  ///< 0 = std::thread::hardware_concurrency()
};

struct MemoryEstimate {
  int64_t context = 0;  ///< the context used (after defaulting)
  int64_t slots = 1;
  int64_t threads = 1;  ///< the thread count used (after defaulting)
  uint64_t weights_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  uint64_t scratch_bytes = 0;
  uint64_t total_bytes = 0;
  int64_t sliding_layers = 0;  ///< layers whose cache holds only the window
};

/// Applies the formula above. Throws Error(invalid_argument) for non-positive options or a
/// model lacking the shape (layers, heads, head size) the KV term needs; all arithmetic is
/// overflow-checked (Error(invalid_argument) if the result exceeds 2^64 bytes).
MemoryEstimate estimate_memory(const ModelSummary& model, const FitOptions& options);

/// Parses a byte count: "17179869184", "16G"/"16GiB" (×1024³), "16GB" (×10⁹), also K/M/T.
/// Throws Error(invalid_argument) naming the text.
uint64_t parse_byte_size(std::string_view text);

/// MemAvailable from /proc/meminfo, or nullopt where it cannot be read.
std::optional<uint64_t> available_memory_bytes();

}  // namespace inference::formats
