// formats/memory_estimate.hpp — how much memory loading a model would take (`infer fit`).
//
// memory = weights + KV cache + compute scratch, where (all in bytes)
//   weights  = sum of tensor data bytes (mapped from the file, resident once touched)
//   KV cache = slots × Σ_layers cells(layer) × n_kv_heads × (head_dim_k + head_dim_v) × kv_bytes
//              cells(layer) = min(ctx, sliding_window) for sliding-window layers, else ctx
//              kv_bytes = 4 (f32), 2 (f16), 34/32 (q8_0: 32 values in 34 bytes)
//   scratch  = 4 × B × (3·n_embd + n_heads·head_dim_k + 2·n_kv_heads·head_dim_k + 2·n_ff)
//              + 4 × n_heads × B × ctx      (attention scores of one micro-batch)
//              + 4 × vocab × slots          (one logits row per sequence)
//              B = min(ctx, batch) tokens per forward pass (default batch 512)
// The scratch term is an upper bound for an unfused implementation; it will be checked against
// measured memory once the engine runs.
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
};

struct MemoryEstimate {
  int64_t context = 0;  ///< the context used (after defaulting)
  int64_t slots = 1;
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
