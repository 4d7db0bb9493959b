// engine/lora/lora_readers.cpp — the three adapter file formats, read into RawLoraAdapter.
//
// - GGUF (llama.cpp): general.type = adapter, adapter.type = lora, adapter.lora.alpha; tensors
//   blk.N.<attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down>.weight.lora_a (ggml
//   [in, r]: r rows of in) and .lora_b (ggml [r, out]: out rows of r); scale alpha / r.
// - PEFT: adapter_config.json (r, lora_alpha, use_rslora, target_modules) and
//   adapter_model.safetensors with …layers.N.<module>.lora_A.weight [r, in] and lora_B.weight
//   [out, r]; scale alpha / r, or alpha / sqrt(r) with rsLoRA. Hugging Face row order.
// - mlx-lm: adapter_config.json (lora_parameters.scale, the multiplier itself) and
//   adapters.safetensors with model.layers.N.<module>.lora_a [in, r] and lora_b [r, out].
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arch/architecture.hpp"
#include "engine/lora/lora_adapter.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::engine {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::invalid_model, what);
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) bad(path.string() + ": not a JSON object");
  return json;
}

float json_number(const nlohmann::json& object, const char* key, const fs::path& path) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number())
    bad(path.string() + ": '" + key + "' is missing or not a number");
  return it->get<float>();
}

// A Hugging Face name "…layers.N.<module path>.<suffix>" → (layer, projection).
void parse_hf_name(const std::string& name, std::string_view suffix, const std::string& file,
                   RawLoraTensor& out) {
  const auto at = name.find("layers.");
  if (at == std::string::npos || !name.ends_with(suffix)) {
    throw Error(ErrorCode::unsupported, file + ": tensor '" + name +
                                            "' is not a LoRA update of a decoder layer "
                                            "projection (only q/k/v/o/gate/up/down are supported)");
  }
  size_t pos = at + 7;
  size_t end = pos;
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == pos || end >= name.size() || name[end] != '.')
    bad(file + ": tensor '" + name + "' has no layer number");
  out.layer = std::stoi(name.substr(pos, std::min<size_t>(end - pos, 6)));
  const std::string module = name.substr(end + 1, name.size() - suffix.size() - end - 1);
  const auto p = parse_projection_name(module);
  if (!p) {
    throw Error(ErrorCode::unsupported,
                file + ": tensor '" + name + "' targets '" + module +
                    "', which is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                    "down_proj");
  }
  out.projection = *p;
}

std::vector<float> safetensors_floats(const formats::SafetensorsTensor& t,
                                      const std::string& file) {
  std::vector<float> out(t.n_elements);
  const std::byte* d = t.data.data();
  switch (t.dtype) {
    case formats::SafetensorsDtype::F32:
      std::memcpy(out.data(), d, out.size() * 4);
      break;
    case formats::SafetensorsDtype::F16:
    case formats::SafetensorsDtype::BF16:
      for (size_t i = 0; i < out.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, d + 2 * i, 2);
        out[i] = t.dtype == formats::SafetensorsDtype::F16 ? kernels::fp16_to_fp32(h)
                                                           : kernels::bf16_to_fp32(h);
      }
      break;
    default:
      throw Error(ErrorCode::unsupported, file + ": tensor '" + t.name + "' has dtype " +
                                              std::string(formats::to_string(t.dtype)) +
                                              " (F32, F16 or BF16 expected)");
  }
  return out;
}

void read_safetensors_tensors(const fs::path& file, bool mlx, RawLoraAdapter& raw) {
  if (!fs::exists(file))
    throw Error(ErrorCode::not_found, "LoRA weights not found: " + file.string());
  const auto st = formats::SafetensorsFile::open(file);
  const std::string name_of_file = file.string();
  for (const auto& t : st.tensors()) {
    const bool is_a = mlx ? t.name.ends_with(".lora_a") : t.name.ends_with(".lora_A.weight");
    const bool is_b = mlx ? t.name.ends_with(".lora_b") : t.name.ends_with(".lora_B.weight");
    if (!is_a && !is_b) {
      throw Error(ErrorCode::unsupported,
                  name_of_file + ": tensor '" + t.name +
                      "' is not a LoRA A/B matrix (DoRA magnitudes, biases and full-weight "
                      "modules are not supported)");
    }
    if (t.shape.size() != 2 || t.shape[0] <= 0 || t.shape[1] <= 0 || t.shape[0] > (1 << 20) ||
        t.shape[1] > (1 << 20)) {
      bad(name_of_file + ": tensor '" + t.name + "' must be a non-empty 2-D matrix");
    }
    RawLoraTensor out;
    parse_hf_name(
        t.name, mlx ? (is_a ? ".lora_a" : ".lora_b") : (is_a ? ".lora_A.weight" : ".lora_B.weight"),
        name_of_file, out);
    out.rows = static_cast<int32_t>(t.shape[0]);
    out.cols = static_cast<int32_t>(t.shape[1]);
    out.values = safetensors_floats(t, name_of_file);
    out.transposed = mlx;
    (is_a ? raw.a : raw.b).push_back(std::move(out));
  }
}

RawLoraAdapter read_peft(const fs::path& dir) {
  const auto config = read_json(dir / "adapter_config.json");
  const fs::path config_path = dir / "adapter_config.json";
  if (auto type = config.find("peft_type"); type != config.end() && *type != "LORA")
    throw Error(ErrorCode::unsupported,
                config_path.string() + ": peft_type " + type->dump() + " (only LORA)");
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    if (auto it = config.find(key); it != config.end() && !it->is_null() && !it->empty())
      throw Error(ErrorCode::unsupported,
                  config_path.string() + ": '" + key + "' (per-module ranks) is not supported");
  }
  if (auto it = config.find("use_dora"); it != config.end() && it->is_boolean() && it->get<bool>())
    throw Error(ErrorCode::unsupported,
                config_path.string() + ": use_dora (DoRA) is not supported");
  const float r = json_number(config, "r", config_path);
  const float alpha = json_number(config, "lora_alpha", config_path);
  if (r <= 0) bad(config_path.string() + ": 'r' must be positive");
  const bool rslora = config.value("use_rslora", false);
  RawLoraAdapter raw;
  raw.source = dir.string();
  raw.scale = rslora ? alpha / std::sqrt(r) : alpha / r;
  const fs::path weights = dir / "adapter_model.safetensors";
  if (!fs::exists(weights) && fs::exists(dir / "adapter_model.bin"))
    throw Error(
        ErrorCode::unsupported,
        dir.string() + ": adapter_model.bin (pickle) is not supported; save with safetensors");
  read_safetensors_tensors(weights, false, raw);
  for (const auto& a : raw.a) {
    if (a.rows != static_cast<int32_t>(r))
      bad(weights.string() + ": layer " + std::to_string(a.layer) + " " +
          projection_name(a.projection) + " lora_A has rank " + std::to_string(a.rows) +
          " but adapter_config.json says r = " + std::to_string(static_cast<int>(r)));
  }
  return raw;
}

RawLoraAdapter read_mlx(const fs::path& dir) {
  const fs::path config_path = dir / "adapter_config.json";
  const auto config = read_json(config_path);
  if (auto type = config.find("fine_tune_type"); type != config.end() && *type != "lora")
    throw Error(ErrorCode::unsupported,
                config_path.string() + ": fine_tune_type " + type->dump() + " (only lora)");
  auto params = config.find("lora_parameters");
  if (params == config.end() || !params->is_object())
    bad(config_path.string() + ": 'lora_parameters' is missing");
  RawLoraAdapter raw;
  raw.source = dir.string();
  raw.scale = json_number(*params, "scale", config_path);
  read_safetensors_tensors(dir / "adapters.safetensors", true, raw);
  return raw;
}

RawLoraAdapter read_gguf(const fs::path& path) {
  const auto file = formats::GgufFile::open(path);
  const std::string name = path.string();
  if (auto type = file.get_string("general.type"); type && *type != "adapter")
    bad(name + ": general.type is '" + std::string(*type) + "', not 'adapter'");
  if (auto type = file.get_string("adapter.type"); !type || *type != "lora")
    bad(name + ": adapter.type must be 'lora'");
  const double alpha = file.get_float("adapter.lora.alpha").value_or(0.0);
  RawLoraAdapter raw;
  raw.source = name;
  const arch::Architecture* arch = arch::find(file.architecture());
  raw.permuted_qk = arch != nullptr && !arch->rope_neox;
  int32_t rank = 0;
  for (const auto& t : file.tensors()) {
    const bool is_a = t.name.ends_with(".weight.lora_a");
    const bool is_b = t.name.ends_with(".weight.lora_b");
    if (!is_a && !is_b) bad(name + ": tensor '" + t.name + "' is not a LoRA A/B matrix");
    if (t.ne.size() != 2 || t.ne[0] <= 0 || t.ne[1] <= 0)
      bad(name + ": tensor '" + t.name + "' must be 2-D");
    RawLoraTensor out;
    if (!t.name.starts_with("blk.")) {
      throw Error(
          ErrorCode::unsupported,
          name + ": tensor '" + t.name + "' is not a LoRA update of a decoder layer projection");
    }
    const auto dot = t.name.find('.', 4);
    const std::string layer = t.name.substr(4, dot == std::string::npos ? 0 : dot - 4);
    if (layer.empty() || layer.size() > 6 ||
        layer.find_first_not_of("0123456789") != std::string::npos)
      bad(name + ": tensor '" + t.name + "' has no layer number");
    out.layer = std::stoi(layer);
    const std::string module = t.name.substr(dot + 1, t.name.size() - dot - 1 - 14);
    const auto p = parse_projection_name(module);
    if (!p) {
      throw Error(ErrorCode::unsupported, name + ": tensor '" + t.name + "' targets '" + module +
                                              "' (only attn_q/k/v/output and ffn_gate/up/down)");
    }
    out.projection = *p;
    out.cols = static_cast<int32_t>(t.ne[0]);
    out.rows = static_cast<int32_t>(t.ne[1]);
    out.values.resize(t.n_elements);
    const size_t row_bytes = t.n_bytes / static_cast<size_t>(out.rows);
    for (int32_t r = 0; r < out.rows; ++r) {
      kernels::dequantize_row(
          t.type, t.data.data() + static_cast<size_t>(r) * row_bytes,
          out.values.data() + static_cast<size_t>(r) * static_cast<size_t>(out.cols), out.cols);
    }
    if (is_a) rank = out.rows;
    (is_a ? raw.a : raw.b).push_back(std::move(out));
  }
  raw.scale = (alpha > 0 && rank > 0) ? static_cast<float>(alpha / rank) : 1.0f;
  return raw;
}

}  // namespace

RawLoraAdapter read_lora_adapter(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "adapters.safetensors")) return read_mlx(path);
    if (fs::exists(path / "adapter_model.safetensors") || fs::exists(path / "adapter_model.bin"))
      return read_peft(path);
    throw Error(ErrorCode::not_found,
                path.string() +
                    ": no adapter_model.safetensors (PEFT) or adapters.safetensors "
                    "(mlx-lm) in this directory");
  }
  if (!fs::exists(path, ec))
    throw Error(ErrorCode::not_found, "LoRA adapter not found: " + path.string());
  return read_gguf(path);
}

}  // namespace inference::engine
