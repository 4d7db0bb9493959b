// testing/generate_lora.hpp — writes a random LoRA adapter (llama.cpp's GGUF LoRA format) for a
// named model shape, so the cost of serving an unmerged adapter can be measured on real shapes
// (`infer gen-lora`, `infer bench --lora`) without training one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "testing/model_shapes.hpp"

namespace inference::testing {

struct GenerateLoraOptions {
  int32_t rank = 16;
  float alpha = 32.0f;
  /// q_proj … down_proj (or attn_q … ffn_down); all seven by default.
  std::vector<std::string> targets = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                      "gate_proj", "up_proj", "down_proj"};
  uint64_t seed = 1;
};

struct GeneratedLora {
  size_t n_tensors = 0;
  uint64_t parameters = 0;
};

/// Writes the adapter to `out` (F32 A and B, both random: B is not zero, so applying it does
/// the full work and changes the output). Throws Error(invalid_argument) for an unknown target
/// or a rank outside [1, 1024].
GeneratedLora generate_lora(const ModelShape& shape, const std::filesystem::path& out,
                            const GenerateLoraOptions& options);

}  // namespace inference::testing
