// arch/tensors.cpp — tensor lists and names (see tensors.hpp). The order of tensor_list is the
// llama.cpp converter's: generated files and converted files read like real ones.
#include "arch/tensors.hpp"

#include <array>
#include <utility>

namespace inference::arch {
namespace {

// GGUF per-layer suffix -> HF per-layer name, the same for every architecture.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kHfCommon{{
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_q_norm.weight", "self_attn.q_norm.weight"},
    {"attn_k_norm.weight", "self_attn.k_norm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
}};

constexpr std::array<std::string_view, 16> kLayerSuffixes{
    "attn_norm.weight",     "attn_q.weight",      "attn_k.weight",   "attn_v.weight",
    "attn_q.bias",          "attn_k.bias",        "attn_v.bias",     "attn_output.weight",
    "attn_q_norm.weight",   "attn_k_norm.weight", "ffn_norm.weight", "post_attention_norm.weight",
    "post_ffw_norm.weight", "ffn_gate.weight",    "ffn_up.weight",   "ffn_down.weight"};

}  // namespace

std::string layer_prefix(int64_t layer) {
  return "blk." + std::to_string(layer) + ".";
}

std::vector<TensorSpec> tensor_list(const Architecture& arch, const TensorShapeParams& s) {
  const int64_t q_dim = s.n_head * s.head_dim;
  const int64_t kv_dim = s.n_head_kv * s.head_dim;
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, TensorRole::embedding, -1});
  if (s.rope_freqs)
    t.push_back({"rope_freqs.weight", {s.head_dim / 2}, TensorRole::rope_freqs, -1});
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = layer_prefix(il);
    t.push_back({p + "attn_norm.weight", {s.n_embd}, TensorRole::norm, il});
    t.push_back({p + "attn_q.weight", {s.n_embd, q_dim}, TensorRole::weight, il});
    t.push_back({p + "attn_k.weight", {s.n_embd, kv_dim}, TensorRole::weight, il});
    t.push_back({p + "attn_v.weight", {s.n_embd, kv_dim}, TensorRole::attn_v, il});
    if (arch.qkv_bias) {
      t.push_back({p + "attn_q.bias", {q_dim}, TensorRole::bias, il});
      t.push_back({p + "attn_k.bias", {kv_dim}, TensorRole::bias, il});
      t.push_back({p + "attn_v.bias", {kv_dim}, TensorRole::bias, il});
    }
    if (arch.qk_norm) {
      t.push_back({p + "attn_q_norm.weight", {s.head_dim}, TensorRole::norm, il});
      t.push_back({p + "attn_k_norm.weight", {s.head_dim}, TensorRole::norm, il});
    }
    t.push_back({p + "attn_output.weight", {q_dim, s.n_embd}, TensorRole::weight, il});
    if (arch.post_norms) {
      t.push_back({p + "post_attention_norm.weight", {s.n_embd}, TensorRole::norm, il});
    }
    t.push_back({p + "ffn_norm.weight", {s.n_embd}, TensorRole::norm, il});
    t.push_back({p + "ffn_gate.weight", {s.n_embd, s.n_ff}, TensorRole::weight, il});
    t.push_back({p + "ffn_up.weight", {s.n_embd, s.n_ff}, TensorRole::weight, il});
    t.push_back({p + "ffn_down.weight", {s.n_ff, s.n_embd}, TensorRole::ffn_down, il});
    if (arch.post_norms) {
      t.push_back({p + "post_ffw_norm.weight", {s.n_embd}, TensorRole::norm, il});
    }
  }
  t.push_back({"output_norm.weight", {s.n_embd}, TensorRole::norm, -1});
  if (!s.tied) t.push_back({"output.weight", {s.n_embd, s.n_vocab}, TensorRole::output, -1});
  return t;
}

std::string hf_layer_tensor_name(const Architecture& arch, std::string_view suffix) {
  for (const auto& [gguf, hf] : kHfCommon) {
    if (suffix == gguf) return std::string(hf);
  }
  // The norm names differ: architectures with post-norms call the FFN input norm
  // pre_feedforward_layernorm and use post_attention_layernorm for the post-attention norm.
  if (arch.post_norms) {
    if (suffix == "post_attention_norm.weight") return "post_attention_layernorm.weight";
    if (suffix == "ffn_norm.weight") return "pre_feedforward_layernorm.weight";
    if (suffix == "post_ffw_norm.weight") return "post_feedforward_layernorm.weight";
  } else if (suffix == "ffn_norm.weight") {
    return "post_attention_layernorm.weight";
  }
  return "";
}

std::span<const std::string_view> all_layer_tensor_suffixes() noexcept {
  return kLayerSuffixes;
}

}  // namespace inference::arch
