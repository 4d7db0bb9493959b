// testing/generate_model.hpp — writes a random-weight GGUF model of a named real shape
// (Llama-3.2-1B, Gemma-3-1B, Qwen2.5-0.5B, tiny test shapes) with complete metadata and llama.cpp
// tensor names, so benchmarks and tests can use real shapes without downloading weights. The
// tensor types of a file type are llama-quantize's (convert::choose_tensor_types), so a
// generated Q4_K_M reads exactly the bytes a real one does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "testing/model_shapes.hpp"

namespace inference::testing {

struct GenerateModelOptions {
  std::string type = "F16";          ///< file type: F32, F16, BF16, Q8_0, Q4_K_M, …
  uint64_t seed = 1;                 ///< same seed, same bytes (whatever the thread count)
  int threads = 0;                   ///< 0 = all hardware threads
  std::filesystem::path vocab_from;  ///< copy tokenizer.* from this GGUF (else synthetic)
  /// Called after each tensor with (tensors done, tensors in all).
  std::function<void(size_t, size_t)> progress;
};

struct GeneratedModel {
  std::string type;  ///< the file type written, upper case
  size_t n_tensors = 0;
  uint64_t parameters = 0;
};

/// Writes the model to `out`. Throws Error(invalid_argument) for an unknown file type,
/// Error(unsupported) for a type whose tensors the quantiser cannot write.
GeneratedModel generate_model(const ModelShape& shape, const std::filesystem::path& out,
                              const GenerateModelOptions& options);

}  // namespace inference::testing
