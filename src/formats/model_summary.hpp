// formats/model_summary.hpp — what a model file or directory is, read from headers only.
//
// One summary type for GGUF files and Safetensors directories (config.json + *.safetensors):
// used by `infer info`, `infer models` / inference::discover() and `infer fit`. No tensor data
// is read: GGUF and Safetensors headers give names, types and shapes; config.json gives the
// hyper-parameters of Safetensors models.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace inference::formats {

struct TensorSummary {
  std::string name;
  std::string type;            ///< ggml type name ("Q4_K") or Safetensors dtype ("BF16")
  std::vector<int64_t> shape;  ///< GGUF: ne order (row length first); Safetensors: as stored
  uint64_t n_bytes = 0;
};

/// One metadata entry rendered for people: scalars in full (strings escaped and cut at 200
/// characters), arrays as their type, length and first items.
struct MetadataEntry {
  std::string key;
  std::string type;  ///< GGUF value type ("UINT32", "ARRAY[STRING]") or "STRING"
  std::string value;
};

struct ModelSummary {
  std::filesystem::path path;  ///< the .gguf file or the model directory/file
  std::string format;          ///< "gguf" or "safetensors"
  std::string architecture;    ///< "llama", "qwen2", "gemma3", … ("" if unknown)
  std::string name;            ///< general.name, else the file/directory name
  std::string file_type;       ///< "Q4_K - Medium", "BF16", "mlx-4bit", …
  uint64_t parameter_count = 0;
  uint64_t size_bytes = 0;    ///< on disk, all files that make up the model
  uint64_t weight_bytes = 0;  ///< tensor data bytes (what a load maps)
  uint32_t gguf_version = 0;  ///< 0 for Safetensors

  int64_t context_length = 0;  ///< training context
  int64_t n_layers = 0;
  int64_t n_embd = 0;
  int64_t n_ff = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  int64_t vocab_size = 0;
  int64_t sliding_window = 0;        ///< 0 = no sliding-window layers
  std::vector<bool> sliding_layers;  ///< per layer: keeps only the window (size n_layers)

  std::string
      tokenizer_model;  ///< GGUF tokenizer.ggml.model ("llama", "gpt2"); HF: "tokenizer.json"
  bool has_chat_template = false;

  std::vector<TensorSummary> tensors;   ///< in file order (GGUF) / by name (Safetensors)
  std::vector<MetadataEntry> metadata;  ///< GGUF metadata / Safetensors __metadata__, in order
};

/// Summarises a GGUF file, a Safetensors file, or a directory holding a Safetensors model.
/// Throws Error: not_found (missing path), invalid_model (malformed headers, naming the file),
/// unsupported (a directory or file that is neither).
ModelSummary summarize_model(const std::filesystem::path& path);

/// Whether `path` looks like a model at all, by name only (for discovery): a *.gguf file, or a
/// directory holding config.json and at least one *.safetensors.
bool looks_like_model(const std::filesystem::path& path);

}  // namespace inference::formats
