// engine/model_files.hpp — an opened model on disk, whatever its container: hyper-parameters,
// the tensor table, the tokenizer and the chat template. GGUF files and Hugging Face
// Safetensors directories are the two implementations; the engine sees only this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/hparams.hpp"
#include "engine/tensor_source.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::engine {

class ModelFiles {
 public:
  virtual ~ModelFiles() = default;
  /// Hyper-parameters (n_vocab is filled in by bind_weights from the embedding).
  virtual HParams hparams() const = 0;
  /// The weights, in GGUF naming; valid as long as this object.
  virtual const TensorSource& tensors() const = 0;
  virtual std::unique_ptr<tokenizer::Tokenizer> load_tokenizer() const = 0;
  /// The Jinja chat template ("" if none).
  virtual const std::string& chat_template() const = 0;
  virtual std::string name() const = 0;
  /// "Q4_K - Medium", "F16", "BF16", …
  virtual std::string quantization() const = 0;
  /// Bytes of the mapped weight files.
  virtual uint64_t file_size() const = 0;
  /// For weights the engine keeps a copy of: drops the mapped pages of [p, p + n) from resident
  /// memory (they fault back in if read). No-op where p is not in a mapping.
  virtual void release_pages(const void* /*p*/, size_t /*n*/) const noexcept {}
  /// Whether p points into a mapped file (false for weights this object converted and owns).
  virtual bool is_mapped(const void* /*p*/) const noexcept { return false; }
};

/// A .gguf file, or a directory holding config.json + *.safetensors. Throws inference::Error
/// naming the path (not_found, invalid_model, unsupported).
std::unique_ptr<ModelFiles> open_model_files(const std::filesystem::path& path);

/// The GGUF implementation.
std::unique_ptr<ModelFiles> open_gguf_model(const std::filesystem::path& path);
/// The Hugging Face directory implementation (config.json + *.safetensors + tokenizer.json).
std::unique_ptr<ModelFiles> open_safetensors_model(const std::filesystem::path& dir);

}  // namespace inference::engine
