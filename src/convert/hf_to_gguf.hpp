// convert/hf_to_gguf.hpp — a Hugging Face Safetensors directory (config.json, *.safetensors,
// tokenizer.json) in GGUF form, the input of quantize_model for such a directory: its tensors in
// GGUF naming and GGUF conventions, and the GGUF metadata that reproduces its hyper-parameters and
// tokenizer.
//
// The engine's Safetensors source offers HF tensors as they are stored; a GGUF file follows the
// llama.cpp converter instead, so three things are converted here:
// - llama q/k rows are permuted (GGUF row (h, 2j + s) = HF row (h, s*d/2 + j)) so that the file
//   uses llama's adjacent-pair RoPE, as converted llama GGUFs do;
// - Gemma norms, stored as w and applied as 1 + w, are written as 1 + w;
// - 1-D tensors (norms, biases) are written as F32.
// Llama 3 rope factors become the rope_freqs tensor. The tokenizer is stored whole as
// tokenizer.huggingface.json (with tokenizer.ggml.bos/eos_token_id and clean_spaces): our
// loader builds the tokenizer.json tokenizer from it, but llama.cpp needs tokenizer.ggml.*
// vocabulary keys, which are not synthesised.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "formats/gguf.hpp"

namespace inference::convert {

class HfToGguf {
 public:
  /// Opens `dir`. Throws inference::Error for a directory that is not a model, a missing
  /// tokenizer.json, quantised (MLX) or non-float weights and unsupported architectures.
  explicit HfToGguf(const std::filesystem::path& dir);
  ~HfToGguf();
  HfToGguf(const HfToGguf&) = delete;
  HfToGguf& operator=(const HfToGguf&) = delete;

  /// The tensors in GGUF naming and conventions (valid as long as this object).
  const std::vector<formats::GgufTensor>& tensors() const;
  /// The architecture, hyper-parameter and tokenizer keys of the output file.
  void set_metadata(formats::GgufWriter& w) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inference::convert
