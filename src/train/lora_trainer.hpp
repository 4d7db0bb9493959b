// train/lora_trainer.hpp — exact forward and backward passes of the decoder with trainable LoRA
// matrices on a frozen base.
//
// The base weights stay in their file format (any type the engine reads, quantised included)
// and are dequantised one projection at a time when a pass needs them. Every architecture
// feature the engine runs is differentiated: RMS norms (Gemma's stored 1 + w included), q/k
// biases and per-head norms, RoPE (normal and NeoX pairing, frequency factors, local/global
// theta), grouped-query causal attention with the sliding window, SwiGLU/GeGLU, post-attention
// and post-FFN norms, embedding scale, tied output. The loss is the cross-entropy of the
// targets whose mask is set (mask[i] = 1 trains token i as the prediction after tokens < i).
// Instantiated for float (training) and double (gradient checks against finite differences).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/hparams.hpp"
#include "engine/lora/lora_adapter.hpp"

namespace inference::kernels {
class ThreadPool;
}
namespace inference::engine {
class ModelFiles;
struct ModelWeights;
}  // namespace inference::engine

namespace inference::train {

class BaseProducts;

struct LoraTrainConfig {
  int32_t rank = 8;
  float alpha = 16.0f;
  /// Projections to adapt: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj.
  std::vector<std::string> targets = {"q_proj", "v_proj"};
  uint64_t seed = 0;
};

/// One trainable update: A rank×in, B out×rank, their gradients and AdamW moments.
template <typename T>
struct TrainMatrix {
  int32_t rank = 0, in = 0, out = 0;
  std::vector<T> a, b, grad_a, grad_b, m_a, v_a, m_b, v_b;
};

/// Where a pass's time went (seconds, summed since the last reset): the frozen base's products
/// forward and backward (output matrix excluded), the LoRA A/B products and their gradients,
/// attention forward and backward, the output matrix with the cross-entropy, and the whole pass.
struct TrainPhaseTimes {
  double base_forward = 0, base_backward = 0, lora = 0, attention = 0, output = 0, total = 0;
};

template <typename T>
struct TrainableLora {
  float scale = 1.0f;  ///< alpha / rank
  int32_t rank = 0;
  float alpha = 0.0f;
  std::vector<std::string> targets;
  std::vector<std::array<std::optional<TrainMatrix<T>>, engine::kProjections>> layers;
};

/// Parses "q_proj" … "down_proj" (also the GGUF names attn_q … ffn_down); nullopt otherwise.
std::optional<engine::Projection> parse_projection(std::string_view name);

template <typename T>
class LoraTrainer {
 public:
  /// Opens the base model (GGUF file or Hugging Face directory). Throws inference::Error.
  LoraTrainer(const std::filesystem::path& model, int32_t threads);
  ~LoraTrainer();
  LoraTrainer(const LoraTrainer&) = delete;
  LoraTrainer& operator=(const LoraTrainer&) = delete;

  const engine::HParams& hparams() const noexcept { return hp_; }
  /// Whether the base's q/k rows are in GGUF llama order (saved adapters are un-permuted).
  bool qk_permuted() const noexcept;

  /// New adapter: A Kaiming-uniform (bound 1/sqrt(in), as PEFT), B zero. Throws
  /// Error(invalid_argument) for an unknown target or a non-positive rank.
  void init(const LoraTrainConfig& config);
  TrainableLora<T>& lora() noexcept { return lora_; }
  const TrainableLora<T>& lora() const noexcept { return lora_; }

  /// When set, only each layer's input is kept during the forward pass and the rest is
  /// recomputed in the backward pass (less memory, ~1/3 more compute).
  void set_gradient_checkpointing(bool on) noexcept { checkpointing_ = on; }

  /// The float trainer runs its products on the engine's kernels (fast_products.hpp,
  /// fast_attention.hpp); set, it runs the plain loops over dequantised weights instead, the
  /// definition the fast path is tested against. The double trainer always runs the loops.
  void set_reference_path(bool on) noexcept { reference_ = on; }
  /// On the float path: the base's products in float over weights dequantised per call
  /// (fast_products.hpp, exact mode) instead of the engine's 8-bit products.
  void set_exact_products(bool on) noexcept;
  /// On the float path: keep the base's forward weights unpacked in the GEMM's panel form
  /// (~1.25 bytes per weight more memory, built on first use) instead of unpacking them on every
  /// product — faster passes for more memory.
  void set_resident_weights(bool on) noexcept;
  /// Bytes of those resident panels (0 when off, or before the first pass).
  size_t resident_weight_bytes() const noexcept;
  /// Bytes of the transposed base-weight copies the fast backward pass keeps (0 before the
  /// first backward pass, and on the reference path).
  size_t transposed_weight_bytes() const noexcept;
  const TrainPhaseTimes& phase_times() const noexcept { return times_; }
  void reset_phase_times() noexcept { times_ = {}; }

  void zero_grad();
  /// Forward and backward over one sequence: adds grad_scale·d(Σ masked losses) to the
  /// gradients and returns Σ masked losses (natural log). tokens.size() == mask.size().
  double accumulate(std::span<const int32_t> tokens, std::span<const uint8_t> mask,
                    double grad_scale);
  /// Σ masked losses without gradients.
  double loss(std::span<const int32_t> tokens, std::span<const uint8_t> mask);
  /// The logits rows of every position through this trainer's forward pass (tests).
  std::vector<float> logits(std::span<const int32_t> tokens);

 private:
  struct LayerCache;
  struct Pass;
  struct Scratch;
  void check_tokens(std::span<const int32_t> tokens) const;
  double run(std::span<const int32_t> tokens, std::span<const uint8_t> mask, double grad_scale,
             bool backward, std::vector<float>* logits_out);
  void layer_forward(int32_t il, Pass& pass, LayerCache& cache);
  void layer_backward(int32_t il, Pass& pass, LayerCache& cache, T* dx);
  void project_forward(int32_t il, engine::Projection p, const T* x, T* y, int64_t n);
  /// dx += the projection's input gradient; dy is consumed (overwritten by the fast path).
  void project_backward(int32_t il, engine::Projection p, const T* x, T* dy, T* dx, int64_t n);
  const std::vector<T>& dequantized(int32_t il, engine::Projection p);
  std::vector<T> vec(const std::vector<float>& v) const;
  bool fast() const noexcept;
  void attention_forward_pass(int32_t il, LayerCache& c, int64_t n);
  void attention_backward_pass(int32_t il, LayerCache& c, int64_t n, const std::vector<T>& datt,
                               std::vector<T>& dq, std::vector<T>& dk, std::vector<T>& dv);

  std::unique_ptr<engine::ModelFiles> files_;
  engine::HParams hp_;
  std::unique_ptr<engine::ModelWeights> weights_;
  std::unique_ptr<kernels::ThreadPool> pool_;
  TrainableLora<T> lora_;
  std::unique_ptr<BaseProducts> base_;  // the float trainer's engine-kernel products
  std::unique_ptr<Scratch> scratch_;    // a pass's buffers, reused by the next pass
  bool checkpointing_ = false;
  bool reference_ = false;
  TrainPhaseTimes times_;
  // The one projection dequantised last (reused while a pass stays on it).
  int32_t cached_layer_ = -1;
  int cached_projection_ = -1;
  std::vector<T> cached_weight_;
  std::vector<T> output_rows_;  // scratch for the output matrix, a block of rows at a time
};

extern template class LoraTrainer<float>;
extern template class LoraTrainer<double>;

}  // namespace inference::train
