// convert/quantize_model.hpp — rewrites a GGUF model (or a Hugging Face Safetensors directory)
// with its weights in another block format, as llama-quantize does (convert/tensor_types.hpp has
// the rules). The blocks come from the kernels' reference quantisers, which reproduce
// llama-quantize bit for bit. All metadata is kept; general.quantization_version and
// general.file_type are set (moved to the end, like llama-quantize).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace inference::convert {

struct QuantizeOptions {
  std::string type;               ///< a file type (kQuantizeTypeNames)
  bool pure = false;              ///< every weight gets the base type (fallbacks still apply)
  bool allow_requantize = false;  ///< allow converting tensors that are already quantised
  int threads = 0;                ///< 0 = one per physical core
};

/// Called before each tensor (label = its name) and once before writing ("writing <out>"), with
/// the input bytes done so far of the total.
using QuantizeProgress =
    std::function<void(uint64_t done_bytes, uint64_t total_bytes, std::string_view label)>;

struct QuantizeResult {
  std::string type;  ///< the file type written, upper case
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
  size_t n_tensors = 0;
};

/// Reads `in` (a GGUF file, or a directory with config.json, *.safetensors and tokenizer.json),
/// writes `out`. Throws Error: invalid_argument for an unknown type, unsupported for tensors the
/// type cannot hold or that are already quantised (without allow_requantize), and the readers'
/// errors for bad input.
QuantizeResult quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options,
                              const QuantizeProgress& progress = {});

}  // namespace inference::convert
