// Tokenizer::from_hf — reads tokenizer.json (+ tokenizer_config.json beside it) into an
// HfTokenizer. Only the pipeline parts we implement are accepted; anything else is an
// Error(unsupported) naming the part, never a silently different tokenization.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

namespace inference::tokenizer {
namespace {

using nlohmann::json;

struct Context {
  std::string file;
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(ErrorCode::unsupported, file + ": " + what + " is not supported");
  }
  [[noreturn]] void invalid(const std::string& what) const {
    throw Error(ErrorCode::invalid_model, file + ": " + what);
  }
  const json& field(const json& j, const char* key, const std::string& where) const {
    if (!j.is_object() || !j.contains(key)) invalid(where + " has no '" + key + "'");
    return j.at(key);
  }
  std::string string_field(const json& j, const char* key, const std::string& where) const {
    const json& v = field(j, key, where);
    if (!v.is_string()) invalid(where + "." + key + " is not a string");
    return v.get<std::string>();
  }
};

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  json j = json::parse(buffer.str(), nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::invalid_model, path.string() + ": not valid JSON");
  return j;
}

// A "pattern" object: {"String": s} or {"Regex": r}, as a PCRE2 pattern.
std::string pattern_of(const Context& c, const json& p, const std::string& where) {
  if (p.is_object() && p.contains("String") && p["String"].is_string())
    return p["String"].get<std::string>();
  if (p.is_object() && p.contains("Regex") && p["Regex"].is_string())
    return "\x01" + p["Regex"].get<std::string>();
  c.invalid(where + ".pattern is neither {String} nor {Regex}");
}

void add_normalizer(const Context& c, const json& n, HfTokenizer::Settings& s) {
  if (n.is_null()) return;
  const std::string type = c.string_field(n, "type", "normalizer");
  if (type == "Sequence") {
    for (const auto& item : c.field(n, "normalizers", "normalizer")) add_normalizer(c, item, s);
  } else if (type == "NFC") {
    if (!s.replacements.empty() || !s.prepend.empty())
      c.unsupported("an NFC normalizer after Replace/Prepend");
    s.nfc = true;
  } else if (type == "Replace") {
    const std::string pattern =
        pattern_of(c, c.field(n, "pattern", "Replace normalizer"), "Replace normalizer");
    if (!pattern.empty() && pattern[0] == '\x01')
      c.unsupported("a Replace normalizer with a Regex pattern");
    if (!s.prepend.empty()) c.unsupported("a Replace normalizer after Prepend");
    s.replacements.emplace_back(pattern, c.string_field(n, "content", "Replace normalizer"));
  } else if (type == "Prepend") {
    s.prepend = c.string_field(n, "prepend", "Prepend normalizer");
  } else {
    c.unsupported("normalizer '" + type + "'");
  }
}

constexpr const char* kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void add_pre_tokenizer(const Context& c, const json& p, HfTokenizer::Settings& s) {
  if (p.is_null()) return;
  const std::string type = c.string_field(p, "type", "pre_tokenizer");
  if (s.byte_level) c.unsupported("a pre-tokenizer after ByteLevel");
  if (type == "Sequence") {
    for (const auto& item : c.field(p, "pretokenizers", "pre_tokenizer"))
      add_pre_tokenizer(c, item, s);
  } else if (type == "Split") {
    std::string pattern = pattern_of(c, c.field(p, "pattern", "Split"), "Split");
    pattern = !pattern.empty() && pattern[0] == '\x01' ? pattern.substr(1) : regex_escape(pattern);
    if (p.value("invert", false)) c.unsupported("an inverted Split pre-tokenizer");
    const std::string behavior = c.string_field(p, "behavior", "Split");
    SplitBehavior b;
    if (behavior == "Isolated")
      b = SplitBehavior::isolated;
    else if (behavior == "MergedWithPrevious")
      b = SplitBehavior::merged_with_previous;
    else if (behavior == "Removed")
      b = SplitBehavior::removed;
    else
      c.unsupported("Split behavior '" + behavior + "'");
    s.splits.push_back({SplitRegex(pattern), b});
    if (s.pre_name.empty()) s.pre_name = pattern;
  } else if (type == "Digits") {
    s.splits.push_back({SplitRegex(p.value("individual_digits", false) ? "[0-9]" : "[0-9]+"),
                        SplitBehavior::isolated});
  } else if (type == "ByteLevel") {
    if (p.value("add_prefix_space", false))
      c.unsupported("ByteLevel pre-tokenizer with add_prefix_space");
    if (p.value("use_regex", true)) {
      s.splits.push_back({SplitRegex(kByteLevelRegex), SplitBehavior::isolated});
      if (s.pre_name.empty()) s.pre_name = "byte_level";
    }
    s.byte_level = true;
  } else {
    c.unsupported("pre-tokenizer '" + type + "'");
  }
}

void add_decoder(const Context& c, const json& d, HfTokenizer::Settings& s) {
  if (d.is_null()) return;
  const std::string type = c.string_field(d, "type", "decoder");
  using Step = HfTokenizer::DecodeStep;
  if (type == "Sequence") {
    for (const auto& item : c.field(d, "decoders", "decoder")) add_decoder(c, item, s);
  } else if (type == "ByteLevel") {
    s.decoder.push_back({Step::byte_level});
  } else if (type == "Replace") {
    const std::string pattern =
        pattern_of(c, c.field(d, "pattern", "Replace decoder"), "Replace decoder");
    if (!pattern.empty() && pattern[0] == '\x01')
      c.unsupported("a Replace decoder with a Regex pattern");
    s.decoder.push_back({Step::replace, pattern, c.string_field(d, "content", "Replace decoder")});
  } else if (type == "ByteFallback") {
    s.decoder.push_back({Step::byte_fallback});
  } else if (type == "Fuse") {
    s.decoder.push_back({Step::fuse});
  } else if (type == "Strip") {
    Step step{Step::strip, c.string_field(d, "content", "Strip decoder")};
    step.strip_start = d.value("start", size_t{0});
    step.strip_stop = d.value("stop", size_t{0});
    s.decoder.push_back(step);
  } else if (type == "Metaspace") {
    Step step{Step::metaspace, d.value("replacement", std::string("\xE2\x96\x81"))};
    const std::string scheme = d.value(
        "prepend_scheme", std::string(d.value("add_prefix_space", true) ? "always" : "never"));
    step.metaspace_strip_first = scheme != "never";
    s.decoder.push_back(step);
  } else {
    c.unsupported("decoder '" + type + "'");
  }
}

void add_post_processor(const Context& c, const json& p, HfTokenizer::Settings& s) {
  if (p.is_null()) return;
  const std::string type = c.string_field(p, "type", "post_processor");
  if (type == "Sequence") {
    for (const auto& item : c.field(p, "processors", "post_processor"))
      add_post_processor(c, item, s);
  } else if (type == "ByteLevel") {
    // Only adjusts offsets.
  } else if (type == "TemplateProcessing") {
    const json& tokens = p.value("special_tokens", json::object());
    bool after = false;
    for (const auto& item : c.field(p, "single", "TemplateProcessing")) {
      if (item.contains("Sequence")) {
        after = true;
      } else if (item.contains("SpecialToken")) {
        const std::string name =
            c.string_field(item["SpecialToken"], "id", "TemplateProcessing.single");
        if (!tokens.contains(name))
          c.invalid("TemplateProcessing names an unknown special token '" + name + "'");
        for (const auto& id : c.field(tokens[name], "ids", "TemplateProcessing.special_tokens")) {
          if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
            c.invalid("bad special token id");
          (after ? s.suffix : s.prefix).push_back(id.get<int32_t>());
        }
      }
    }
  } else {
    c.unsupported("post-processor '" + type + "'");
  }
}

int32_t token_id_of(const json& config_token, const HfTokenizer::Settings& s,
                    const std::unordered_map<std::string_view, int32_t>& model) {
  std::string name;
  if (config_token.is_string())
    name = config_token.get<std::string>();
  else if (config_token.is_object() && config_token.contains("content") &&
           config_token["content"].is_string())
    name = config_token["content"].get<std::string>();
  else
    return -1;
  for (const auto& a : s.added) {
    if (a.content == name) return a.id;
  }
  auto it = model.find(name);
  return it == model.end() ? -1 : it->second;
}

// The tokenizer of tokenizer.json `j`, with tokenizer_config.json's settings from `config` (an
// object, or null) and, when given, explicit BOS/EOS ids (GGUF metadata) that win over it.
std::unique_ptr<Tokenizer> build(const Context& c, const json& j, const json& config,
                                 std::optional<int32_t> bos_id, std::optional<int32_t> eos_id) {
  if (!j.is_object()) c.invalid("the top level is not an object");
  HfTokenizer::Settings s;

  const json& model = c.field(j, "model", "tokenizer.json");
  if (model.value("type", std::string("BPE")) != "BPE")
    c.unsupported("model type '" + model.value("type", std::string()) + "'");
  if (!model.value("dropout", json()).is_null()) c.unsupported("BPE dropout");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json v = model.value(key, json());
    if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty()))
      c.unsupported(std::string("BPE ") + key);
  }
  const json& vocab = c.field(model, "vocab", "model");
  if (!vocab.is_object()) c.invalid("model.vocab is not an object");
  std::unordered_map<std::string_view, int32_t> model_ids;
  for (const auto& [text, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24))
      c.invalid("model.vocab['" + text + "'] is not a valid id");
    const auto i = id.get<int32_t>();
    if (static_cast<size_t>(i) >= s.model_texts.size())
      s.model_texts.resize(static_cast<size_t>(i) + 1);
  }
  // Second pass: views into the JSON document's keys (which outlive the Settings' use).
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string& key = it.key();
    const auto i = it.value().get<int32_t>();
    s.model_texts[static_cast<size_t>(i)] = key;
    model_ids.emplace(key, i);
  }
  const json& merges = c.field(model, "merges", "model");
  if (!merges.is_array()) c.invalid("model.merges is not an array");
  s.merges.reserve(merges.size());
  for (const auto& m : merges) {
    if (m.is_string()) {
      const std::string& text = m.get_ref<const std::string&>();
      const size_t space = text.find(' ', 1);
      if (space == std::string::npos) c.invalid("merge '" + text + "' has no space");
      const std::string_view v(text);
      s.merges.emplace_back(v.substr(0, space), v.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      s.merges.emplace_back(m[0].get_ref<const std::string&>(), m[1].get_ref<const std::string&>());
    } else {
      c.invalid("a merge is neither \"a b\" nor [a, b]");
    }
  }
  s.ignore_merges = model.value("ignore_merges", false);
  s.byte_fallback = model.value("byte_fallback", false);
  s.fuse_unk = model.value("fuse_unk", false);
  if (const json unk = model.value("unk_token", json()); unk.is_string()) {
    auto it = model_ids.find(unk.get_ref<const std::string&>());
    if (it != model_ids.end()) s.unk = it->second;
  }

  for (const auto& a : j.value("added_tokens", json::array())) {
    HfTokenizer::AddedToken t{};
    const json& id = c.field(a, "id", "added token");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24))
      c.invalid("added token id is not valid");
    t.id = id.get<int32_t>();
    t.content = c.string_field(a, "content", "added token");
    t.special = a.value("special", false);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    if (a.value("single_word", false)) c.unsupported("single_word added token '" + t.content + "'");
    s.added.push_back(std::move(t));
  }

  add_normalizer(c, j.value("normalizer", json()), s);
  add_pre_tokenizer(c, j.value("pre_tokenizer", json()), s);
  add_post_processor(c, j.value("post_processor", json()), s);
  add_decoder(c, j.value("decoder", json()), s);
  if (s.pre_name.empty()) s.pre_name = "none";

  s.clean_up_spaces = true;  // transformers' default when the config does not say
  if (config.is_object()) {
    if (config.contains("clean_up_tokenization_spaces") &&
        config["clean_up_tokenization_spaces"].is_boolean()) {
      s.clean_up_spaces = config["clean_up_tokenization_spaces"].get<bool>();
    }
    s.bos = token_id_of(config.value("bos_token", json()), s, model_ids);
    s.eos = token_id_of(config.value("eos_token", json()), s, model_ids);
  }
  if (bos_id) s.bos = *bos_id;
  if (eos_id) s.eos = *eos_id;
  return std::make_unique<HfTokenizer>(std::move(s));
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf(const std::filesystem::path& path) {
  std::error_code ec;
  const bool dir = std::filesystem::is_directory(path, ec);
  const std::filesystem::path file = dir ? path / "tokenizer.json" : path;
  const std::filesystem::path config_file = file.parent_path() / "tokenizer_config.json";
  const json config = std::filesystem::exists(config_file, ec) ? read_json(config_file) : json();
  return build(Context{file.string()}, read_json(file), config, std::nullopt, std::nullopt);
}

std::unique_ptr<Tokenizer> hf_tokenizer_from_gguf(const formats::GgufFile& file) {
  const std::string where = file.path().string() + ": tokenizer.huggingface.json";
  const auto text = file.get_string("tokenizer.huggingface.json");
  if (!text) throw Error(ErrorCode::invalid_model, where + " is missing");
  const json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::invalid_model, where + " is not valid JSON");
  json config = json::object();
  if (auto clean = file.get_bool("tokenizer.ggml.clean_spaces")) {
    config["clean_up_tokenization_spaces"] = *clean;
  }
  auto id = [&](const char* key) -> std::optional<int32_t> {
    const auto v = file.get_int(key);
    if (!v || *v < 0 || *v >= (1 << 24)) return std::nullopt;
    return static_cast<int32_t>(*v);
  };
  return build(Context{where}, j, config, id("tokenizer.ggml.bos_token_id"),
               id("tokenizer.ggml.eos_token_id"));
}

}  // namespace inference::tokenizer
