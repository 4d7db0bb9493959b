// The architecture table (src/arch): every entry is complete and consistent with the modules that
// consult it, and the rules it states are the ones the reference implementations use.
#include <gtest/gtest.h>

#include <set>

#include "arch/architecture.hpp"
#include "arch/tensors.hpp"
#include "chat/chat_template.hpp"

namespace inference::arch {
namespace {

TEST(Architecture, FindsEveryEntryByNameAndHfModelType) {
  ASSERT_FALSE(all().empty());
  std::set<std::string_view> hf_types;
  for (const Architecture* a : all()) {
    EXPECT_EQ(find(a->name), a);
    EXPECT_FALSE(a->hf_model_types.empty()) << a->name;
    for (std::string_view type : a->hf_model_types) {
      EXPECT_EQ(find_by_hf_model_type(type), a) << type;
      EXPECT_TRUE(hf_types.insert(type).second) << type << " belongs to two architectures";
    }
  }
  EXPECT_EQ(find("gpt2"), nullptr);
  EXPECT_EQ(find_by_hf_model_type("bert"), nullptr);
  EXPECT_EQ(find_by_hf_model_type("mistral"), find("llama"));
  EXPECT_EQ(find_by_hf_model_type("gemma3_text"), find("gemma3"));
  EXPECT_EQ(supported_names(), "llama, qwen2, qwen3, gemma3");
}

TEST(Architecture, EveryBuiltInTemplateExists) {
  for (const Architecture* a : all()) {
    ASSERT_FALSE(a->chat_template.empty()) << a->name;
    EXPECT_NO_THROW(chat::ChatTemplate::builtin(a->chat_template)) << a->name;
    EXPECT_EQ(chat::ChatTemplate::builtin_name_for_architecture(a->name), a->chat_template);
  }
}

TEST(Architecture, SlidingWindowRuleIsEveryNthLayerGlobal) {
  // Gemma 3: five local layers, then one global (layers 5, 11, … are global).
  const Architecture& gemma = *find("gemma3");
  ASSERT_EQ(gemma.swa_pattern, 6);
  for (int layer = 0; layer < 12; ++layer) {
    EXPECT_EQ(is_sliding_layer(layer, gemma.swa_pattern), layer != 5 && layer != 11) << layer;
  }
  EXPECT_FALSE(is_sliding_layer(3, 0));  // no pattern: no local layers
  EXPECT_EQ(find("llama")->swa_pattern, 0);
}

TEST(Architecture, GemmaQueryScaleSpecialCase) {
  const Architecture& gemma = *find("gemma3");
  // 62 layers (Gemma 3 27B): 1/sqrt(n_embd / n_head) = 1/sqrt(5376 / 32) = 1/sqrt(168).
  EXPECT_FLOAT_EQ(default_query_scale(gemma, 62, 5376, 32, 128), 1.0f / std::sqrt(168.0f));
  EXPECT_FLOAT_EQ(default_query_scale(gemma, 26, 1152, 4, 256), 1.0f / 16.0f);
  EXPECT_FLOAT_EQ(default_query_scale(*find("llama"), 62, 5376, 32, 128), 1.0f / std::sqrt(128.0f));
}

TensorShapeParams tiny() {
  return {.n_embd = 8,
          .n_layer = 2,
          .n_head = 2,
          .n_head_kv = 1,
          .head_dim = 4,
          .n_ff = 16,
          .n_vocab = 32,
          .tied = false,
          .rope_freqs = false};
}

TEST(ArchitectureTensors, ListFollowsTheFlags) {
  auto names = [](const Architecture& a, TensorShapeParams p) {
    std::set<std::string> out;
    for (const auto& t : tensor_list(a, p)) out.insert(t.name);
    return out;
  };
  const auto qwen2 = names(*find("qwen2"), tiny());
  EXPECT_TRUE(qwen2.count("blk.1.attn_q.bias"));
  EXPECT_FALSE(qwen2.count("blk.1.attn_q_norm.weight"));
  const auto gemma = names(*find("gemma3"), tiny());
  EXPECT_TRUE(gemma.count("blk.0.post_ffw_norm.weight"));
  EXPECT_TRUE(gemma.count("blk.0.attn_k_norm.weight"));
  EXPECT_FALSE(gemma.count("blk.0.attn_v.bias"));
  auto tied = tiny();
  tied.tied = true;
  tied.rope_freqs = true;
  const auto llama = names(*find("llama"), tied);
  EXPECT_FALSE(llama.count("output.weight"));
  EXPECT_TRUE(llama.count("rope_freqs.weight"));
  // llama: 2 + 9 per layer + rope_freqs; shapes in ggml order.
  const auto list = tensor_list(*find("llama"), tiny());
  EXPECT_EQ(list.size(), 3u + 2u * 9u);
  EXPECT_EQ(list.front().name, "token_embd.weight");
  EXPECT_EQ(list.front().ne, (std::vector<int64_t>{8, 32}));
  EXPECT_EQ(list[3].name, "blk.0.attn_k.weight");
  EXPECT_EQ(list[3].ne, (std::vector<int64_t>{8, 4}));
}

TEST(ArchitectureTensors, EveryLayerTensorHasAHuggingFaceName) {
  for (const Architecture* a : all()) {
    for (const auto& t : tensor_list(*a, tiny())) {
      if (t.layer < 0) continue;
      const std::string suffix = t.name.substr(layer_prefix(t.layer).size());
      EXPECT_FALSE(hf_layer_tensor_name(*a, suffix).empty()) << a->name << " " << t.name;
      EXPECT_NE(
          std::find(all_layer_tensor_suffixes().begin(), all_layer_tensor_suffixes().end(), suffix),
          all_layer_tensor_suffixes().end())
          << suffix;
    }
  }
  EXPECT_EQ(hf_layer_tensor_name(*find("llama"), "ffn_norm.weight"),
            "post_attention_layernorm.weight");
  EXPECT_EQ(hf_layer_tensor_name(*find("gemma3"), "ffn_norm.weight"),
            "pre_feedforward_layernorm.weight");
}

}  // namespace
}  // namespace inference::arch
