// The same random weights written as a GGUF file (converter conventions: llama q/k rows
// permuted for adjacent-pair RoPE, Gemma norms stored as 1 + w) and as a Hugging Face
// Safetensors directory give the same logits; plus the Llama 3 rope factors against a
// reference file and clear errors for unsupported directories.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/engine.hpp"
#include "engine/rope_scaling.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"
#include "reference_logits.hpp"
#include "support/hf_files.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using formats::SafetensorsDtype;
using nlohmann::json;

struct Shape {
  std::string arch;  // GGUF architecture
  int embd = 64, layers = 2, heads = 4, kv_heads = 2, head_dim = 16, ff = 96, vocab = 128;
};

// A tensor in HF layout: rows x cols, row-major.
struct Tensor {
  std::string hf_name, gguf_name;
  int64_t rows = 0, cols = 0;  // cols = 0: a vector of `rows`
  std::vector<float> data;
  bool norm = false;
};

class TwoContainers {
 public:
  TwoContainers(Shape s, uint32_t seed) : s_(std::move(s)), rng_(seed) {
    const bool gemma = s_.arch == "gemma3";
    const int q = s_.heads * s_.head_dim, kv = s_.kv_heads * s_.head_dim;
    add("embed_tokens.weight", "token_embd.weight", s_.vocab, s_.embd, 1.0f);
    add("norm.weight", "output_norm.weight", s_.embd, 0, 0.1f, true);
    if (!gemma) add("lm_head.weight", "output.weight", s_.vocab, s_.embd, 1.0f);
    for (int l = 0; l < s_.layers; ++l) {
      const std::string h = "layers." + std::to_string(l) + ".";
      const std::string g = "blk." + std::to_string(l) + ".";
      add(h + "input_layernorm.weight", g + "attn_norm.weight", s_.embd, 0, 0.1f, true);
      add(h + "self_attn.q_proj.weight", g + "attn_q.weight", q, s_.embd);
      add(h + "self_attn.k_proj.weight", g + "attn_k.weight", kv, s_.embd);
      add(h + "self_attn.v_proj.weight", g + "attn_v.weight", kv, s_.embd);
      add(h + "self_attn.o_proj.weight", g + "attn_output.weight", s_.embd, q);
      if (s_.arch == "qwen2") {
        add(h + "self_attn.q_proj.bias", g + "attn_q.bias", q, 0, 0.1f);
        add(h + "self_attn.k_proj.bias", g + "attn_k.bias", kv, 0, 0.1f);
        add(h + "self_attn.v_proj.bias", g + "attn_v.bias", kv, 0, 0.1f);
      }
      if (gemma) {
        add(h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", s_.head_dim, 0, 0.1f, true);
        add(h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", s_.head_dim, 0, 0.1f, true);
        add(h + "post_attention_layernorm.weight", g + "post_attention_norm.weight", s_.embd, 0,
            0.1f, true);
        add(h + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", s_.embd, 0, 0.1f, true);
        add(h + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", s_.embd, 0, 0.1f,
            true);
      } else {
        add(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", s_.embd, 0, 0.1f, true);
      }
      add(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", s_.ff, s_.embd);
      add(h + "mlp.up_proj.weight", g + "ffn_up.weight", s_.ff, s_.embd);
      add(h + "mlp.down_proj.weight", g + "ffn_down.weight", s_.embd, s_.ff);
    }
  }

  // Writes dir/model.gguf and dir/hf/ with weights of `type` (F32, F16 or BF16).
  void write(const fs::path& dir, GgmlType type) {
    write_gguf(dir / "model.gguf", type);
    write_hf(dir / "hf", type);
  }

 private:
  void add(std::string hf, std::string gguf, int64_t rows, int64_t cols, float scale = 0.0f,
           bool norm = false) {
    Tensor t{"model." + hf, gguf, rows, cols, {}, norm};
    if (hf == "lm_head.weight") t.hf_name = hf;
    const int64_t n = rows * (cols ? cols : 1);
    const float init = scale > 0 ? scale : 1.0f / std::sqrt(static_cast<float>(cols));
    std::normal_distribution<float> dist(0.0f, init);
    for (int64_t i = 0; i < n; ++i)
      t.data.push_back((norm && s_.arch != "gemma3" ? 1.0f : 0.0f) + dist(rng_));
    tensors_.push_back(std::move(t));
  }

  // The GGUF converter's llama q/k permutation: GGUF row (h, 2j + s) = HF row (h, s*d/2 + j).
  std::vector<float> permuted(const Tensor& t, int heads) const {
    std::vector<float> out(t.data.size());
    const int64_t d = t.rows / heads;
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t j = 0; j < d / 2; ++j) {
        for (int64_t s = 0; s < 2; ++s) {
          const int64_t dst = h * d + 2 * j + s, src = h * d + s * (d / 2) + j;
          std::copy_n(t.data.begin() + src * t.cols, t.cols, out.begin() + dst * t.cols);
        }
      }
    }
    return out;
  }

  static std::vector<std::byte> encode(const std::vector<float>& v, GgmlType type) {
    std::vector<std::byte> out(v.size() * (type == GgmlType::F32 ? 4 : 2));
    for (size_t i = 0; i < v.size(); ++i) {
      if (type == GgmlType::F32) {
        std::memcpy(out.data() + 4 * i, &v[i], 4);
      } else {
        const uint16_t h =
            type == GgmlType::F16 ? kernels::fp32_to_fp16(v[i]) : kernels::fp32_to_bf16(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
    }
    return out;
  }

  static std::vector<float> rounded(std::vector<float> v, GgmlType type) {
    for (float& x : v) {
      if (type == GgmlType::F16) x = kernels::fp16_to_fp32(kernels::fp32_to_fp16(x));
      if (type == GgmlType::BF16) x = kernels::bf16_to_fp32(kernels::fp32_to_bf16(x));
    }
    return v;
  }

  void write_gguf(const fs::path& path, GgmlType type) {
    formats::GgufWriter w;
    const std::string a = s_.arch;
    w.set_string("general.architecture", a);
    w.set_string("general.name", "container test " + a);
    w.set_u32(a + ".context_length", 64);
    w.set_u32(a + ".embedding_length", static_cast<uint32_t>(s_.embd));
    w.set_u32(a + ".block_count", static_cast<uint32_t>(s_.layers));
    w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s_.ff));
    w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s_.heads));
    w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s_.kv_heads));
    w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(s_.head_dim));
    w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(s_.head_dim));
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
    w.set_f32(a + ".rope.freq_base", a == "llama" ? 500000.0f : 1000000.0f);
    if (a == "gemma3") {
      w.set_u32(a + ".attention.sliding_window", 4);
      w.set_u32(a + ".attention.sliding_window_pattern", 2);
      w.set_f32(a + ".rope.freq_base_swa", 10000.0f);
    }
    // The tokenizer of the micro models (a GGUF needs one to load).
    auto micro = formats::GgufFile::open(test::testdata_dir() / "models/llama/llama-F32.gguf");
    for (const auto& [key, value] : micro.metadata()) {
      if (key.starts_with("tokenizer.")) w.set(key, value);
    }
    for (const Tensor& t : tensors_) {
      std::vector<float> data = t.data;
      if (a == "llama" && t.gguf_name.ends_with("attn_q.weight")) data = permuted(t, s_.heads);
      if (a == "llama" && t.gguf_name.ends_with("attn_k.weight")) data = permuted(t, s_.kv_heads);
      // Norms and biases stay F32, as converters write them, holding the values the
      // Safetensors side rounds to `type`.
      const GgmlType tt = t.cols ? type : GgmlType::F32;
      if (!t.cols) data = rounded(data, type);
      if (a == "gemma3" && t.norm) {
        for (float& x : data) x += 1.0f;
      }
      std::vector<int64_t> ne =
          t.cols ? std::vector<int64_t>{t.cols, t.rows} : std::vector<int64_t>{t.rows};
      auto bytes = encode(data, tt);
      w.add_tensor(t.gguf_name, tt, ne, bytes);
    }
    if (a == "llama") {
      auto f = llama3_rope_factors({32.0, 1.0, 4.0, 8192.0}, 500000.0, s_.head_dim);
      auto bytes = encode(f, GgmlType::F32);
      w.add_tensor("rope_freqs.weight", GgmlType::F32, {static_cast<int64_t>(f.size())}, bytes);
    }
    w.write(path);
  }

  void write_hf(const fs::path& dir, GgmlType type) {
    fs::create_directories(dir);
    const std::string a = s_.arch;
    json cfg = {{"model_type", a == "gemma3" ? "gemma3_text" : a},
                {"hidden_size", s_.embd},
                {"intermediate_size", s_.ff},
                {"num_hidden_layers", s_.layers},
                {"num_attention_heads", s_.heads},
                {"num_key_value_heads", s_.kv_heads},
                {"head_dim", s_.head_dim},
                {"max_position_embeddings", 64},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", a == "llama" ? 500000.0 : 1000000.0},
                {"vocab_size", s_.vocab},
                {"tie_word_embeddings", a != "llama"}};
    if (a == "llama") {
      cfg["rope_scaling"] = {{"rope_type", "llama3"},
                             {"factor", 32.0},
                             {"low_freq_factor", 1.0},
                             {"high_freq_factor", 4.0},
                             {"original_max_position_embeddings", 8192}};
      cfg["hidden_act"] = "silu";
    }
    if (a == "gemma3") {
      cfg["sliding_window"] = 4;
      cfg["layer_types"] = {"sliding_attention", "full_attention"};
      cfg["rope_local_base_freq"] = 10000.0;
      cfg["query_pre_attn_scalar"] = s_.head_dim;
      cfg["hidden_activation"] = "gelu_pytorch_tanh";
    }
    std::ofstream(dir / "config.json") << cfg.dump(1);
    std::ofstream(dir / "tokenizer.json") << test::tiny_tokenizer_json();
    formats::SafetensorsWriter w;
    const SafetensorsDtype dt = type == GgmlType::F32   ? SafetensorsDtype::F32
                                : type == GgmlType::F16 ? SafetensorsDtype::F16
                                                        : SafetensorsDtype::BF16;
    // A one-element BF16 tensor first: every later tensor starts at an odd offset, so the
    // misaligned-data path is exercised too.
    const uint16_t pad = 0;
    w.add_tensor("model.unused_padding", SafetensorsDtype::BF16, {1},
                 std::as_bytes(std::span(&pad, 1)));
    for (const Tensor& t : tensors_) {
      std::vector<int64_t> shape =
          t.cols ? std::vector<int64_t>{t.rows, t.cols} : std::vector<int64_t>{t.rows};
      w.add_tensor(t.hf_name, dt, shape, encode(t.data, type));
    }
    w.write(dir / "model.safetensors");
  }

  Shape s_;
  std::mt19937 rng_;
  std::vector<Tensor> tensors_;
};

std::vector<float> evaluate(const fs::path& model) {
  auto engine = Engine::load(model, {.context_length = 64, .threads = 2, .kv_cache_type = "f32"});
  std::vector<BatchEntry> batch;
  for (int i = 0; i < 20; ++i) batch.push_back({(i * 37 + 5) % 128, i, 0, true});
  std::vector<float> logits;
  engine->decode(Context::background(), batch, logits);
  return logits;
}

void expect_same_logits(const std::string& arch, GgmlType type, uint32_t seed) {
  const fs::path dir = test::make_temp_dir("engine-containers-" + arch);
  TwoContainers(Shape{arch}, seed).write(dir, type);
  auto from_gguf = evaluate(dir / "model.gguf");
  auto from_hf = evaluate(dir / "hf");
  ASSERT_EQ(from_gguf.size(), from_hf.size());
  float worst = 0;
  for (size_t i = 0; i < from_gguf.size(); ++i) {
    worst = std::max(worst, std::abs(from_gguf[i] - from_hf[i]));
  }
  // Only the order of the q.k sums differs (RoPE pairs are permuted), so differences are at
  // float rounding level; a wrong convention (no un-permutation, norms without +1, missing
  // rope factors) moves logits by O(1).
  EXPECT_LT(worst, 2e-3f) << arch;
  float spread = 0;
  for (float x : from_gguf) spread = std::max(spread, std::abs(x));
  EXPECT_GT(spread, 0.1f);  // logits are not trivially zero
  fs::remove_all(dir);
}

TEST(Safetensors, LlamaBf16MatchesPermutedGguf) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_same_logits("llama", GgmlType::BF16, 11);
}

TEST(Safetensors, Gemma3F32MatchesGgufWithNormPlusOne) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_same_logits("gemma3", GgmlType::F32, 12);
}

TEST(Safetensors, Qwen2F16WithBiasesMatchesGguf) {
  INFERENCE_REQUIRE_TESTDATA();
  expect_same_logits("qwen2", GgmlType::F16, 13);
}

TEST(RopeScaling, Llama3FactorsMatchTheReferenceFile) {
  INFERENCE_REQUIRE_TESTDATA();
  auto file = formats::GgufFile::open(test::testdata_dir() / "models/llama/llama-F32.gguf");
  const formats::GgufTensor* t = file.find_tensor("rope_freqs.weight");
  ASSERT_NE(t, nullptr);
  auto ours = llama3_rope_factors({32.0, 1.0, 4.0, 8192.0}, 500000.0, 64);
  ASSERT_EQ(ours.size() * 4, t->data.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    float ref;
    std::memcpy(&ref, t->data.data() + 4 * i, 4);
    EXPECT_NEAR(ours[i], ref, 1e-6f * ref) << i;
  }
}

TEST(Safetensors, UnsupportedDirectoriesAreNamed) {
  const fs::path dir = test::make_temp_dir("engine-bad-hf");
  std::ofstream(dir / "config.json") << R"({"model_type": "mamba", "hidden_size": 8})";
  try {
    Engine::load(dir, {});
    ADD_FAILURE() << "mamba loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mamba"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace inference::engine
