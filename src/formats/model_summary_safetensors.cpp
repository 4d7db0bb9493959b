// formats/model_summary_safetensors.cpp — the summary of a Safetensors model (config.json +
// shards), from headers only.
#include <fstream>
#include <map>

#include "formats/hf_config.hpp"
#include "formats/json_util.hpp"
#include "formats/model_summary_detail.hpp"
#include "formats/safetensors.hpp"

namespace inference::formats {
namespace {

namespace fs = std::filesystem;

// tokenizer_config.json carries the chat template of most HF models; newer ones ship it as a
// separate chat_template.jinja. A config we cannot parse just means "no template known".
bool has_chat_template(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "chat_template.jinja", ec) || fs::exists(dir / "chat_template.json", ec)) {
    return true;
  }
  std::ifstream in(dir / "tokenizer_config.json", std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  auto size = static_cast<int64_t>(in.tellg());
  if (size <= 0 || size > (int64_t{64} << 20)) return false;
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  try {
    auto config = parse_untrusted_json(text, "tokenizer_config.json");
    return config.is_object() && config.contains("chat_template") &&
           !config["chat_template"].is_null();
  } catch (const Error&) {
    return false;
  }
}

std::string normalize_architecture(const std::string& model_type) {
  if (model_type == "gemma3_text") return "gemma3";
  return model_type;
}

}  // namespace

ModelSummary summarize_safetensors(const fs::path& path) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const fs::path dir = is_dir ? path : path.parent_path();
  SafetensorsModel model = SafetensorsModel::open(path);
  ModelSummary s;
  s.path = path;
  s.format = "safetensors";
  s.name =
      is_dir ? fs::absolute(path).lexically_normal().filename().string() : path.stem().string();
  if (s.name.empty()) s.name = fs::absolute(path).lexically_normal().parent_path().filename();
  s.size_bytes = model.size_bytes();

  std::optional<HfConfig> config;
  if (fs::exists(dir / "config.json", ec)) config = load_hf_config(dir / "config.json");

  // MLX packs 32/bits quantised values into each U32 and keeps scales/biases beside them;
  // those are not parameters of the model.
  int64_t bits = config && config->quantization && config->quantization->is_mlx_affine()
                     ? config->quantization->bits
                     : 0;
  std::map<std::string, uint64_t> bytes_by_dtype;
  for (const SafetensorsTensor* t : model.tensors()) {
    std::string type(to_string(t->dtype));
    s.tensors.push_back({t->name, type, t->shape, t->data.size()});
    s.weight_bytes += t->data.size();
    bytes_by_dtype[type] += t->data.size();
    auto ends_with = [&](std::string_view suffix) {
      return t->name.size() >= suffix.size() &&
             t->name.compare(t->name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (bits > 0 && (ends_with(".scales") || ends_with(".biases"))) continue;
    if (bits > 0 && t->dtype == SafetensorsDtype::U32 && 32 % bits == 0) {
      s.parameter_count += t->n_elements * static_cast<uint64_t>(32 / bits);
    } else {
      s.parameter_count += t->n_elements;
    }
  }
  if (bits > 0) {
    s.file_type = "mlx-" + std::to_string(bits) + "bit";
  } else if (!bytes_by_dtype.empty()) {
    auto best = bytes_by_dtype.begin();
    for (auto it = bytes_by_dtype.begin(); it != bytes_by_dtype.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    s.file_type = best->first;
  }
  for (const auto& [key, value] : model.shards().front().metadata()) {
    s.metadata.push_back({key, "STRING", quote_for_display(value, 200)});
  }

  if (fs::exists(dir / "tokenizer.json", ec)) {
    s.tokenizer_model = "tokenizer.json";
  } else if (fs::exists(dir / "tokenizer.model", ec)) {
    s.tokenizer_model = "sentencepiece";
  }
  s.has_chat_template = has_chat_template(dir);
  if (config) {
    s.architecture = normalize_architecture(config->model_type);
    s.context_length = config->max_position_embeddings;
    s.n_layers = config->num_hidden_layers;
    s.n_embd = config->hidden_size;
    s.n_ff = config->intermediate_size;
    s.n_heads = config->num_attention_heads;
    s.n_kv_heads = config->num_key_value_heads;
    s.head_dim_k = config->head_dim;
    s.head_dim_v = config->head_dim;
    s.vocab_size = config->vocab_size;
    s.sliding_window = config->sliding_window;
    if (s.sliding_window > 0) {
      for (int64_t layer = 0; layer < s.n_layers; ++layer) {
        s.sliding_layers.push_back(config->is_sliding_layer(layer));
      }
    }
    for (const auto& [key, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"config.model_type", config->model_type},
             {"config.torch_dtype", config->torch_dtype},
             {"config.rope_theta", std::to_string(config->rope_theta)},
             {"config.rms_norm_eps", std::to_string(config->rms_norm_eps)},
             {"config.tie_word_embeddings", config->tie_word_embeddings ? "true" : "false"}}) {
      if (!value.empty()) s.metadata.push_back({key, "CONFIG", value});
    }
  }
  return s;
}

}  // namespace inference::formats
