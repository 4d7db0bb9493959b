// testing/model_shapes.hpp — the named model shapes `infer gen-model` (testing::generate_model)
// can write, and the tensor list of a shape (from the architecture table, src/arch).
//
// Shapes are published hyper-parameters of real models (so benchmarks of random-weight files
// read exactly the bytes the real model would), plus tiny ones for tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arch/tensors.hpp"

namespace inference::testing {

struct ModelShape {
  std::string_view name;          ///< what --shape takes: "llama-3.2-1b"
  std::string_view architecture;  ///< general.architecture: "llama", "qwen2", "gemma3"
  std::string_view display_name;  ///< general.name
  int64_t n_embd;
  int64_t n_layer;
  int64_t n_head;
  int64_t n_head_kv;
  int64_t head_dim;
  int64_t n_ff;
  int64_t n_vocab;
  int64_t n_ctx_train;
  float rope_theta;
  float rope_theta_swa;    ///< gemma3 local layers; 0 = no sliding window
  int64_t sliding_window;  ///< gemma3; 0 = none
  float rms_eps;
  // Which tensors exist besides these (biases, q/k norms, post-norms) is the architecture's
  // (src/arch), not the shape's.
  bool tied;         ///< no output.weight: the output matrix is token_embd
  bool llama3_rope;  ///< rope_freqs.weight with Llama 3 frequency scaling
};

// Llama 3 RoPE scaling of Llama-3.2-1B's config.json (factor 32, low 1, high 4, original 8192).
inline constexpr float kLlama3RopeFactor = 32.0f;
inline constexpr float kLlama3LowFreqFactor = 1.0f;
inline constexpr float kLlama3HighFreqFactor = 4.0f;
inline constexpr int64_t kLlama3OriginalContext = 8192;

// clang-format off
inline constexpr std::array<ModelShape, 6> kModelShapes = {{
    // name, arch, display, embd, layers, heads, kv, head_dim, ffn, vocab, ctx,
    // theta, theta_swa, window, eps, tied, llama3_rope
    {"llama-3.2-1b", "llama", "Llama-3.2-1B (random weights)",
     2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000.0f, 0.0f, 0, 1e-5f, true, true},
    {"gemma-3-1b", "gemma3", "Gemma-3-1B (random weights)",
     1152, 26, 4, 1, 256, 6912, 262144, 32768, 1000000.0f, 10000.0f, 512, 1e-6f, true, false},
    {"qwen2.5-0.5b", "qwen2", "Qwen2.5-0.5B (random weights)",
     896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000.0f, 0.0f, 0, 1e-6f, true, false},
    // Tiny shapes for tests: one per architecture, rows a multiple of 256 so K-quants apply.
    {"tiny-llama", "llama", "tiny llama (random weights)",
     256, 2, 4, 2, 64, 512, 1024, 2048, 10000.0f, 0.0f, 0, 1e-5f, false, false},
    {"tiny-qwen2", "qwen2", "tiny qwen2 (random weights)",
     256, 2, 4, 2, 64, 512, 1024, 2048, 1000000.0f, 0.0f, 0, 1e-6f, true, false},
    {"tiny-gemma3", "gemma3", "tiny gemma3 (random weights)",
     256, 6, 4, 1, 64, 512, 1024, 2048, 1000000.0f, 10000.0f, 8, 1e-6f, true, false},
}};
// clang-format on

/// The shape called `name`, or null.
const ModelShape* find_model_shape(std::string_view name);

/// "llama-3.2-1b, gemma-3-1b, …" (for messages).
std::string model_shape_names();

using arch::TensorRole;
using arch::TensorSpec;

/// Every tensor of `shape`, in the order llama.cpp's converter writes them (arch::tensor_list).
std::vector<TensorSpec> model_tensors(const ModelShape& shape);

}  // namespace inference::testing
