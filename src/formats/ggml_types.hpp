// formats/ggml_types.hpp — the ggml tensor types: ids as stored in GGUF, names, block sizes.
// Shared by the file readers (sizes, validation) and the kernels (dispatch).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace inference::formats {

/// ggml type ids, exactly as stored in GGUF tensor tables.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  ///< "F32", "Q4_K", … (ggml's names, upper case)
  uint32_t block_size;    ///< elements per block (1 for plain types)
  uint32_t type_size;     ///< bytes per block
  bool quantized;
};

/// The table entry of a type id, or nullopt for ids this build does not know (including the
/// removed ids 4, 5, 31–33, 36–38).
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id) noexcept;
inline std::optional<GgmlTypeInfo> ggml_type_info(GgmlType type) noexcept {
  return ggml_type_info(static_cast<uint32_t>(type));
}
/// The type whose name is `name` (case-insensitive: "q4_k" works), or nullopt.
std::optional<GgmlType> ggml_type_from_name(std::string_view name) noexcept;

/// Bytes of one row of `n` elements of `type`, or nullopt if n is not a multiple of the block
/// size or the type is unknown. Overflow-checked.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n) noexcept;

/// The human name of a GGUF general.file_type value ("Q4_K - Medium", "F16", …), or "" if
/// unknown. (llama.cpp's LLAMA_FTYPE numbering.)
std::string_view file_type_name(uint32_t file_type) noexcept;

/// The general.file_type value a file whose weights are mostly `type` would carry (Q4_K gives
/// 15, "Q4_K - Medium"), or nullopt for types with no file type (I8…I64, F64, Q8_1, Q8_K).
/// Used to name files that lack the key: see gguf_file_type_name() in gguf.hpp.
std::optional<uint32_t> file_type_for_tensor_type(GgmlType type) noexcept;

}  // namespace inference::formats
