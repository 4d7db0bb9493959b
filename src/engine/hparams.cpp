// engine/hparams.cpp — GGUF metadata to HParams, and validation.
#include "engine/hparams.hpp"

#include <cmath>
#include <string>

#include "formats/gguf.hpp"
#include "inference/error.hpp"

namespace inference::engine {
namespace {

// Upper bounds that no real model reaches; they keep every product of two sizes in int64 and
// stop a hostile file from asking for absurd buffers.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxLayers = 4096;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(ErrorCode::invalid_model, source + ": " + what);
}

int32_t required_int(const formats::GgufFile& file, const std::string& key, int64_t max) {
  auto v = file.get_int(key);
  if (!v) fail(file.path().string(), "missing or non-integer metadata key " + key);
  if (*v <= 0 || *v > max) {
    fail(file.path().string(), key + " = " + std::to_string(*v) + " is out of range");
  }
  return static_cast<int32_t>(*v);
}

int32_t optional_int(const formats::GgufFile& file, const std::string& key, int32_t fallback,
                     int64_t max) {
  if (file.find(key) == nullptr) return fallback;
  return required_int(file, key, max);
}

float optional_float(const formats::GgufFile& file, const std::string& key, float fallback) {
  if (file.find(key) == nullptr) return fallback;
  auto v = file.get_float(key);
  if (!v || !std::isfinite(*v)) fail(file.path().string(), key + " is not a finite number");
  return static_cast<float>(*v);
}

}  // namespace

void HParams::validate(const std::string& source) const {
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) fail(source, what);
  };
  check(arch != nullptr, "unknown architecture");
  check(n_vocab > 0 && n_vocab <= (1 << 24), "vocabulary size out of range");
  check(n_embd > 0 && n_embd <= kMaxDim, "embedding length out of range");
  check(n_layer > 0 && n_layer <= kMaxLayers, "block count out of range");
  check(n_head > 0 && n_head_kv > 0 && n_head <= 4096, "head counts out of range");
  check(n_head % n_head_kv == 0, "head_count " + std::to_string(n_head) +
                                     " is not a multiple of head_count_kv " +
                                     std::to_string(n_head_kv));
  check(head_dim > 0 && head_dim <= 4096 && head_dim % 2 == 0, "head dimension out of range");
  check(static_cast<int64_t>(n_head) * head_dim <= kMaxDim, "n_head * head_dim too large");
  check(n_ff > 0 && n_ff <= kMaxDim, "feed-forward length out of range");
  check(rope_dims > 0 && rope_dims <= head_dim && rope_dims % 2 == 0,
        "rope dimension count out of range");
  check(rope_base > 0 && rope_base_swa > 0 && rope_freq_scale > 0, "rope parameters not positive");
  check(rms_eps > 0 && rms_eps < 1, "rms epsilon out of range");
  check(sliding_window >= 0 && swa_pattern >= 0, "sliding window out of range");
  check(local_layers.empty() || local_layers.size() == static_cast<size_t>(n_layer),
        "per-layer sliding-window list does not match the layer count");
  check(attention_scale >= 0 && std::isfinite(attention_scale), "attention scale out of range");
}

HParams hparams_from_gguf(const formats::GgufFile& file) {
  const std::string source = file.path().string();
  HParams hp;
  hp.arch_name = file.architecture();
  hp.arch = arch::find(hp.arch_name);
  if (hp.arch == nullptr) {
    throw Error(ErrorCode::unsupported, source + ": architecture '" + hp.arch_name +
                                            "' is not supported by the native " +
                                            "engine (supported: " + arch::supported_names() + ")");
  }
  const std::string p = hp.arch_name + ".";
  hp.n_embd = required_int(file, p + "embedding_length", kMaxDim);
  hp.n_layer = required_int(file, p + "block_count", kMaxLayers);
  hp.n_ff = required_int(file, p + "feed_forward_length", kMaxDim);
  hp.n_head = required_int(file, p + "attention.head_count", 4096);
  hp.n_head_kv = optional_int(file, p + "attention.head_count_kv", hp.n_head, 4096);
  hp.n_ctx_train = optional_int(file, p + "context_length", 4096, 1 << 24);
  if (hp.n_embd % hp.n_head != 0 && file.find(p + "attention.key_length") == nullptr) {
    fail(source, "embedding_length is not a multiple of head_count and key_length is absent");
  }
  hp.head_dim = optional_int(file, p + "attention.key_length", hp.n_embd / hp.n_head, 4096);
  if (optional_int(file, p + "attention.value_length", hp.head_dim, 4096) != hp.head_dim) {
    throw Error(ErrorCode::unsupported, source + ": key_length != value_length");
  }
  hp.rope_dims = optional_int(file, p + "rope.dimension_count", hp.head_dim, 4096);
  hp.rms_eps = optional_float(file, p + "attention.layer_norm_rms_epsilon", 1e-5f);
  hp.rope_base = optional_float(file, p + "rope.freq_base", 10000.0f);
  hp.rope_neox = hp.arch->rope_neox;
  // Linear scaling only; llama3-style scaling arrives as the rope_freqs tensor instead.
  auto scaling = file.get_string(p + "rope.scaling.type");
  if (scaling && *scaling == "linear") {
    const float factor = optional_float(file, p + "rope.scaling.factor", 1.0f);
    if (factor > 0) hp.rope_freq_scale = 1.0f / factor;
  } else if (scaling && *scaling == "yarn") {
    throw Error(ErrorCode::unsupported, source + ": YaRN rope scaling is not supported");
  }
  hp.sliding_window = optional_int(file, p + "attention.sliding_window", 0, 1 << 24);
  if (hp.arch->swa_pattern > 0) {
    hp.swa_pattern =
        optional_int(file, p + "attention.sliding_window_pattern", hp.arch->swa_pattern, 4096);
    hp.rope_base_swa = optional_float(file, p + "rope.freq_base_swa", 10000.0f);
    // Gemma 3 27B scales queries by 1/sqrt(n_embd / n_head) rather than 1/sqrt(head_dim);
    // GGUF has no key for it, so the reference recognises the model by its depth (the table's
    // query_scale_by_embd_layers).
    if (hp.arch->query_scale_by_embd_layers > 0 &&
        hp.n_layer == hp.arch->query_scale_by_embd_layers) {
      hp.attention_scale =
          arch::default_query_scale(*hp.arch, hp.n_layer, hp.n_embd, hp.n_head, hp.head_dim);
    }
  } else {
    // Architectures without local layers ignore a stray sliding_window key (Mistral v0.1
    // GGUFs carry one the reference also ignores for llama).
    hp.sliding_window = 0;
  }
  return hp;
}

}  // namespace inference::engine
