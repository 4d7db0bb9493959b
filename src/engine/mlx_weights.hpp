// engine/mlx_weights.hpp — MLX grouped-affine quantised weights (as mlx-community publishes them)
// converted once at load into block formats the CPU kernels multiply with.
//
// MLX stores a quantised Linear/Embedding as three tensors: `<name>.weight` (uint32, `32/bits`
// values per word, packed low bits first along the input dimension), `<name>.scales` and
// `<name>.biases` (one per group of `group_size` inputs, F16/BF16/F32); w = scale * q + bias.
// Both conversions are lossless:
// - 4-bit -> Q4_1 (blocks of 32, d = scale, m = bias in fp16) when every scale and bias of the
//   tensor is an fp16 value (always for F16 checkpoints; for BF16/F32 ones when in range). The
//   Q4_1 dequantiser computes q * d + m, exactly MLX's value, and all Q4_1 kernels apply.
// - 8-bit, and 4-bit tensors with a scale or bias fp16 cannot hold -> kMlxAffine8 blocks
//   (kernels/cpu/mlx_affine8.hpp: float32 scale and bias, one byte per value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "formats/ggml_types.hpp"
#include "formats/safetensors.hpp"

namespace inference::engine {

/// One tensor's MLX setting (from config.json's quantization entry, or its per-layer override).
struct MlxQuantSpec {
  int64_t group_size = 0;
  int64_t bits = 0;
};

/// Whether the kernels run `spec` (bits 4 or 8, group size 32, 64 or 128).
bool mlx_spec_supported(const MlxQuantSpec& spec) noexcept;

/// A converted weight matrix: `rows` rows of `cols` values in `type` blocks, owned.
struct MlxConvertedWeight {
  formats::GgmlType type = formats::GgmlType::Q4_1;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<std::byte> data;
  bool fp16_exact = true;  ///< false: a 4-bit tensor kept as kMlxAffine8 (scales beyond fp16)
};

/// Validates and converts one quantised tensor. `where` (the model directory) and the tensor
/// names start every error: Error(invalid_model) for wrong dtypes, shapes that disagree with each
/// other or with `spec`, non-finite scales or biases; Error(unsupported) for a spec the kernels do
/// not run.
MlxConvertedWeight convert_mlx_weight(const formats::SafetensorsTensor& weight,
                                      const formats::SafetensorsTensor& scales,
                                      const formats::SafetensorsTensor& biases, MlxQuantSpec spec,
                                      const std::string& where);

/// All rows of a converted weight as float32 (embedding lookups of a type the lookup cannot
/// dequantise; see SafetensorsTensorSource).
std::vector<float> dequantize_mlx_weight(const MlxConvertedWeight& w);

/// Tells the kernel that the pages of `bytes`, which must lie in a read-only FILE mapping, are no
/// longer needed, so a converted tensor's source does not stay resident (they are re-read from
/// the file if touched again). Never pass anonymous memory: its contents would be discarded.
void release_mapped_pages(std::span<const std::byte> bytes) noexcept;

}  // namespace inference::engine
