// formats/model_summary_detail.hpp — the per-format halves of summarize_model() (private).
#pragma once

#include <string>
#include <string_view>

#include "formats/model_summary.hpp"

namespace inference::formats {

ModelSummary summarize_gguf(const std::filesystem::path& path);
/// `path`: a .safetensors file or a model directory.
ModelSummary summarize_safetensors(const std::filesystem::path& path);

/// `text` in double quotes with control characters escaped, cut to `limit` bytes ("…" marks
/// the cut; a cut never splits a UTF-8 sequence).
std::string quote_for_display(std::string_view text, size_t limit);

}  // namespace inference::formats
