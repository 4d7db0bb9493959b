// `infer quantize HF_DIR OUT TYPE`: a reference GGUF written back as a Hugging Face directory
// (HF conventions: llama q/k rows un-permuted, Gemma norms stored as w = g - 1, no rope_freqs
// tensor but llama3 rope_scaling in config.json) and quantised gives the same tensors, byte for
// byte, as quantising the GGUF itself, and the same logits (F32 sources, and BF16 weights for
// llama); plus clear errors.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "run_infer.hpp"
#include "support/hf_files.hpp"
#include "support/testdata.hpp"

namespace inference::test {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using nlohmann::json;

// Undoes the converter's llama q/k permutation: HF row (h, s*d/2 + j) = GGUF row (h, 2j + s).
std::vector<std::byte> unpermuted(const formats::GgufTensor& t, int64_t heads) {
  const uint64_t row = t.data.size() / static_cast<uint64_t>(t.ne[1]);
  const int64_t d = t.ne[1] / heads;
  std::vector<std::byte> out(t.data.size());
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < d / 2; ++j) {
      for (int64_t s = 0; s < 2; ++s) {
        const auto hf = static_cast<uint64_t>(h * d + s * (d / 2) + j);
        const auto gg = static_cast<uint64_t>(h * d + 2 * j + s);
        std::memcpy(out.data() + hf * row, t.data.data() + gg * row, row);
      }
    }
  }
  return out;
}

// Writes the F32/F16/BF16 GGUF `gguf` (F32 norms) as a Hugging Face directory `dir` (config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json with a chat template).
void write_hf(const fs::path& gguf, const fs::path& dir) {
  fs::create_directories(dir);
  const auto f = formats::GgufFile::open(gguf);
  const std::string a(f.architecture());
  const bool gemma = a == "gemma3";
  auto i = [&](const std::string& key) { return f.get_int(a + "." + key).value_or(0); };
  auto x = [&](const std::string& key) { return f.get_float(a + "." + key).value_or(0); };
  const int64_t heads = i("attention.head_count"), kv_heads = i("attention.head_count_kv");
  const int64_t head_dim =
      i("attention.key_length") ? i("attention.key_length") : i("embedding_length") / heads;
  json cfg = {{"model_type", gemma ? "gemma3_text" : a},
              {"hidden_size", i("embedding_length")},
              {"intermediate_size", i("feed_forward_length")},
              {"num_hidden_layers", i("block_count")},
              {"num_attention_heads", heads},
              {"num_key_value_heads", kv_heads},
              {"head_dim", head_dim},
              {"max_position_embeddings", i("context_length")},
              {"rms_norm_eps", x("attention.layer_norm_rms_epsilon")},
              {"rope_theta", x("rope.freq_base")},
              {"tie_word_embeddings", f.find_tensor("output.weight") == nullptr}};
  if (f.find_tensor("rope_freqs.weight") != nullptr) {  // the reference models' llama3 scaling
    cfg["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", 32.0},
                           {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0},
                           {"original_max_position_embeddings", 8192}};
  }
  if (gemma) {
    cfg["sliding_window"] = i("attention.sliding_window");
    json types = json::array();
    for (int64_t l = 0; l < i("block_count"); ++l) {
      types.push_back((l + 1) % 6 != 0 ? "sliding_attention" : "full_attention");
    }
    cfg["layer_types"] = types;
    cfg["rope_local_base_freq"] = x("rope.freq_base_swa");
    cfg["query_pre_attn_scalar"] = head_dim;
  }
  std::ofstream(dir / "config.json") << cfg.dump(1);
  std::ofstream(dir / "tokenizer.json") << test::tiny_tokenizer_json();
  std::ofstream(dir / "tokenizer_config.json")
      << json{{"chat_template", "{{ messages[0]['content'] }}"}, {"eos_token", "~"}}.dump();
  formats::SafetensorsWriter w;
  for (const auto& t : f.tensors()) {
    if (t.name == "rope_freqs.weight") continue;  // computed from rope_scaling
    const auto dtype = t.type == GgmlType::BF16  ? formats::SafetensorsDtype::BF16
                       : t.type == GgmlType::F16 ? formats::SafetensorsDtype::F16
                                                 : formats::SafetensorsDtype::F32;
    EXPECT_TRUE(t.type == GgmlType::F32 || t.ne.size() == 2) << t.name;  // norms in F32
    std::vector<std::byte> data(t.data.begin(), t.data.end());
    if (a == "llama" && t.name.ends_with("attn_q.weight")) data = unpermuted(t, heads);
    if (a == "llama" && t.name.ends_with("attn_k.weight")) data = unpermuted(t, kv_heads);
    if (gemma && t.name.ends_with("norm.weight")) {
      for (size_t k = 0; k < data.size(); k += 4) {
        float v;
        std::memcpy(&v, data.data() + k, 4);
        v -= 1.0f;
        std::memcpy(data.data() + k, &v, 4);
      }
    }
    w.add_tensor(test::hf_tensor_name(t.name, gemma), dtype,
                 std::vector<int64_t>(t.ne.rbegin(), t.ne.rend()), data);
  }
  w.write(dir / "model.safetensors");
}

std::vector<float> logits(const fs::path& model) {
  auto engine =
      engine::Engine::load(model, {.context_length = 64, .threads = 2, .kv_cache_type = "f32"});
  std::vector<engine::BatchEntry> batch;
  for (int k = 0; k < 8; ++k) batch.push_back({(k * 37 + 5) % 256, k, 0, true});
  std::vector<float> out;
  engine->decode(Context::background(), batch, out);
  return out;
}

void expect_same_tensors(const fs::path& a_path, const fs::path& b_path) {
  const auto a = formats::GgufFile::open(a_path);
  const auto b = formats::GgufFile::open(b_path);
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t k = 0; k < a.tensors().size(); ++k) {
    const auto& ta = a.tensors()[k];
    const auto& tb = b.tensors()[k];
    EXPECT_EQ(ta.name, tb.name);
    EXPECT_EQ(ta.type, tb.type) << ta.name;
    EXPECT_EQ(ta.ne, tb.ne) << ta.name;
    if (ta.name == "rope_freqs.weight") {  // computed from config.json: float rounding only
      ASSERT_EQ(ta.data.size(), tb.data.size());
      for (size_t e = 0; e < ta.data.size(); e += 4) {
        float va, vb;
        std::memcpy(&va, ta.data.data() + e, 4);
        std::memcpy(&vb, tb.data.data() + e, 4);
        EXPECT_NEAR(va, vb, 1e-6f * std::abs(vb)) << ta.name << " " << e / 4;
      }
      continue;
    }
    EXPECT_TRUE(ta.data.size() == tb.data.size() &&
                std::memcmp(ta.data.data(), tb.data.data(), ta.data.size()) == 0)
        << ta.name << " differs";
  }
  EXPECT_EQ(a.get_int("general.file_type"), b.get_int("general.file_type"));
}

void round_trip(const std::string& arch, const std::string& type,
                const std::string& source = "F32") {
  const fs::path gguf = testdata_dir() / "models" / arch / (arch + "-" + source + ".gguf");
  const fs::path dir = make_temp_dir("quantize-hf-" + arch);
  write_hf(gguf, dir / "hf");
  const auto from_hf =
      run_infer({"quantize", (dir / "hf").string(), (dir / "a.gguf").string(), type, "-t", "2"});
  ASSERT_EQ(from_hf.exit_code, 0) << from_hf.err;
  const auto from_gguf =
      run_infer({"quantize", gguf.string(), (dir / "b.gguf").string(), type, "-t", "2"});
  ASSERT_EQ(from_gguf.exit_code, 0) << from_gguf.err;
  expect_same_tensors(dir / "a.gguf", dir / "b.gguf");

  const auto a = formats::GgufFile::open(dir / "a.gguf");
  EXPECT_EQ(a.get_string("general.architecture"), arch);
  EXPECT_TRUE(a.get_string("tokenizer.huggingface.json").has_value());
  EXPECT_EQ(a.get_string("tokenizer.chat_template"), "{{ messages[0]['content'] }}");
  EXPECT_EQ(a.get_int("tokenizer.ggml.eos_token_id"), 93);  // "~"

  const auto la = logits(dir / "a.gguf");
  const auto lb = logits(dir / "b.gguf");
  ASSERT_EQ(la.size(), lb.size());
  float worst = 0;
  for (size_t k = 0; k < la.size(); ++k) worst = std::max(worst, std::abs(la[k] - lb[k]));
  EXPECT_LT(worst, 1e-4f) << arch;  // same tensors: only rope_freqs may differ by rounding

  // The tokenizer comes from tokenizer.huggingface.json.
  const auto tok = run_infer({"tokenize", (dir / "a.gguf").string(), "ab~"});
  EXPECT_EQ(tok.exit_code, 0) << tok.err;
  fs::remove_all(dir);
}

TEST(QuantizeHf, LlamaQ8_0MatchesGgufPath) {
  INFERENCE_REQUIRE_TESTDATA();
  round_trip("llama", "Q8_0");
}

TEST(QuantizeHf, Qwen2Q8_0MatchesGgufPath) {
  INFERENCE_REQUIRE_TESTDATA();
  round_trip("qwen2", "Q8_0");
}

TEST(QuantizeHf, Gemma3Q8_0MatchesGgufPath) {
  INFERENCE_REQUIRE_TESTDATA();
  round_trip("gemma3", "Q8_0");
}

TEST(QuantizeHf, LlamaQ4_K_MMatchesGgufPath) {
  INFERENCE_REQUIRE_TESTDATA();
  round_trip("llama", "Q4_K_M");
}

TEST(QuantizeHf, LlamaBf16Q8_0MatchesGgufPath) {
  INFERENCE_REQUIRE_TESTDATA();
  round_trip("llama", "Q8_0", "BF16");
}

TEST(QuantizeHf, ErrorsAreOneLine) {
  const fs::path dir = make_temp_dir("quantize-hf-errors");
  fs::create_directories(dir / "empty");
  auto r = run_infer({"quantize", (dir / "empty").string(), (dir / "o.gguf").string(), "Q8_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a model"), std::string::npos) << r.err;

  fs::create_directories(dir / "notok");
  std::ofstream(dir / "notok" / "config.json") << R"({"model_type": "llama"})";
  r = run_infer({"quantize", (dir / "notok").string(), (dir / "o.gguf").string(), "Q8_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokenizer.json"), std::string::npos) << r.err;

  fs::create_directories(dir / "mlx");
  std::ofstream(dir / "mlx" / "config.json")
      << R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
             "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "quantization": {"group_size": 64, "bits": 4}})";
  std::ofstream(dir / "mlx" / "tokenizer.json") << test::tiny_tokenizer_json();
  formats::SafetensorsWriter w;
  std::vector<std::byte> zeros(64 * 4);
  w.add_tensor("model.norm.weight", formats::SafetensorsDtype::F32, {64}, zeros);
  w.write(dir / "mlx" / "model.safetensors");
  r = run_infer({"quantize", (dir / "mlx").string(), (dir / "o.gguf").string(), "Q8_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already quantised"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.gguf"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace inference::test
