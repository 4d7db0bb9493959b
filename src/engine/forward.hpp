// engine/forward.hpp — the decoder forward pass over one chunk of batch entries.
//
// One code path for every architecture (engine/arch) and every batch shape: prompt chunks,
// single-token decode and tokens of many sequences at once. All buffers are allocated in the
// constructor for the largest chunk; forward() allocates nothing.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "engine/hparams.hpp"
#include "engine/kv_cache.hpp"
#include "engine/lora/lora_adapter.hpp"
#include "engine/weights.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/ops/rope.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::engine {

/// Where forward() copies post-RoPE queries and keys (AttentionInspector); layout as
/// inference::AttentionSnapshot: queries [layer][head][token][dim], keys [layer][kv_head]
/// [token][dim], token = position.
struct AttentionCapture {
  float* queries = nullptr;
  float* keys = nullptr;
  int32_t n_tokens = 0;
};

/// Unmerged LoRA adapters and each sequence's scales of them. An adapter's own `scale` is its
/// alpha / r; the user's scale (LoadConfig, or a request's) is kept per sequence so a request can
/// replace it, as llama-server's per-request `lora` does.
struct LoraSet {
  std::vector<LoraAdapter> adapters;
  std::vector<float> default_scales;  ///< [adapter]: the scales the adapters were loaded with
  std::vector<float> seq_scales;      ///< [seq][adapter], default_scales by default
  int32_t max_rank = 0;
};

/// Weight matrices kept in the prompt GEMM's unpacked panel form, by their data pointer
/// (ModelLoadOptions::packed_weights).
using PackedWeights = std::unordered_map<const void*, std::unique_ptr<kernels::PackedWeight>>;

class Decoder {
 public:
  /// `lora` (may be null) must outlive the decoder; its scales may change between forwards.
  /// `packed` (may be null): matrices whose rows on fixed paths all take the panel GEMM
  /// without unpacking, generated and prompt rows alike (see ModelLoadOptions::packed_weights).
  Decoder(const HParams& hp, const ModelWeights& weights, KvCache& cache, kernels::ThreadPool& pool,
          int32_t max_batch, const LoraSet* lora = nullptr, const PackedWeights* packed = nullptr);

  int32_t max_batch() const noexcept { return max_batch_; }
  uint64_t scratch_bytes() const noexcept;

  /// Evaluates `chunk` (at most max_batch entries, already validated: positions continue each
  /// sequence's cache). Writes one n_vocab row to `logits` per entry with logits=true, in
  /// order. Checks ctx before every layer (throws Error(cancelled/deadline_exceeded)); the
  /// cache lengths are only advanced once the whole chunk is done.
  void forward(const Context& ctx, std::span<const BatchEntry> chunk, float* logits,
               const AttentionCapture* capture = nullptr);

 private:
  void embed(std::span<const BatchEntry> chunk);
  void attention_block(int32_t il, std::span<const BatchEntry> chunk,
                       const AttentionCapture* capture);
  void ffn_block(int32_t il, int32_t n);
  /// Per row: o = post_norm(o) if post_norm is not empty; x += o; h = next_norm(x) if
  /// next_norm is not null.
  void add_residual(int32_t n, const std::vector<float>& post_norm, const float* next_norm);
  void attend_all(int32_t il, std::span<const BatchEntry> chunk);
  /// Per-query attention for rows [row0, row0 + rows.size()) of the chunk.
  void attend_queries(int32_t il, std::span<const BatchEntry> rows, int32_t row0);
  /// attend_all for a prompt block of one sequence with the batched kernel; false if it does
  /// not apply (small or mixed batch, no kernel for this CPU, scratch unavailable).
  bool attend_prompt_block(int32_t il, std::span<const BatchEntry> chunk, int32_t row0 = 0,
                           bool any_size = false);
  /// attend_all through the split decode kernel (attention_decode.hpp): work items are
  /// (token, KV head, block of cells), merged per token afterwards; false if the kernel does
  /// not handle this head size or its scratch cannot be allocated. `chunk` holds rows
  /// [row0, row0 + chunk.size()) of the chunk forward() evaluates.
  bool attend_split(int32_t il, std::span<const BatchEntry> chunk, int32_t row0 = 0);
  void output(std::span<const BatchEntry> chunk, float* logits);
  void matmul(const kernels::WeightView& w, const float* x, int32_t n, float* y);
  /// matmul of projection p of layer il plus its LoRA updates for the rows of `chunk_`.
  void project(int32_t il, Projection p, const kernels::WeightView& w, const float* x, int32_t n,
               float* y);
  /// project() of several projections with the same input x (q/k/v, gate/up) through
  /// kernels::matmul_shared_input: same results, one activation quantisation and pool hand-off.
  void project_shared_input(int32_t il, std::initializer_list<Projection> ps,
                            std::initializer_list<const kernels::WeightView*> ws, const float* x,
                            int32_t n, std::initializer_list<float*> ys);
  /// The LoRA updates of projection p for the rows of `chunk_`, added to y.
  void apply_lora(int32_t il, Projection p, const kernels::WeightView& w, const float* x, int32_t n,
                  float* y);

  const HParams& hp_;
  const ModelWeights& w_;
  KvCache& cache_;
  kernels::ThreadPool& pool_;
  int32_t max_batch_;
  kernels::RopeConfig rope_global_, rope_local_;

  // Activations, max_batch rows each.
  std::vector<float> x_, h_, q_, k_, v_, att_, o_, gate_, up_;
  std::vector<float> angles_;              // [token][kind][rope_dims]: cos/sin pairs
  std::vector<float> attn_tmp_;            // per thread: scores (n_ctx) + rounded query (head_dim)
  std::vector<std::byte> act_scratch_;     // quantised activations for matmul()
  std::vector<float> block_attn_scratch_;  // per thread: attend_tokens scratch, grown on demand
  std::vector<int32_t> block_pos_;         // positions of a prompt block's tokens
  std::vector<float> split_scratch_;       // per thread: attend_decode_block scratch
  std::vector<float> split_partials_;      // per work item: one partial, grown on demand
  std::vector<int32_t> split_first_item_;  // per token of the chunk (+1): its first work item
  const LoraSet* lora_ = nullptr;
  const PackedWeights* packed_ = nullptr;
  /// The packed form of w when fixed paths are on and w has one; null otherwise.
  const kernels::PackedWeight* packed_for(const kernels::WeightView& w) const;
  std::span<const BatchEntry> chunk_;  // the chunk forward() is evaluating
  bool fixed_paths_ = false;           // the chunk's entries say their RowKind (none is automatic)
  int32_t n_generated_ = 0;            // its leading RowKind::generated entries
  std::vector<float> lora_scale_;      // per row of the chunk
  std::vector<float> lora_tmp_;        // per row: max_rank floats (s·A·x)
};

}  // namespace inference::engine
