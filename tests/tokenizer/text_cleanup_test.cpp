// The two clean-up rules applied after decoding.
#include <gtest/gtest.h>

#include "tokenizer/text_cleanup.hpp"

namespace inference::tokenizer {
namespace {

TEST(TextCleanup, LlamaCleanSpaces) {
  EXPECT_EQ(llama_clean_spaces("Hello , world . Why ? Yes !"), "Hello, world. Why? Yes!");
  EXPECT_EQ(llama_clean_spaces("it ' s"), "it's");
  EXPECT_EQ(llama_clean_spaces("he 's here , we 're"), "he's here, we're");
  EXPECT_EQ(llama_clean_spaces("don 't"), "don 't");  // " 't" keeps its space in llama.cpp
  EXPECT_EQ(llama_clean_spaces(""), "");
}

TEST(TextCleanup, HuggingFaceCleanUp) {
  EXPECT_EQ(hf_clean_up_tokenization("Hello , world . Why ? Yes !"), "Hello, world. Why? Yes!");
  EXPECT_EQ(hf_clean_up_tokenization("do n't it 's we 've they 're I 'm"),
            "don't it's we've they're I'm");
  EXPECT_EQ(hf_clean_up_tokenization("a ' b"), "a'b");
}

}  // namespace
}  // namespace inference::tokenizer
