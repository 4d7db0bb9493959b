// formats/model_summary_gguf.cpp — the summary of a GGUF file, from its header.
#include <algorithm>
#include <cstdio>

#include "arch/architecture.hpp"
#include "formats/gguf.hpp"
#include "formats/model_summary_detail.hpp"

namespace inference::formats {
namespace {

std::string render_scalar(const GgufValue& v) {
  if (const std::string* s = v.as_string()) return quote_for_display(*s, 200);
  if (v.type == GgufType::BOOL) return *v.as_bool() ? "true" : "false";
  if (v.type == GgufType::FLOAT32 || v.type == GgufType::FLOAT64) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", *v.as_double());
    return buf;
  }
  if (v.type == GgufType::UINT64) return std::to_string(std::get<uint64_t>(v.value));
  if (auto i = v.as_int()) return std::to_string(*i);
  return "?";
}

std::string render(const GgufValue& v) {
  const GgufArray* array = v.as_array();
  if (array == nullptr) return render_scalar(v);
  std::string out = "[" + std::string(to_string(array->element_type)) + " x " +
                    std::to_string(array->items.size()) + "]";
  size_t shown = std::min<size_t>(array->items.size(), 4);
  for (size_t i = 0; i < shown; ++i) {
    out += (i == 0 ? " " : ", ") +
           (array->items[i].as_array() ? std::string("[...]") : render_scalar(array->items[i]));
  }
  if (shown < array->items.size()) out += ", ...";
  return out;
}

// A per-layer value may be stored as one number or as an array (one per layer).
int64_t int_or_max(const GgufFile& file, const std::string& key) {
  const GgufValue* v = file.find(key);
  if (v == nullptr) return 0;
  if (auto i = v->as_int()) return std::max<int64_t>(*i, 0);
  if (const GgufArray* a = v->as_array()) {
    int64_t best = 0;
    for (const auto& item : a->items) best = std::max(best, item.as_int().value_or(0));
    return best;
  }
  return 0;
}

}  // namespace

ModelSummary summarize_gguf(const std::filesystem::path& path) {
  GgufFile file = GgufFile::open(path);
  ModelSummary s;
  s.path = path;
  s.format = "gguf";
  s.gguf_version = file.version();
  s.architecture = file.architecture();
  s.name = std::string(file.get_string("general.name").value_or(""));
  if (s.name.empty()) s.name = path.stem().string();
  s.file_type = gguf_file_type_name(file);
  s.size_bytes = file.file_size();
  s.parameter_count = gguf_parameter_count(file);
  for (const auto& t : file.tensors()) {
    s.weight_bytes += t.n_bytes;
    s.tensors.push_back({t.name, std::string(ggml_type_info(t.type)->name), t.ne, t.n_bytes});
  }
  for (const auto& [key, value] : file.metadata()) {
    std::string type(to_string(value.type));
    if (const GgufArray* a = value.as_array()) {
      type += "[" + std::string(to_string(a->element_type)) + "]";
    }
    s.metadata.push_back({key, std::move(type), render(value)});
  }

  const std::string arch = s.architecture + ".";
  s.context_length = int_or_max(file, arch + "context_length");
  s.n_layers = int_or_max(file, arch + "block_count");
  s.n_embd = int_or_max(file, arch + "embedding_length");
  s.n_ff = int_or_max(file, arch + "feed_forward_length");
  s.n_heads = int_or_max(file, arch + "attention.head_count");
  s.n_kv_heads = int_or_max(file, arch + "attention.head_count_kv");
  if (s.n_kv_heads == 0) s.n_kv_heads = s.n_heads;
  int64_t default_head_dim = s.n_heads > 0 ? s.n_embd / s.n_heads : 0;
  s.head_dim_k = int_or_max(file, arch + "attention.key_length");
  if (s.head_dim_k == 0) s.head_dim_k = default_head_dim;
  s.head_dim_v = int_or_max(file, arch + "attention.value_length");
  if (s.head_dim_v == 0) s.head_dim_v = default_head_dim;
  s.vocab_size = int_or_max(file, arch + "vocab_size");
  if (s.vocab_size == 0) {
    if (const GgufValue* tokens = file.find("tokenizer.ggml.tokens");
        tokens && tokens->as_array()) {
      s.vocab_size = static_cast<int64_t>(tokens->as_array()->items.size());
    }
  }
  s.tokenizer_model = std::string(file.get_string("tokenizer.ggml.model").value_or(""));
  s.has_chat_template = file.find("tokenizer.chat_template") != nullptr;

  // Sliding-window layers. GGUF stores the window; which layers use it is either stored
  // (<arch>.attention.sliding_window_pattern: a period or one bool per layer) or fixed by the
  // architecture (Gemma 2 alternates; Gemma 3 has five local layers per global one).
  s.sliding_window = int_or_max(file, arch + "attention.sliding_window");
  if (s.sliding_window > 0 && s.n_layers > 0 && s.n_layers <= (1 << 16)) {
    s.sliding_layers.assign(static_cast<size_t>(s.n_layers), false);
    const GgufValue* pattern = file.find(arch + "attention.sliding_window_pattern");
    int64_t period = 0;
    if (pattern != nullptr && pattern->as_array() != nullptr) {
      const auto& items = pattern->as_array()->items;
      for (size_t i = 0; i < s.sliding_layers.size() && i < items.size(); ++i) {
        s.sliding_layers[i] = items[i].as_bool().value_or(false);
      }
    } else if (pattern != nullptr) {
      period = pattern->as_int().value_or(0);
    } else if (const arch::Architecture* a = arch::find(s.architecture)) {
      period = a->swa_pattern;  // the architecture table's default pattern
    } else if (s.architecture == "gemma2") {
      period = 2;  // shown by info, not run by the engine, so not in the table
    }
    if (period > 0) {
      for (size_t i = 0; i < s.sliding_layers.size(); ++i) {
        s.sliding_layers[i] = arch::is_sliding_layer(static_cast<int64_t>(i), period);
      }
    }
    if (std::none_of(s.sliding_layers.begin(), s.sliding_layers.end(), [](bool b) { return b; })) {
      s.sliding_layers.clear();  // a window nobody uses (e.g. a llama file carrying the key)
    }
  }
  return s;
}

}  // namespace inference::formats
