// config.json parsing: the published configs of the supported families, MLX quantisation, and
// malformed configs that must be rejected naming the key.
#include <gtest/gtest.h>

#include "formats/hf_config.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::formats {
namespace {

std::filesystem::path configs() {
  return test::source_dir() / "tests/formats/data/configs";
}

TEST(HfConfig, Llama31WithRopeScaling) {
  HfConfig c = load_hf_config(configs() / "llama-3.1-8b-instruct.json");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.architectures, std::vector<std::string>{"LlamaForCausalLM"});
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling->low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_FALSE(c.is_sliding_layer(0));
  EXPECT_FALSE(c.quantization.has_value());
}

TEST(HfConfig, Gemma3MultimodalFlattensTextConfigWithDefaults) {
  HfConfig c = load_hf_config(configs() / "gemma-3-4b-it.json");
  EXPECT_EQ(c.outer_model_type, "gemma3");
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 10240);
  EXPECT_EQ(c.num_hidden_layers, 34);
  // Absent from the file: transformers' Gemma3TextConfig defaults.
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_local_base_freq, 10000.0);
  EXPECT_DOUBLE_EQ(c.query_pre_attn_scalar, 256.0);
  EXPECT_EQ(c.hidden_act, "gelu_pytorch_tanh");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(c.sliding_window_pattern, 6);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "linear");
  EXPECT_DOUBLE_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
  // Every 6th layer is global.
  for (int64_t layer = 0; layer < 12; ++layer) {
    EXPECT_EQ(c.is_sliding_layer(layer), layer != 5 && layer != 11) << layer;
  }
}

TEST(HfConfig, Gemma3TextOnly) {
  HfConfig c = load_hf_config(configs() / "gemma-3-1b-it.json");
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.hidden_act, "gelu_pytorch_tanh");
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.final_logit_softcapping, 0.0);
  EXPECT_EQ(c.bos_token_id, 2);
}

TEST(HfConfig, Qwen25MlxQuantizedWithDisabledWindow) {
  HfConfig c = load_hf_config(configs() / "qwen2.5-7b-instruct-mlx-4bit.json");
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_TRUE(c.attention_bias);  // Qwen 2 always has q/k/v biases
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.sliding_window, 0);  // use_sliding_window: false
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_TRUE(c.quantization->is_mlx_affine());
  EXPECT_EQ(c.quantization->group_size, 64);
  EXPECT_EQ(c.quantization->bits, 4);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
}

TEST(HfConfig, MistralAndQwen3) {
  HfConfig m = load_hf_config(configs() / "mistral-7b-instruct-v0.3.json");
  EXPECT_EQ(m.vocab_size, 32768);
  EXPECT_EQ(m.sliding_window, 0);  // null
  EXPECT_DOUBLE_EQ(m.rope_theta, 1e6);
  HfConfig q = load_hf_config(configs() / "qwen3-0.6b.json");
  EXPECT_EQ(q.head_dim, 128);  // not hidden/heads (= 64)
  EXPECT_TRUE(q.tie_word_embeddings);
  EXPECT_FALSE(q.attention_bias);
}

TEST(HfConfig, LayerTypesOverrideThePattern) {
  HfConfig c = parse_hf_config(R"({"model_type":"gemma3_text","num_hidden_layers":3,
      "sliding_window":8,"layer_types":["full_attention","sliding_attention","full_attention"]})");
  EXPECT_FALSE(c.is_sliding_layer(0));
  EXPECT_TRUE(c.is_sliding_layer(1));
  EXPECT_FALSE(c.is_sliding_layer(2));
  EXPECT_FALSE(c.is_sliding_layer(3));
}

std::string error_of(std::string_view text) {
  try {
    parse_hf_config(text, "cfg.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model);
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}

TEST(HfConfig, MalformedConfigsNameTheKey) {
  EXPECT_NE(error_of("{").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(std::string(100000, '[')).find("nested"), std::string::npos);
  EXPECT_NE(error_of(R"({"hidden_size":"4096"})").find("'hidden_size'"), std::string::npos);
  EXPECT_NE(error_of(R"({"num_hidden_layers":-1})").find("'num_hidden_layers'"), std::string::npos);
  EXPECT_NE(error_of(R"({"vocab_size":1e300})").find("'vocab_size'"), std::string::npos);
  EXPECT_NE(
      error_of(R"({"num_attention_heads":32,"num_key_value_heads":5})").find("num_key_value_heads"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"rope_scaling":{"rope_type":"llama3","factor":"x"}})")
                .find("'rope_scaling.factor'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"text_config":[]})").find("'text_config'"), std::string::npos);
  EXPECT_NE(error_of(R"({"text_config":{"head_dim":0}})").find("'text_config.head_dim'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"quantization":{"bits":4}})").find("group_size"), std::string::npos);
  EXPECT_NE(error_of(R"({"eos_token_id":[1,"x"]})").find("eos_token_id"), std::string::npos);
  EXPECT_NE(
      error_of(R"({"num_hidden_layers":2,"layer_types":["full_attention"]})").find("layer_types"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"rms_norm_eps":-1})").find("rms_norm_eps"), std::string::npos);
}

TEST(HfConfig, MissingFileIsNotFound) {
  try {
    load_hf_config("/nonexistent/config.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace inference::formats
