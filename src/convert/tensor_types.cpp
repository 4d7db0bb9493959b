// convert/tensor_types.cpp — see tensor_types.hpp.
#include "convert/tensor_types.hpp"

#include <algorithm>

#include "inference/error.hpp"

namespace inference::convert {
namespace {

using formats::GgmlType;

bool is_quantized(GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info && info->quantized;
}

uint32_t block_size(GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info ? info->block_size : 1;
}

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

/// Counters of the mix rules, in llama order (as llama.cpp counts them).
struct MixState {
  bool has_output = false;
  int64_t n_attn_v = 0, i_attn_v = 0;
  int64_t n_ffn_down = 0, i_ffn_down = 0;
};

GgmlType choose_type(const FileTypeRequest& target, bool pure, const TensorTypeInput& t,
                     MixState& mix) {
  GgmlType type = target.base;
  if (!pure && is_quantized(target.base)) {
    const std::string& n = t.name;
    if (n == "output.weight" || (!mix.has_output && n == "token_embd.weight")) {
      if (t.ne[0] % block_size(type) != 0) {
        type = GgmlType::Q8_0;
      } else if (type != GgmlType::Q8_0) {
        type = GgmlType::Q6_K;
      }
    } else if (contains(n, "attn_v.weight")) {
      if (target.medium_mix && use_more_bits(mix.i_attn_v, mix.n_attn_v)) type = GgmlType::Q6_K;
      ++mix.i_attn_v;
    } else if (contains(n, "ffn_down")) {
      if (target.medium_mix && use_more_bits(mix.i_ffn_down, mix.n_ffn_down)) {
        type = GgmlType::Q6_K;
      }
      ++mix.i_ffn_down;
    } else if (contains(n, "attn_qkv.weight") && target.medium_mix) {
      type = target.base == GgmlType::Q4_K ? GgmlType::Q5_K : GgmlType::Q6_K;
    }
  }
  if (t.ne[0] % block_size(type) != 0) {
    switch (type) {
      case GgmlType::Q4_K:
        type = GgmlType::Q5_0;
        break;
      case GgmlType::Q5_K:
        type = GgmlType::Q5_1;
        break;
      case GgmlType::Q6_K:
        type = GgmlType::Q8_0;
        break;
      default:
        throw Error(ErrorCode::unsupported,
                    "quantize: tensor '" + t.name + "' has rows of " + std::to_string(t.ne[0]) +
                        " elements, not a multiple of the " + target.name + " block size");
    }
    if (t.ne[0] % block_size(type) != 0) type = GgmlType::F16;
  }
  return type;
}

int layer_of(const std::string& name) {
  int layer = -1;
  if (name.rfind("blk.", 0) == 0) {
    const size_t end = name.find('.', 4);
    if (end != std::string::npos && end > 4 && name.find_first_not_of("0123456789", 4) == end &&
        end - 4 < 9) {
      layer = std::stoi(name.substr(4, end - 4));
    }
  }
  return layer;
}

}  // namespace

bool use_more_bits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

bool should_quantize(const std::string& n, const std::vector<int64_t>& ne) {
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (ne.size() < 2) return false;
  for (const char* keep : {"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel",
                           "per_layer_model_proj", "ssm_conv1d.weight", "attn_rel_b.weight"}) {
    if (contains(n, keep)) return false;
  }
  return n != "position_embd.weight" && n != "token_types.weight";
}

std::vector<size_t> llama_order(std::span<const TensorTypeInput> tensors) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
    return la != lb ? la < lb : tensors[a].name < tensors[b].name;
  });
  return order;
}

std::vector<GgmlType> choose_tensor_types(const FileTypeRequest& request, bool pure,
                                          std::span<const TensorTypeInput> tensors) {
  MixState mix;
  for (const auto& t : tensors) {
    if (t.name == "output.weight") mix.has_output = true;
    if (contains(t.name, "attn_v.weight")) ++mix.n_attn_v;
    if (contains(t.name, "ffn_down")) ++mix.n_ffn_down;
  }
  std::vector<GgmlType> types(tensors.size());
  for (size_t i : llama_order(tensors)) {
    const TensorTypeInput& t = tensors[i];
    types[i] = should_quantize(t.name, t.ne) ? choose_type(request, pure, t, mix) : t.type;
  }
  return types;
}

}  // namespace inference::convert
