// cli/tensor_type_mix.hpp — which ggml type each tensor of a generated model gets for a
// requested file type, following llama.cpp's published llama-quantize rules, so a generated
// "Q4_K_M" file has the same byte count per tensor as a real one (benchmarks depend on it).
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "cli/model_shapes.hpp"
#include "formats/ggml_types.hpp"

namespace inference::cli {

using formats::GgmlType;

/// A requested file type: a plain tensor type (F32, F16, BF16, Q8_0, Q4_0, Q6_K, …) or a mix
/// (Q4_K_M, Q5_K_M) whose base type is promoted on some tensors.
struct FileTypeRequest {
  std::string name;            ///< as the user wrote it, upper case
  GgmlType base;               ///< the type most weights get
  bool medium_mix = false;     ///< the _M rules: attn_v / ffn_down promoted on some layers
  uint32_t general_file_type;  ///< llama.cpp's LLAMA_FTYPE value written as general.file_type
};

/// Parses "F16", "q8_0", "Q4_K_M", …; nullopt for names this generator cannot write.
inline std::optional<FileTypeRequest> parse_file_type(std::string_view text) {
  std::string upper(text);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // The mixes (llama.cpp LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, Q5_K_M = 17).
  if (upper == "Q4_K_M") return FileTypeRequest{upper, GgmlType::Q4_K, true, 15};
  if (upper == "Q5_K_M") return FileTypeRequest{upper, GgmlType::Q5_K, true, 17};
  auto type = formats::ggml_type_from_name(upper);
  if (!type) return std::nullopt;
  auto file_type = formats::file_type_for_tensor_type(*type);
  if (!file_type) return std::nullopt;
  return FileTypeRequest{upper, *type, false, *file_type};
}

/// llama.cpp's use_more_bits(): the first and last eighth of the layers and every third one
/// in between get the bigger type in the _M mixes.
inline bool use_more_bits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

/// The type llama-quantize falls back to when a row is not a multiple of 256 (K-quant blocks).
inline GgmlType k_quant_fallback(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K:
      return GgmlType::Q5_0;
    case GgmlType::Q5_K:
      return GgmlType::Q5_1;
    case GgmlType::Q6_K:
      return GgmlType::Q8_0;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
      return GgmlType::IQ4_NL;
    default:
      return type;
  }
}

/// The type of one tensor of a model written as `request`.
inline GgmlType tensor_type_for(const FileTypeRequest& request, const TensorSpec& tensor,
                                int64_t n_layers, bool tied) {
  // 1-D tensors (norms, biases, rope factors) stay F32 in every llama.cpp file type.
  if (tensor.ne.size() < 2) return GgmlType::F32;
  GgmlType type = request.base;
  auto info = formats::ggml_type_info(type);
  const bool quantized = info && info->quantized;
  // The output matrix (token_embd when tied) gets Q6_K in every quantised type but Q8_0.
  const bool is_output =
      tensor.role == TensorRole::output || (tied && tensor.role == TensorRole::embedding);
  if (quantized && is_output && type != GgmlType::Q8_0) {
    type = GgmlType::Q6_K;
  } else if (request.medium_mix &&
             (tensor.role == TensorRole::attn_v || tensor.role == TensorRole::ffn_down) &&
             use_more_bits(tensor.layer, n_layers)) {
    type = GgmlType::Q6_K;
  }
  auto final_info = formats::ggml_type_info(type);
  if (final_info && tensor.ne[0] % final_info->block_size != 0) type = k_quant_fallback(type);
  return type;
}

}  // namespace inference::cli
