// convert/file_type.cpp — see file_type.hpp.
#include "convert/file_type.hpp"

#include <cctype>

#include "kernels/cpu/quantize.hpp"

namespace inference::convert {

std::optional<FileTypeRequest> parse_file_type(std::string_view text) {
  std::string upper(text);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // The mixes (llama.cpp LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, Q5_K_M = 17).
  if (upper == "Q4_K_M") return FileTypeRequest{upper, formats::GgmlType::Q4_K, true, 15};
  if (upper == "Q5_K_M") return FileTypeRequest{upper, formats::GgmlType::Q5_K, true, 17};
  const auto type = formats::ggml_type_from_name(upper);
  if (!type) return std::nullopt;
  const auto file_type = formats::file_type_for_tensor_type(*type);
  if (!file_type) return std::nullopt;
  return FileTypeRequest{upper, *type, false, *file_type};
}

std::optional<FileTypeRequest> parse_quantize_type(std::string_view text) {
  auto request = parse_file_type(text);
  if (request && !kernels::quantize_supported(request->base)) return std::nullopt;
  return request;
}

}  // namespace inference::convert
