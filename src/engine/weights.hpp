// engine/weights.hpp — the model's weights bound by role: per-layer projections as matmul
// views into the mapped file (never copied), and the small vectors (norms, biases, rope
// factors) as float copies so every later use is plain float arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/hparams.hpp"
#include "engine/tensor_source.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::engine {

struct LayerWeights {
  std::vector<float> attn_norm;
  kernels::WeightView wq, wk, wv, wo;
  std::vector<float> bq, bk, bv;      ///< empty when the architecture has no biases
  std::vector<float> q_norm, k_norm;  ///< head_dim each, when the architecture has Q/K norms
  std::vector<float> post_attn_norm;  ///< post-norm architectures only
  std::vector<float> ffn_norm;
  kernels::WeightView gate, up, down;
  std::vector<float> post_ffn_norm;
};

struct ModelWeights {
  /// Embedding table: n_vocab rows of n_embd (any block type; rows are dequantised on lookup).
  kernels::WeightView token_embd;
  std::vector<float> output_norm;
  kernels::WeightView output;     ///< token_embd when the model ties them
  std::vector<float> rope_freqs;  ///< rope_dims/2 divisors, or empty
  std::vector<LayerWeights> layers;
  uint64_t parameter_count = 0;
};

/// Binds every tensor the architecture needs, checking presence, shape and type. Sets
/// hp.n_vocab from the embedding. Throws Error(invalid_model / unsupported) naming the tensor.
ModelWeights bind_weights(const TensorSource& source, HParams& hp);

/// Every matrix view the decoder multiplies: the output matrix, then each layer's q, k, v, o,
/// gate, up and down (views of the same data may repeat: a tied output is the embedding's).
std::vector<kernels::WeightView*> multiplied_matrices(ModelWeights& w);

/// The weight bytes one forward pass reads whatever its batch size: every matrix whole, the
/// small float vectors, and one embedding row per token — unless the embedding doubles as the
/// output matrix (tied), when it is read whole. Decode is memory-bound, so this × tokens/s is
/// the GB/s a consumer can show (GenerateMetrics::bytes_per_token); for a GGUF file it equals
/// perf::model_traffic's bytes_per_pass.
uint64_t weight_bytes_per_token(const ModelWeights& w);

}  // namespace inference::engine
