// perf/model_traffic.hpp — how many bytes of a GGUF model one forward pass must read, per tensor
// kind. Decode is memory-bound, so bytes read / time is the benchmark's GB/s, and its ratio to
// the measured memory bandwidth says how close to the ceiling the engine runs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "formats/gguf.hpp"
#include "formats/memory_estimate.hpp"

namespace inference::perf {

/// "attn_q" for "blk.3.attn_q.weight", "output_norm" for "output_norm.weight".
std::string tensor_kind(std::string_view name);

struct ModelTraffic {
  uint64_t bytes_per_pass = 0;  ///< weights read by one forward pass (any batch size)
  std::map<std::string, uint64_t> bytes_by_kind;
  bool tied_output = false;  ///< token_embd is also the output matrix
};

/// Every tensor is read once per pass, except the embedding table, of which only the rows of
/// the batch's tokens are read — unless it doubles as the output matrix (tied embeddings).
ModelTraffic model_traffic(const formats::GgufFile& file);

/// The KV cache an F16 cache of n_ctx positions needs for the model's hyper-parameters
/// (every layer full-length: an upper bound for models with sliding-window layers).
uint64_t kv_cache_bytes_f16(const formats::GgufFile& file, int64_t n_ctx);
/// The same for a cache of `type` elements (Q8_0: 34 bytes per 32 elements). With n_ctx = the
/// positions one query sees, it is also the KV bytes that query reads.
uint64_t kv_cache_bytes(const formats::GgufFile& file, int64_t n_ctx, formats::KvCacheType type);

}  // namespace inference::perf
