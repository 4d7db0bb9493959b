// engine/safetensors_model_files.cpp — ModelFiles over a Hugging Face directory: config.json,
// *.safetensors (F32/F16/BF16, used in place), tokenizer.json and the chat template.
//
// Tensors are offered under their GGUF names, translated from the HF names. Two conventions
// differ from GGUF files and are handled here rather than in the decoder:
// - Llama q/k rows are NOT permuted in HF checkpoints (GGUF converters permute them so that
//   RoPE can rotate adjacent pairs); un-permuted rows are exactly the NeoX pairing, so HF
//   llama-family models run with NeoX RoPE. q.k products are unchanged by the permutation.
// - Gemma norm weights are stored as w and applied as 1 + w (GGUF stores 1 + w).
// MLX quantised checkpoints (config.json "quantization") are converted tensor by tensor on first
// use (engine/mlx_weights.hpp); the converted blocks are owned by the tensor source.
// Llama 3 rope scaling is given as config numbers; the per-frequency factors that GGUF files
// carry as the rope_freqs tensor are computed from them with the converter's formula.
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "arch/tensors.hpp"
#include "engine/mlx_weights.hpp"
#include "engine/model_files.hpp"
#include "engine/rope_scaling.hpp"
#include "formats/hf_config.hpp"
#include "formats/safetensors.hpp"
#include "inference/error.hpp"
#include "inference/log.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::engine {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;

// Whether the embedding lookup (kernels::dequantize_row) reads `type` rows itself; if not, an
// embedding of that type is offered as float32 rows. Asked of the kernels rather than assumed,
// so that the copy disappears once the lookup learns the type.
bool lookup_reads(GgmlType type) {
  alignas(8) std::byte block[sizeof(kernels::BlockMlxAffine8)]{};
  float row[kernels::kMlxBlock];
  try {
    kernels::dequantize_row(type, block, row, kernels::kMlxBlock);
    return true;
  } catch (const Error&) {
    return false;
  }
}

class SafetensorsTensorSource final : public TensorSource {
 public:
  SafetensorsTensorSource(const formats::SafetensorsModel& model, std::string describe,
                          const arch::Architecture& arch,
                          std::optional<formats::HfQuantization> quantization)
      : model_(model),
        describe_(std::move(describe)),
        arch_(arch),
        quantization_(std::move(quantization)) {}

  std::optional<TensorRef> find(std::string_view gguf_name) const override {
    if (gguf_name == "rope_freqs.weight") {
      if (rope_freqs_.empty()) return std::nullopt;
      return TensorRef{GgmlType::F32,
                       {static_cast<int64_t>(rope_freqs_.size())},
                       reinterpret_cast<const std::byte*>(rope_freqs_.data()),
                       rope_freqs_.size() * sizeof(float)};
    }
    const formats::SafetensorsTensor* t = lookup(hf_name(gguf_name));
    if (t == nullptr) {
      // A tied MLX 8-bit embedding is looked up as float32 rows (see lookup_reads); the output
      // projection multiplies with its blocks instead.
      if (gguf_name == "output.weight" && embedding_is_float_copy()) {
        return converted_ref(converted_.at("token_embd.weight").weight);
      }
      return std::nullopt;
    }
    if (const auto* c = mlx_converted(std::string(gguf_name), *t)) {
      if (gguf_name == "token_embd.weight" && !c->embedding_rows.empty()) {
        return TensorRef{GgmlType::F32,
                         {c->weight.cols, c->weight.rows},
                         reinterpret_cast<const std::byte*>(c->embedding_rows.data()),
                         c->embedding_rows.size() * sizeof(float)};
      }
      return converted_ref(c->weight);
    }
    return to_ref(*t);
  }
  std::string describe() const override { return describe_; }
  bool norms_stored_minus_one() const override { return arch_.hf_norm_plus_one; }
  bool output_repeats_embedding() const override {
    return lookup("lm_head.weight") == nullptr && embedding_is_float_copy();
  }

  void set_rope_freqs(std::vector<float> f) { rope_freqs_ = std::move(f); }

 private:
  struct Converted {
    MlxConvertedWeight weight;
    std::vector<float> embedding_rows;  ///< float32 copy for the lookup, when it needs one
  };

  bool embedding_is_float_copy() const {
    auto it = converted_.find("token_embd.weight");
    if (it == converted_.end()) {
      if (!find("token_embd.weight")) return false;
      it = converted_.find("token_embd.weight");
    }
    return it != converted_.end() && !it->second.embedding_rows.empty();
  }

  static TensorRef converted_ref(const MlxConvertedWeight& w) {
    return TensorRef{w.type, {w.cols, w.rows}, w.data.data(), w.data.size()};
  }

  // The MLX setting of module `module` ("model.layers.0.mlp.down_proj"): its per-layer entry,
  // else the default; nullopt when the file keeps that layer in float.
  std::optional<MlxQuantSpec> mlx_spec(const std::string& module) const {
    const formats::HfQuantization& q = *quantization_;
    if (auto it = q.layers.find(module); it != q.layers.end()) {
      if (!it->second) return std::nullopt;
      return MlxQuantSpec{it->second->group_size, it->second->bits};
    }
    return MlxQuantSpec{q.group_size, q.bits};
  }

  // The converted form of `t` when it is MLX-quantised (it has .scales/.biases companions),
  // converting it on first use; nullptr for a plain tensor. Throws for inconsistent files.
  const Converted* mlx_converted(const std::string& gguf_name,
                                 const formats::SafetensorsTensor& t) const {
    if (auto it = converted_.find(gguf_name); it != converted_.end()) return &it->second;
    constexpr std::string_view kWeight = ".weight";
    if (!t.name.ends_with(kWeight)) return nullptr;
    const std::string module = t.name.substr(0, t.name.size() - kWeight.size());
    const formats::SafetensorsTensor* scales = model_.find(module + ".scales");
    const formats::SafetensorsTensor* biases = model_.find(module + ".biases");
    const std::string where = describe_ + ": " + t.name;
    if (scales == nullptr && biases == nullptr) {
      if (t.dtype == formats::SafetensorsDtype::U32) {
        throw Error(ErrorCode::invalid_model,
                    where + " is U32 (packed) but has no " + module + ".scales/.biases");
      }
      return nullptr;
    }
    if (scales == nullptr || biases == nullptr) {
      throw Error(ErrorCode::invalid_model, where + " has " + (scales ? ".scales" : ".biases") +
                                                " but no " + (scales ? ".biases" : ".scales") +
                                                " (MLX affine quantisation needs both)");
    }
    if (!quantization_) {
      throw Error(ErrorCode::invalid_model,
                  where + " is quantised (.scales/.biases) but config.json has no quantization");
    }
    const std::optional<MlxQuantSpec> spec = mlx_spec(module);
    if (!spec) {
      throw Error(ErrorCode::invalid_model, where + " has .scales/.biases but config.json's " +
                                                "quantization entry for " + module + " is false");
    }
    Converted c{convert_mlx_weight(t, *scales, *biases, *spec, describe_), {}};
    if (!c.weight.fp16_exact && spec->bits == 4) {
      log(LogLevel::info, where + ": scales/biases beyond fp16, kept as 8-bit blocks (lossless)");
    }
    if (gguf_name == "token_embd.weight" && !lookup_reads(c.weight.type)) {
      c.embedding_rows = dequantize_mlx_weight(c.weight);
    }
    for (const auto* part : {&t, scales, biases}) release_mapped_pages(part->data);
    return &converted_.emplace(gguf_name, std::move(c)).first->second;
  }

  std::string hf_name(std::string_view gguf) const {
    if (gguf == "token_embd.weight") return "embed_tokens.weight";
    if (gguf == "output_norm.weight") return "norm.weight";
    if (gguf == "output.weight") return "lm_head.weight";
    if (gguf.starts_with("blk.")) {
      const size_t dot = gguf.find('.', 4);
      if (dot == std::string_view::npos) return "";
      const std::string layer(gguf.substr(4, dot - 4));
      const std::string rest = arch::hf_layer_tensor_name(arch_, gguf.substr(dot + 1));
      return rest.empty() ? "" : "layers." + layer + "." + rest;
    }
    return "";
  }

  // HF prefixes: "model." for text models, "language_model.model." / "model.language_model."
  // for multimodal Gemma 3 checkpoints; lm_head sits beside "model.".
  const formats::SafetensorsTensor* lookup(const std::string& name) const {
    if (name.empty()) return nullptr;
    static constexpr std::array<const char*, 2> kHeadPrefixes{"", "language_model."};
    static constexpr std::array<const char*, 3> kModelPrefixes{"model.", "language_model.model.",
                                                               "model.language_model."};
    const bool head = name == "lm_head.weight";
    for (const char* prefix : head ? std::span<const char* const>(kHeadPrefixes)
                                   : std::span<const char* const>(kModelPrefixes)) {
      if (const auto* t = model_.find(std::string(prefix) + name)) return t;
    }
    return nullptr;
  }

  TensorRef to_ref(const formats::SafetensorsTensor& t) const {
    using formats::SafetensorsDtype;
    GgmlType type;
    size_t elem;
    switch (t.dtype) {
      case SafetensorsDtype::F32:
        type = GgmlType::F32, elem = 4;
        break;
      case SafetensorsDtype::F16:
        type = GgmlType::F16, elem = 2;
        break;
      case SafetensorsDtype::BF16:
        type = GgmlType::BF16, elem = 2;
        break;
      default:
        throw Error(ErrorCode::unsupported, describe_ + ": tensor " + t.name + " has dtype " +
                                                std::string(formats::to_string(t.dtype)) +
                                                " (F32, F16, BF16 supported)");
    }
    TensorRef ref;
    ref.type = type;
    ref.ne.assign(t.shape.rbegin(), t.shape.rend());
    ref.data = t.data.data();
    ref.n_bytes = t.data.size();
    // Safetensors does not align tensors: copy a misaligned one once so kernels can load
    // elements directly.
    if (reinterpret_cast<uintptr_t>(ref.data) % elem != 0) {
      auto& copy =
          copies_.emplace_back(std::make_unique<std::vector<float>>((ref.n_bytes + 3) / 4));
      std::memcpy(copy->data(), ref.data, ref.n_bytes);
      ref.data = reinterpret_cast<const std::byte*>(copy->data());
    }
    return ref;
  }

  const formats::SafetensorsModel& model_;
  std::string describe_;
  const arch::Architecture& arch_;
  std::optional<formats::HfQuantization> quantization_;
  std::vector<float> rope_freqs_;
  mutable std::vector<std::unique_ptr<std::vector<float>>> copies_;
  mutable std::map<std::string, Converted, std::less<>> converted_;  ///< by GGUF name
};

std::string read_chat_template(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "chat_template.jinja", ec)) {
    std::ifstream in(dir / "chat_template.jinja", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::ifstream in(dir / "tokenizer_config.json", std::ios::binary);
  if (!in) return "";
  auto cfg = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!cfg.is_object() || !cfg.contains("chat_template")) return "";
  const auto& t = cfg["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {  // [{name, template}, …]: the "default" one, else the first
    for (const auto& item : t) {
      if (item.is_object() && item.value("name", "") == "default" && item["template"].is_string()) {
        return item["template"].get<std::string>();
      }
    }
    if (!t.empty() && t[0].is_object() && t[0]["template"].is_string()) {
      return t[0]["template"].get<std::string>();
    }
  }
  return "";
}

class SafetensorsModelFiles final : public ModelFiles {
 public:
  explicit SafetensorsModelFiles(const fs::path& dir)
      : dir_(dir),
        config_(formats::load_hf_config(dir)),
        hp_(make_hparams()),  // before the weights: an unsupported model fails fast
        model_(formats::SafetensorsModel::open(dir)),
        source_(model_, dir.string(), *hp_.arch, config_.quantization) {
    if (config_.rope_scaling && config_.rope_scaling->type == "llama3") {
      const formats::HfRopeScaling& r = *config_.rope_scaling;
      const Llama3RopeScaling scaling{r.factor, r.low_freq_factor, r.high_freq_factor,
                                      r.original_max_position_embeddings > 0
                                          ? static_cast<double>(r.original_max_position_embeddings)
                                          : 8192.0};
      source_.set_rope_freqs(llama3_rope_factors(scaling, config_.rope_theta, hp_.rope_dims));
    }
    chat_template_ = read_chat_template(dir);
  }

  HParams hparams() const override { return hp_; }
  const TensorSource& tensors() const override { return source_; }
  std::unique_ptr<tokenizer::Tokenizer> load_tokenizer() const override {
    return tokenizer::Tokenizer::from_hf(dir_);
  }
  const std::string& chat_template() const override { return chat_template_; }
  std::string name() const override { return dir_.filename().string(); }
  std::string quantization() const override {
    if (config_.quantization) {
      const formats::HfQuantization& q = *config_.quantization;
      return "MLX affine " + std::to_string(q.bits) + "-bit, group " +
             std::to_string(q.group_size) + (q.layers.empty() ? "" : " (per-layer overrides)");
    }
    auto t = source_.find("token_embd.weight");
    if (!t) return "";
    return std::string(formats::ggml_type_info(t->type)->name);
  }
  uint64_t file_size() const override { return model_.size_bytes(); }

 private:
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorCode::unsupported, dir_.string() + ": " + what);
  }

  // MLX affine is the only quantisation the engine reads; its settings (the default and every
  // per-layer entry) are checked up front so an unsupported file fails before any conversion.
  void check_quantization(const formats::HfQuantization& q) const {
    if (!q.method.empty()) unsupported("quantised Safetensors ('" + q.method + "')");
    if (!q.mode.empty() && q.mode != "affine") {
      unsupported("MLX quantization mode '" + q.mode + "' (only affine is supported)");
    }
    if (!q.is_mlx_affine()) {
      throw Error(ErrorCode::invalid_model,
                  dir_.string() + ": config.json quantization has no bits and group_size");
    }
    auto check = [&](const std::string& what, int64_t group_size, int64_t bits) {
      if (!mlx_spec_supported({group_size, bits})) {
        unsupported("MLX " + std::to_string(bits) + "-bit quantisation with group size " +
                    std::to_string(group_size) + what +
                    " (bits 4 or 8, group size 32, 64 or 128 supported)");
      }
    };
    check("", q.group_size, q.bits);
    for (const auto& [module, spec] : q.layers) {
      if (spec) check(" for " + module, spec->group_size, spec->bits);
    }
  }

  static int32_t narrow(int64_t v) {
    return v > 0 && v < (int64_t{1} << 30) ? static_cast<int32_t>(v) : 0;  // 0 fails validation
  }

  HParams make_hparams() const {
    const formats::HfConfig& c = config_;
    HParams hp;
    hp.arch = arch::find_by_hf_model_type(c.model_type);
    if (hp.arch == nullptr) {
      unsupported("model_type '" + c.model_type + "' is not supported by the native engine (" +
                  arch::supported_hf_model_types() + ")");
    }
    hp.arch_name = std::string(hp.arch->name);
    if (c.quantization) check_quantization(*c.quantization);
    if (c.attention_bias && !hp.arch->qkv_bias) unsupported("attention_bias is not supported");
    if (c.final_logit_softcapping > 0 || c.attn_logit_softcapping > 0) {
      unsupported("logit soft-capping is not supported");
    }
    hp.n_embd = narrow(c.hidden_size);
    hp.n_layer = narrow(c.num_hidden_layers);
    hp.n_head = narrow(c.num_attention_heads);
    hp.n_head_kv = narrow(c.num_key_value_heads);
    hp.head_dim = narrow(c.head_dim);
    hp.n_ff = narrow(c.intermediate_size);
    hp.n_ctx_train = c.max_position_embeddings > 0 ? narrow(c.max_position_embeddings) : 4096;
    hp.rms_eps = static_cast<float>(c.rms_norm_eps);
    hp.rope_base = static_cast<float>(c.rope_theta);
    hp.rope_dims = hp.head_dim;
    hp.rope_neox = true;  // see the file comment: un-permuted llama rows pair like NeoX
    if (c.rope_scaling) {
      const auto& s = *c.rope_scaling;
      if (s.type == "linear") {
        hp.rope_freq_scale = static_cast<float>(1.0 / s.factor);
      } else if (s.type != "llama3" && s.type != "default") {
        unsupported("rope_scaling type '" + s.type + "' is not supported");
      }
    }
    if (hp.arch->swa_pattern > 0 && c.sliding_window > 0) {
      hp.sliding_window = narrow(c.sliding_window);
      hp.swa_pattern = hp.arch->swa_pattern;
      for (int32_t il = 0; il < hp.n_layer; ++il) hp.local_layers.push_back(c.is_sliding_layer(il));
      hp.rope_base_swa =
          c.rope_local_base_freq > 0 ? static_cast<float>(c.rope_local_base_freq) : 10000.0f;
    }
    // The query scale HF configs give explicitly (Gemma's query_pre_attn_scalar).
    if (hp.arch->scale_query && c.query_pre_attn_scalar > 0) {
      hp.attention_scale = static_cast<float>(1.0 / std::sqrt(c.query_pre_attn_scalar));
    }
    return hp;
  }

  fs::path dir_;
  formats::HfConfig config_;
  HParams hp_;
  formats::SafetensorsModel model_;
  SafetensorsTensorSource source_;
  std::string chat_template_;
};

}  // namespace

std::unique_ptr<ModelFiles> open_safetensors_model(const std::filesystem::path& dir) {
  return std::make_unique<SafetensorsModelFiles>(dir);
}

}  // namespace inference::engine
