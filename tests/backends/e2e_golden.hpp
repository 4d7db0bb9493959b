// Reading testdata/models/e2e/*.golden.json (see the testdata README, "End-to-end models").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "inference/types.hpp"

namespace inference::test {

struct E2ePrompt {
  bool chat = false;
  std::string prompt;             ///< text prompts
  std::vector<Message> messages;  ///< chat prompts
  bool add_generation_prompt = true;
  std::string rendered;  ///< chat prompts: the template's text
  bool add_special = true;
  bool parse_special = false;
  std::vector<int32_t> tokens;
  std::vector<std::pair<int32_t, float>> top_last;  ///< top-20 [id, logprob] after the prompt
  std::vector<int32_t> greedy;
  std::vector<float> greedy_margin;
  std::string greedy_text;  ///< exact bytes of the concatenated pieces
};

struct E2eGolden {
  std::filesystem::path model;
  int32_t n_ctx = 0;
  std::vector<E2ePrompt> prompts;
};

/// Every golden in testdata/models/e2e, sorted by file name.
std::vector<E2eGolden> load_e2e_goldens();

/// Steps of a greedy continuation that must agree: those before the first step whose margin
/// is below `tolerance` (after it, sequences may legitimately part).
size_t greedy_steps_to_compare(const std::vector<float>& margins, float tolerance);

}  // namespace inference::test
