// engine/lora/lora_adapter.hpp — LoRA adapters on the decoder's projections.
//
// An adapter adds a low-rank update to some of the seven projections of each layer:
//   y = W·x + s·B·(A·x),   A: r × in,  B: out × r,  s = the adapter's scale × the request's scale
// Applied unmerged (the base weights stay as they are in the file, quantised or not, so several
// adapters can share one base in memory) or merged into float copies of the weights at load.
//
// Three file formats are read (lora_readers.cpp): llama.cpp GGUF LoRA files, PEFT directories and
// mlx-lm adapter directories. They all end up here in one form: float A and B in the row order of
// the loaded base weights. GGUF files of llama-family models store q/k rows permuted (rotary
// halves interleaved per head) while Hugging Face checkpoints do not, so B rows of q/k are
// permuted (or un-permuted) when adapter and base disagree.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/hparams.hpp"
#include "inference/types.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::engine {

/// The projections an adapter may target, in LayerWeights order.
enum class Projection : int { q, k, v, o, gate, up, down };
inline constexpr int kProjections = 7;

/// One low-rank update: A is rank × in (row-major); B (out × rank in the files) is kept
/// transposed, rank × out, so that B·t runs along contiguous output rows in SIMD lanes instead
/// of one 16-float dot product and its horizontal sum per output value.
struct LoraMatrix {
  int32_t rank = 0, in = 0, out = 0;
  std::vector<float> a, b_t;
};

struct LoraAdapter {
  std::string source;  ///< path, for messages
  float scale = 1.0f;  ///< alpha / r (rsLoRA: alpha / sqrt(r); mlx: its scale) × the user's scale
  /// [layer][projection]; absent where the adapter does not touch that projection.
  std::vector<std::array<std::optional<LoraMatrix>, kProjections>> layers;
  int32_t max_rank = 0;
};

/// Tensors as read from an adapter file, before they are matched to the model.
struct RawLoraTensor {
  int32_t layer = -1;
  Projection projection = Projection::q;
  int32_t rows = 0, cols = 0;  ///< as stored (row-major)
  std::vector<float> values;
  bool transposed = false;  ///< mlx-lm stores A as in × r and B as r × out
};

struct RawLoraAdapter {
  std::string source;
  float scale = 1.0f;
  bool permuted_qk = false;  ///< q/k rows in GGUF llama order (a GGUF adapter of such a model)
  std::vector<RawLoraTensor> a, b;  ///< matched by (layer, projection)
};

/// Reads a PEFT directory, an mlx-lm directory or a GGUF LoRA file. Throws Error(not_found,
/// invalid_model, unsupported) naming the file and tensor.
RawLoraAdapter read_lora_adapter(const std::filesystem::path& path);

/// Matches `raw` to a model with hyper-parameters `hp`: checks every shape against the
/// projection it targets (Error(invalid_argument) naming the tensor), converts to A (r × in) and
/// B (out × r), and permutes q/k rows into the base's order. `base_qk_permuted`: the base's q/k
/// rows are in GGUF llama order. `user_scale` multiplies the adapter's own scale.
LoraAdapter bind_lora_adapter(RawLoraAdapter raw, const HParams& hp, bool base_qk_permuted,
                              float user_scale);

/// The output size of `p` for hp (q: n_head·head_dim, k/v: n_head_kv·head_dim, o/down: n_embd,
/// gate/up: n_ff) and its input size.
int32_t projection_out(const HParams& hp, Projection p) noexcept;
int32_t projection_in(const HParams& hp, Projection p) noexcept;
const char* projection_name(Projection p) noexcept;
/// "q_proj" … "down_proj", a dotted module path ending in one ("self_attn.q_proj"), or the GGUF
/// names attn_q … ffn_down → the projection; nullopt for anything else.
std::optional<Projection> parse_projection_name(std::string_view module) noexcept;

/// y[t] += scale[t] · B·(A·x[t]) for n rows; x rows of m.in floats (stride x_stride), y rows of
/// m.out floats (stride y_stride). `tmp` holds n · m.rank floats. Rows with scale 0 get nothing
/// added. The A·x of every row, then the B rows, are split over `pool`; each output value is
/// computed the same way whatever n and the thread count are.
void apply_lora(kernels::ThreadPool& pool, const LoraMatrix& m, const float* x, int64_t x_stride,
                int32_t n, const float* scale, float* y, int64_t y_stride, float* tmp);

/// Maps GGUF-llama q/k row order to Hugging Face order or back for `n_heads` heads of
/// `head_dim` rows; `to_gguf` chooses the direction. rows: n_heads·head_dim rows of `cols`.
void permute_qk_rows(std::vector<float>& rows, int32_t n_heads, int32_t head_dim, int32_t cols,
                     bool to_gguf);

}  // namespace inference::engine

namespace inference::engine {

struct ModelWeights;
struct LayerWeights;
struct LoraSet;

/// The weight of projection `p` in a layer.
const kernels::WeightView& projection_weight(const LayerWeights& layer, Projection p) noexcept;

/// Largest magnitude of a user's adapter scale (load time or per request).
inline constexpr float kMaxAdapterScale = 1000.0f;

/// Reads and binds every adapter of `configs` for a model with `hp` whose q/k rows are in GGUF
/// llama order when `base_qk_permuted`; each of `n_seq` sequences starts at the configs' scales.
LoraSet load_lora_set(std::span<const AdapterConfig> configs, const HParams& hp,
                      bool base_qk_permuted, int32_t n_seq);

/// Merges `set` into float32 copies of the projections it touches (W += s·B·A) and points
/// `weights` at them; the copies are appended to `storage`, which must outlive `weights`.
void merge_lora_set(const LoraSet& set, ModelWeights& weights,
                    std::vector<std::vector<float>>& storage);

}  // namespace inference::engine
