// convert/hf_to_gguf.cpp — see hf_to_gguf.hpp.
#include "convert/hf_to_gguf.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "arch/tensors.hpp"
#include "engine/model_files.hpp"
#include "formats/ggml_types.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::convert {

struct HfToGguf::Impl {
  /// Opens `dir`. Throws inference::Error for a directory that is not a model, a missing
  /// tokenizer.json, quantised (MLX) or non-float weights and unsupported architectures.
  explicit Impl(const std::filesystem::path& dir) : dir_(dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(dir / "config.json", ec)) {
      throw Error(ErrorCode::invalid_model,
                  dir.string() +
                      ": not a model (a GGUF file or a Hugging Face directory with "
                      "config.json and *.safetensors)");
    }
    if (!fs::exists(dir / "tokenizer.json", ec)) {
      throw Error(ErrorCode::invalid_model,
                  dir.string() + ": no tokenizer.json (the GGUF file needs the tokenizer)");
    }
    files_ = engine::open_safetensors_model(dir);
    const std::string quant = files_->quantization();
    if (quant.starts_with("MLX")) {
      throw Error(ErrorCode::unsupported, dir.string() + ": weights are already quantised (" +
                                              quant +
                                              "); quantize reads F32, F16 or BF16 weights only");
    }
    hp_ = files_->hparams();
    tokenizer_json_ = read_file(dir / "tokenizer.json");
    const auto tok = files_->load_tokenizer();  // also checks that our loader accepts it
    bos_ = tok->bos_id();
    eos_ = tok->eos_id();
    clean_spaces_ = tok->cleans_up_spaces();
    collect_tensors();
  }

  const std::vector<formats::GgufTensor>& tensors() const { return tensors_; }

  /// The architecture and tokenizer keys (not general.file_type / quantization_version).
  void set_metadata(formats::GgufWriter& w) const {
    const std::string a = hp_.arch_name;
    w.set_string("general.architecture", a);
    w.set_string("general.name", files_->name());
    w.set_u32(a + ".context_length", u32(hp_.n_ctx_train));
    w.set_u32(a + ".embedding_length", u32(hp_.n_embd));
    w.set_u32(a + ".block_count", u32(hp_.n_layer));
    w.set_u32(a + ".feed_forward_length", u32(hp_.n_ff));
    w.set_u32(a + ".attention.head_count", u32(hp_.n_head));
    w.set_u32(a + ".attention.head_count_kv", u32(hp_.n_head_kv));
    w.set_u32(a + ".attention.key_length", u32(hp_.head_dim));
    w.set_u32(a + ".attention.value_length", u32(hp_.head_dim));
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", hp_.rms_eps);
    w.set_f32(a + ".rope.freq_base", hp_.rope_base);
    w.set_u32(a + ".rope.dimension_count", u32(hp_.rope_dims));
    if (hp_.rope_freq_scale != 1.0f) {
      w.set_string(a + ".rope.scaling.type", "linear");
      w.set_f32(a + ".rope.scaling.factor", 1.0f / hp_.rope_freq_scale);
    }
    if (hp_.sliding_window > 0) {
      w.set_u32(a + ".attention.sliding_window", u32(hp_.sliding_window));
      w.set_u32(a + ".attention.sliding_window_pattern", u32(swa_pattern()));
      w.set_f32(a + ".rope.freq_base_swa", hp_.rope_base_swa);
    }
    w.set_string("tokenizer.huggingface.json", tokenizer_json_);
    if (!files_->chat_template().empty()) {
      w.set_string("tokenizer.chat_template", files_->chat_template());
    }
    if (bos_ >= 0) w.set_u32("tokenizer.ggml.bos_token_id", u32(bos_));
    if (eos_ >= 0) w.set_u32("tokenizer.ggml.eos_token_id", u32(eos_));
    w.set_bool("tokenizer.ggml.clean_spaces", clean_spaces_);
  }

  static uint32_t u32(int32_t v) { return static_cast<uint32_t>(v); }

  static std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, path.string() + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorCode::unsupported, dir_.string() + ": " + what);
  }

  // GGUF has only a period for local/global layers: the one that gives HF's layer_types.
  int32_t swa_pattern() const {
    if (hp_.local_layers.empty()) return hp_.swa_pattern;
    for (int32_t p = 1; p <= hp_.n_layer + 1; ++p) {
      bool same = true;
      for (int32_t il = 0; il < hp_.n_layer && same; ++il) {
        same = hp_.local_layers[static_cast<size_t>(il)] == ((il + 1) % p != 0);
      }
      if (same) return p;
    }
    unsupported("the sliding-window layers (layer_types) have no period GGUF can express");
  }

  void collect_tensors() {
    // GGUF has no key for Gemma 3's query scale: the loader uses 1/sqrt(head_dim), or the
    // architecture table's special case; refuse a model that needs another one.
    if (hp_.attention_scale > 0) {
      const float gguf_scale =
          arch::default_query_scale(*hp_.arch, hp_.n_layer, hp_.n_embd, hp_.n_head, hp_.head_dim);
      if (std::abs(gguf_scale - hp_.attention_scale) > 1e-6f * gguf_scale) {
        unsupported("query_pre_attn_scalar gives an attention scale GGUF cannot express");
      }
    }
    for (const char* name :
         {"token_embd.weight", "output_norm.weight", "output.weight", "rope_freqs.weight"}) {
      add(name);
    }
    for (int32_t il = 0; il < hp_.n_layer; ++il) {
      for (std::string_view suffix : arch::all_layer_tensor_suffixes()) {
        add(arch::layer_prefix(il) + std::string(suffix));
      }
    }
    if (tensors_.empty() || tensors_.front().name != "token_embd.weight") {
      throw Error(ErrorCode::invalid_model, dir_.string() + ": no embed_tokens.weight");
    }
  }

  void add(const std::string& name) {
    const engine::TensorSource& source = files_->tensors();
    const auto ref = source.find(name);
    if (!ref) return;
    using formats::GgmlType;
    if (ref->type != GgmlType::F32 && ref->type != GgmlType::F16 && ref->type != GgmlType::BF16) {
      unsupported("tensor " + name + " is not F32, F16 or BF16");
    }
    formats::GgufTensor t;
    t.name = name;
    t.ne = ref->ne;
    t.type = ref->type;
    t.n_elements = 1;
    for (int64_t n : t.ne) t.n_elements *= static_cast<uint64_t>(n);
    std::span<const std::byte> data(ref->data, ref->n_bytes);
    const bool norm = name.ends_with("norm.weight");
    if (t.ne.size() == 1 &&
        (t.type != GgmlType::F32 || (norm && source.norms_stored_minus_one()))) {
      std::vector<float> v = to_f32(*ref);
      if (norm && source.norms_stored_minus_one()) {
        for (float& x : v) x += 1.0f;
      }
      auto& bytes = owned_.emplace_back(v.size() * sizeof(float));
      std::memcpy(bytes.data(), v.data(), bytes.size());
      data = bytes;
      t.type = GgmlType::F32;
    } else if (!hp_.arch->rope_neox &&
               (name.ends_with("attn_q.weight") || name.ends_with("attn_k.weight"))) {
      // Architectures whose GGUF RoPE rotates adjacent pairs: the converter permutes q/k.
      const int32_t heads = name.ends_with("attn_q.weight") ? hp_.n_head : hp_.n_head_kv;
      data = owned_.emplace_back(permuted(t, data, heads));
    }
    t.n_bytes = data.size();
    t.data = data;
    tensors_.push_back(std::move(t));
  }

  // F32/F16/BF16 source data as float (the kernels' conversion).
  static std::vector<float> to_f32(const engine::TensorRef& r) {
    const size_t elem = r.type == formats::GgmlType::F32 ? 4 : 2;
    std::vector<float> out(r.n_bytes / elem);
    kernels::dequantize_row(r.type, r.data, out.data(), static_cast<int64_t>(out.size()));
    return out;
  }

  // The llama.cpp converter's q/k permutation, on whole rows.
  std::vector<std::byte> permuted(const formats::GgufTensor& t, std::span<const std::byte> in,
                                  int32_t heads) const {
    const auto row = formats::ggml_row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
    const int64_t rows = t.ne.size() == 2 ? t.ne[1] : 0;
    if (!row || heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0 ||
        in.size() != *row * static_cast<uint64_t>(rows)) {
      unsupported("tensor " + t.name + " does not split into " + std::to_string(heads) +
                  " heads of even size");
    }
    std::vector<std::byte> out(in.size());
    const int64_t d = rows / heads;
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t j = 0; j < d / 2; ++j) {
        for (int64_t s = 0; s < 2; ++s) {
          const auto dst = static_cast<uint64_t>(h * d + 2 * j + s);
          const auto src = static_cast<uint64_t>(h * d + s * (d / 2) + j);
          std::memcpy(out.data() + dst * *row, in.data() + src * *row, *row);
        }
      }
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<engine::ModelFiles> files_;
  engine::HParams hp_;
  std::string tokenizer_json_;
  int32_t bos_ = -1, eos_ = -1;
  bool clean_spaces_ = true;
  std::vector<formats::GgufTensor> tensors_;
  std::deque<std::vector<std::byte>> owned_;
};

HfToGguf::HfToGguf(const std::filesystem::path& dir) : impl_(std::make_unique<Impl>(dir)) {}
HfToGguf::~HfToGguf() = default;

const std::vector<formats::GgufTensor>& HfToGguf::tensors() const {
  return impl_->tensors();
}

void HfToGguf::set_metadata(formats::GgufWriter& w) const {
  impl_->set_metadata(w);
}

}  // namespace inference::convert
