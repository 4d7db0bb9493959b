// formats/hf_config.cpp — config.json → HfConfig, with per-model-type transformers defaults.
#include "formats/hf_config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "arch/architecture.hpp"
#include "formats/json_util.hpp"
#include "inference/error.hpp"

namespace inference::formats {
namespace {

using nlohmann::json;

// The defaults of transformers' configuration classes for keys a config.json may omit.
struct TypeDefaults {
  std::string_view model_type;
  int64_t vocab_size, hidden_size, intermediate_size, layers, heads, kv_heads, head_dim, max_pos;
  double rms_norm_eps, rope_theta;
  std::string_view hidden_act;
  bool tie_word_embeddings, attention_bias;
  // Sliding-window attention (Gemma3TextConfig); 0 = the class has no such default.
  int64_t sliding_window = 0, sliding_window_pattern = 0;
  double rope_local_base_freq = 0.0, query_pre_attn_scalar = 0.0;
};

constexpr TypeDefaults kDefaults[] = {
    {"llama", 32000, 4096, 11008, 32, 32, 0, 0, 2048, 1e-6, 10000.0, "silu", false, false},
    {"mistral", 32000, 4096, 14336, 32, 32, 8, 0, 131072, 1e-6, 10000.0, "silu", false, false},
    {"qwen2", 151936, 4096, 22016, 32, 32, 32, 0, 32768, 1e-6, 10000.0, "silu", false, true},
    {"qwen3", 151936, 4096, 22016, 32, 32, 32, 128, 32768, 1e-6, 10000.0, "silu", false, false},
    {"gemma3_text", 262208, 2304, 9216, 26, 8, 4, 256, 131072, 1e-6, 1000000.0, "gelu_pytorch_tanh",
     true, false, 4096, 6, 10000.0, 256.0},
};

const TypeDefaults* defaults_for(std::string_view model_type) {
  if (model_type == "gemma3") model_type = "gemma3_text";
  for (const auto& d : kDefaults) {
    if (d.model_type == model_type) return &d;
  }
  return nullptr;
}

// Typed, range-checked access to one JSON object of the config.
class Fields {
 public:
  Fields(const json& object, std::string source, std::string prefix)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(std::string_view key, const std::string& why) const {
    throw Error(ErrorCode::invalid_model,
                source_ + ": '" + prefix_ + std::string(key) + "' " + why);
  }

  const json* find(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const {
    const json* v = find(key);
    if (v == nullptr) return std::nullopt;
    int64_t value = 0;
    if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX)) {
      value = v->get<int64_t>();
    } else if (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>() &&
               std::fabs(v->get<double>()) < 9e18) {
      value = static_cast<int64_t>(v->get<double>());  // 4096.0 from some exporters
    } else {
      fail(key, "must be an integer, got " + json_excerpt(*v));
    }
    if (value < min || value > max) {
      fail(key, "= " + std::to_string(value) + " is outside [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    }
    return value;
  }

  std::optional<double> number(std::string_view key, double min, double max) const {
    const json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) fail(key, "must be a number, got " + json_excerpt(*v));
    double value = v->get<double>();
    if (!(value >= min && value <= max)) {  // also rejects NaN
      fail(key, "= " + json_excerpt(*v) + " is outside the sane range");
    }
    return value;
  }

  std::optional<bool> boolean(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) fail(key, "must be true or false, got " + json_excerpt(*v));
    return v->get<bool>();
  }

  std::optional<std::string> string(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(key, "must be a string, got " + json_excerpt(*v));
    return v->get<std::string>();
  }

  std::vector<std::string> strings(std::string_view key) const {
    std::vector<std::string> out;
    const json* v = find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) fail(key, "must be a list of strings");
    for (const auto& item : *v) {
      if (!item.is_string()) fail(key, "must be a list of strings, has " + json_excerpt(item));
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  const json* object(std::string_view key) const {
    const json* v = find(key);
    if (v != nullptr && !v->is_object()) fail(key, "must be an object, got " + json_excerpt(*v));
    return v;
  }

  const std::string& source() const { return source_; }
  const std::string& prefix() const { return prefix_; }

 private:
  const json& object_;
  std::string source_;
  std::string prefix_;
};

constexpr int64_t kMaxDim = int64_t{1} << 24;  // widths, vocabularies
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxPositions = int64_t{1} << 32;  // context lengths

HfRopeScaling parse_rope_scaling(const Fields& f) {
  HfRopeScaling rope;
  rope.type = f.string("rope_type").value_or(f.string("type").value_or(""));
  rope.factor = f.number("factor", 1e-6, 1e6).value_or(1.0);
  rope.low_freq_factor = f.number("low_freq_factor", 1e-6, 1e6).value_or(1.0);
  rope.high_freq_factor = f.number("high_freq_factor", 1e-6, 1e6).value_or(4.0);
  rope.original_max_position_embeddings =
      f.integer("original_max_position_embeddings", 1, kMaxPositions).value_or(0);
  if (rope.type == "llama3" && rope.high_freq_factor <= rope.low_freq_factor) {
    f.fail("high_freq_factor", "must exceed low_freq_factor for llama3 rope scaling");
  }
  return rope;
}

// Keys of the quantization object that are settings rather than per-layer entries.
bool is_quantization_setting(std::string_view key) {
  return key == "quant_method" || key == "group_size" || key == "bits" || key == "mode";
}

std::optional<HfQuantization> parse_quantization(const json& object, const Fields& f) {
  HfQuantization q;
  q.method = f.string("quant_method").value_or("");
  q.mode = f.string("mode").value_or("");
  q.group_size = f.integer("group_size", 1, 1 << 20).value_or(0);
  q.bits = f.integer("bits", 1, 64).value_or(0);
  if (q.method.empty() && (q.group_size == 0) != (q.bits == 0)) {
    f.fail(q.bits == 0 ? "bits" : "group_size", "is missing (MLX quantization needs both)");
  }
  if (!q.method.empty()) return q;  // other methods' keys are theirs to define
  // mlx-lm writes one entry per layer whose setting differs from the default: an object with
  // its own group_size and bits, or false for a layer kept in float.
  for (const auto& [key, value] : object.items()) {
    if (is_quantization_setting(key)) continue;
    if (value.is_boolean()) {
      if (value.get<bool>()) {
        q.layers.emplace(key, HfQuantGroup{q.group_size, q.bits});
      } else {
        q.layers.emplace(key, std::nullopt);
      }
    } else if (value.is_object()) {
      Fields layer(value, f.source(), f.prefix() + key + ".");
      HfQuantGroup g;
      g.group_size = layer.integer("group_size", 1, 1 << 20).value_or(q.group_size);
      g.bits = layer.integer("bits", 1, 64).value_or(q.bits);
      if (g.group_size == 0 || g.bits == 0) layer.fail("bits", "and group_size are both needed");
      q.layers.emplace(key, g);
    }
    // Anything else (numbers, strings) is not a per-layer entry MLX writes: ignored, as the
    // engine only looks up entries by module path.
  }
  return q;
}

std::vector<int64_t> parse_eos(const Fields& f) {
  std::vector<int64_t> out;
  const json* v = f.find("eos_token_id");
  if (v == nullptr) return out;
  if (v->is_array()) {
    for (const auto& item : *v) {
      if (!item.is_number_integer() || item.get<int64_t>() < 0) {
        f.fail("eos_token_id", "must hold token ids, has " + json_excerpt(item));
      }
      out.push_back(item.get<int64_t>());
    }
  } else {
    out.push_back(*f.integer("eos_token_id", 0, kMaxDim));
  }
  return out;
}

}  // namespace

bool HfConfig::is_sliding_layer(int64_t layer) const noexcept {
  if (sliding_window <= 0 || layer < 0) return false;
  if (!layer_types.empty()) {
    return static_cast<size_t>(layer) < layer_types.size() &&
           layer_types[static_cast<size_t>(layer)] == "sliding_attention";
  }
  if (sliding_window_pattern > 0) return arch::is_sliding_layer(layer, sliding_window_pattern);
  return true;
}

HfConfig parse_hf_config(std::string_view json_text, std::string_view source) {
  json root = parse_untrusted_json(json_text, source);
  if (!root.is_object()) {
    throw Error(ErrorCode::invalid_model, std::string(source) + ": not a JSON object");
  }
  HfConfig config;
  Fields top(root, std::string(source), "");
  config.outer_model_type = top.string("model_type").value_or("");
  config.architectures = top.strings("architectures");
  config.torch_dtype = top.string("torch_dtype").value_or(top.string("dtype").value_or(""));

  // Multimodal checkpoints (Gemma 3) nest the language model; its keys win.
  const json* text = top.object("text_config");
  const json& body = text != nullptr ? *text : root;
  Fields f(body, std::string(source), text != nullptr ? "text_config." : "");
  config.model_type = f.string("model_type").value_or(config.outer_model_type);
  if (text != nullptr && config.model_type.empty() && config.outer_model_type == "gemma3") {
    config.model_type = "gemma3_text";
  }
  if (config.torch_dtype.empty()) {
    config.torch_dtype = f.string("torch_dtype").value_or(f.string("dtype").value_or(""));
  }
  const TypeDefaults* d = defaults_for(config.model_type);
  auto with_default = [&](std::optional<int64_t> value, int64_t fallback) {
    return value.value_or(d != nullptr ? fallback : 0);
  };

  config.vocab_size = with_default(f.integer("vocab_size", 1, kMaxDim), d ? d->vocab_size : 0);
  config.hidden_size = with_default(f.integer("hidden_size", 1, kMaxDim), d ? d->hidden_size : 0);
  config.intermediate_size =
      with_default(f.integer("intermediate_size", 1, kMaxDim), d ? d->intermediate_size : 0);
  config.num_hidden_layers =
      with_default(f.integer("num_hidden_layers", 1, kMaxLayers), d ? d->layers : 0);
  config.num_attention_heads =
      with_default(f.integer("num_attention_heads", 1, kMaxDim), d ? d->heads : 0);
  config.num_key_value_heads =
      f.integer("num_key_value_heads", 1, kMaxDim).value_or(d && d->kv_heads ? d->kv_heads : 0);
  if (config.num_key_value_heads == 0) config.num_key_value_heads = config.num_attention_heads;
  config.head_dim = f.integer("head_dim", 1, kMaxDim).value_or(d && d->head_dim ? d->head_dim : 0);
  if (config.head_dim == 0 && config.num_attention_heads > 0) {
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  if (config.num_attention_heads > 0 && config.num_key_value_heads > 0 &&
      config.num_attention_heads % config.num_key_value_heads != 0) {
    f.fail("num_key_value_heads", "must divide num_attention_heads");
  }
  config.max_position_embeddings =
      with_default(f.integer("max_position_embeddings", 1, kMaxPositions), d ? d->max_pos : 0);
  config.rms_norm_eps = f.number("rms_norm_eps", 0.0, 1.0).value_or(d ? d->rms_norm_eps : 1e-6);
  config.rope_theta = f.number("rope_theta", 1e-3, 1e12).value_or(d ? d->rope_theta : 10000.0);
  config.hidden_act = f.string("hidden_act")
                          .value_or(f.string("hidden_activation")
                                        .value_or(d ? std::string(d->hidden_act) : std::string()));
  if (const json* rope = f.object("rope_scaling")) {
    config.rope_scaling =
        parse_rope_scaling(Fields(*rope, f.source(), f.prefix() + "rope_scaling."));
  }
  // tie_word_embeddings lives at the top level of multimodal configs.
  config.tie_word_embeddings =
      f.boolean("tie_word_embeddings")
          .value_or(
              top.boolean("tie_word_embeddings").value_or(d ? d->tie_word_embeddings : false));
  config.attention_bias = f.boolean("attention_bias").value_or(d ? d->attention_bias : false);

  // The sliding-window class defaults apply to the exact model_type of their row only (a
  // top-level "gemma3" without text_config borrows the text row's sizes, not these); the layer
  // rule itself is the architecture table's.
  const TypeDefaults* swa = d != nullptr && d->model_type == config.model_type ? d : nullptr;
  config.sliding_window =
      f.integer("sliding_window", 1, kMaxPositions).value_or(swa ? swa->sliding_window : 0);
  if (!f.boolean("use_sliding_window").value_or(true)) config.sliding_window = 0;  // Qwen 2/3
  config.sliding_window_pattern = f.integer("sliding_window_pattern", 1, kMaxLayers)
                                      .value_or(swa ? swa->sliding_window_pattern : 0);
  config.layer_types = f.strings("layer_types");
  if (!config.layer_types.empty() &&
      config.layer_types.size() != static_cast<size_t>(config.num_hidden_layers)) {
    f.fail("layer_types", "has " + std::to_string(config.layer_types.size()) + " entries for " +
                              std::to_string(config.num_hidden_layers) + " layers");
  }
  config.rope_local_base_freq =
      f.number("rope_local_base_freq", 1e-3, 1e12).value_or(swa ? swa->rope_local_base_freq : 0.0);
  config.query_pre_attn_scalar =
      f.number("query_pre_attn_scalar", 1e-6, 1e9).value_or(swa ? swa->query_pre_attn_scalar : 0.0);
  config.final_logit_softcapping = f.number("final_logit_softcapping", 0.0, 1e9).value_or(0.0);
  config.attn_logit_softcapping = f.number("attn_logit_softcapping", 0.0, 1e9).value_or(0.0);

  config.bos_token_id = f.integer("bos_token_id", 0, kMaxDim);
  if (!config.bos_token_id) config.bos_token_id = top.integer("bos_token_id", 0, kMaxDim);
  config.eos_token_ids = parse_eos(f);
  if (config.eos_token_ids.empty()) config.eos_token_ids = parse_eos(top);

  // MLX writes "quantization" (and newer versions also "quantization_config").
  for (const char* key : {"quantization", "quantization_config"}) {
    if (const json* q = top.object(key)) {
      config.quantization =
          parse_quantization(*q, Fields(*q, top.source(), std::string(key) + "."));
      break;
    }
  }
  return config;
}

HfConfig load_hf_config(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) file = path / "config.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, file.string() + ": cannot open");
  // config.json files are a few KB; refuse anything absurd rather than read it all.
  in.seekg(0, std::ios::end);
  auto size = static_cast<int64_t>(in.tellg());
  if (size < 0 || size > (int64_t{16} << 20)) {
    throw Error(ErrorCode::invalid_model, file.string() + ": not a plausible config.json (size)");
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) throw Error(ErrorCode::backend, file.string() + ": read failed");
  return parse_hf_config(text, file.string());
}

}  // namespace inference::formats
