// inference/discovery.hpp — finding models on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace inference {

/// One model found by discover(): a GGUF file or a Safetensors directory
/// (config.json + *.safetensors). Read from headers only; no tensor data is touched.
struct DiscoveredModel {
  std::filesystem::path path;  ///< The .gguf file or the model directory.
  std::string format;          ///< "gguf" or "safetensors".
  std::string architecture;    ///< "llama", "gemma3", … ("" if unknown).
  std::string name;            ///< general.name / directory name.
  std::string quantization;    ///< "Q4_K - Medium", "BF16", "mlx-4bit", …
  uint64_t size_bytes = 0;     ///< Bytes on disk (all shards).
  int64_t context_length = 0;  ///< Training context length (0 if unknown).
  uint64_t parameter_count = 0;
};

/// What discover() found, plus the entries it could not read (reported, never fatal).
struct Discovery {
  std::vector<DiscoveredModel> models;  ///< Sorted by path.
  std::vector<std::string> problems;    ///< "path: why" for unreadable or malformed entries.
};

/// Recursively lists models under `dir`, sorted by path, without following symlink loops.
/// Throws Error(not_found) if `dir` does not exist.
Discovery discover(const std::filesystem::path& dir);

}  // namespace inference
