// train/train_data.hpp — training examples from JSONL: chat ({"messages": [...]}, loss on the
// assistant turns only, rendered with the model's own chat template) or plain text
// ({"text": "..."}, loss on every token after the first).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "inference/capabilities.hpp"

namespace inference::train {

struct TrainExample {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> mask;  ///< 1 = train on predicting this token (mask[0] is always 0)
  int64_t trained_tokens() const;
};

struct TrainDataset {
  std::vector<TrainExample> examples;
  int64_t skipped = 0;    ///< lines without a trained token (reported, not fatal)
  int64_t truncated = 0;  ///< examples cut to seq_len
  uint64_t hash = 0;      ///< of the file's bytes (a resumed run must see the same data)
};

/// Reads `path` (one JSON object per line; blank and '#' lines skipped). A malformed line is an
/// Error(invalid_argument) naming the file and line number. Examples longer than seq_len tokens
/// are cut to it.
TrainDataset load_train_jsonl(const std::filesystem::path& path, const TokenizerModel& tokenizer,
                              int32_t seq_len);

/// One chat conversation → tokens and the mask of its assistant turns.
TrainExample chat_example(std::span<const Message> messages, const TokenizerModel& tokenizer);

}  // namespace inference::train
