// convert/file_type.hpp — a requested GGUF file type ("F16", "Q8_0", "Q4_K_M", …): the base
// tensor type and whether it is one of llama.cpp's _M mixes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/ggml_types.hpp"

namespace inference::convert {

struct FileTypeRequest {
  std::string name;                ///< as the user wrote it, upper case
  formats::GgmlType base;          ///< the type most weights get
  bool medium_mix = false;         ///< the _M rules: attn_v / ffn_down promoted on some layers
  uint32_t general_file_type = 1;  ///< llama.cpp's LLAMA_FTYPE value written as general.file_type
};

/// Parses "F16", "q8_0", "Q4_K_M", …; nullopt for names that are no GGUF file type.
std::optional<FileTypeRequest> parse_file_type(std::string_view text);

/// parse_file_type, restricted to the types the kernels' reference quantiser writes (what
/// quantize_model accepts).
std::optional<FileTypeRequest> parse_quantize_type(std::string_view text);

/// The types quantize_model accepts, for messages.
inline constexpr std::string_view kQuantizeTypeNames =
    "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q4_K_M, Q5_K_M";

}  // namespace inference::convert
