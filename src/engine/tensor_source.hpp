// engine/tensor_source.hpp — where the engine's weights come from: a table of named tensors in
// GGUF naming ("blk.0.attn_q.weight"), viewed in place in a mapped file.
//
// GGUF files are a source directly; a Hugging Face Safetensors directory is a source that
// translates its names to these (see safetensors_source.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ggml_types.hpp"

namespace inference::formats {
class GgufFile;
}

namespace inference::engine {

struct TensorRef {
  formats::GgmlType type = formats::GgmlType::F32;
  std::vector<int64_t> ne;  ///< ggml order: ne[0] is the row length
  const std::byte* data = nullptr;
  uint64_t n_bytes = 0;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  /// The tensor called `gguf_name`, or nullopt if the model has none.
  virtual std::optional<TensorRef> find(std::string_view gguf_name) const = 0;
  /// The file or directory, for error messages.
  virtual std::string describe() const = 0;
  /// True for Hugging Face checkpoints of architectures whose norms are stored as w, applied
  /// as 1 + w (GGUF stores 1 + w).
  virtual bool norms_stored_minus_one() const { return false; }
  /// True when "output.weight" is the token embedding offered a second time in another format
  /// (a tied MLX 8-bit embedding: float rows for lookups, blocks for the output matmul), so its
  /// parameters are not counted twice.
  virtual bool output_repeats_embedding() const { return false; }
};

/// A GGUF file's tensor table (the file must outlive the source).
class GgufTensorSource final : public TensorSource {
 public:
  explicit GgufTensorSource(const formats::GgufFile& file) : file_(file) {}
  std::optional<TensorRef> find(std::string_view gguf_name) const override;
  std::string describe() const override;

 private:
  const formats::GgufFile& file_;
};

}  // namespace inference::engine
