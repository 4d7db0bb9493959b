#include "train/train_data.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "inference/error.hpp"

namespace inference::train {
namespace {

// Encodes rendered chat text with BOS exactly once: templates that write the BOS text
// themselves are encoded without adding it again.
std::vector<int32_t> encode_rendered(const std::string& text, const TokenizerModel& tokenizer) {
  const auto bos = tokenizer.encode("", /*add_special=*/true, false);
  const bool writes_bos = !bos.empty() && text.starts_with(tokenizer.token_text(bos.front()));
  return tokenizer.encode(text, !writes_bos, /*parse_special=*/true);
}

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

int64_t TrainExample::trained_tokens() const {
  int64_t n = 0;
  for (uint8_t m : mask) n += m != 0;
  return n;
}

TrainExample chat_example(std::span<const Message> messages, const TokenizerModel& tokenizer) {
  TrainExample example;
  example.tokens = encode_rendered(tokenizer.apply_chat_template(messages, false), tokenizer);
  example.mask.assign(example.tokens.size(), 0);
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role != "assistant") continue;
    const auto before =
        encode_rendered(tokenizer.apply_chat_template(messages.first(i), true), tokenizer);
    const auto through =
        encode_rendered(tokenizer.apply_chat_template(messages.first(i + 1), false), tokenizer);
    if (through.size() > example.tokens.size() ||
        !std::equal(through.begin(), through.end(), example.tokens.begin()) ||
        before.size() > through.size()) {
      throw Error(ErrorCode::invalid_argument,
                  "the chat template does not render this conversation turn by turn (assistant "
                  "message " +
                      std::to_string(i) + "), so its tokens cannot be masked");
    }
    for (size_t t = before.size(); t < through.size(); ++t) example.mask[t] = 1;
  }
  if (!example.mask.empty()) example.mask[0] = 0;
  return example;
}

TrainDataset load_train_jsonl(const std::filesystem::path& path, const TokenizerModel& tokenizer,
                              int32_t seq_len) {
  if (seq_len < 2) throw Error(ErrorCode::invalid_argument, "seq_len must be >= 2");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open training data " + path.string());
  TrainDataset data;
  data.hash = 0xcbf29ce484222325ULL;
  std::string line;
  int64_t number = 0;
  constexpr size_t kMaxLine = 16u << 20;
  while (std::getline(in, line)) {
    ++number;
    data.hash = fnv1a(data.hash, line);
    const auto where = [&] { return path.string() + ":" + std::to_string(number) + ": "; };
    if (line.size() > kMaxLine)
      throw Error(ErrorCode::invalid_argument, where() + "line longer than 16 MiB");
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object())
      throw Error(ErrorCode::invalid_argument, where() + "not a JSON object");
    TrainExample example;
    if (auto messages = json.find("messages"); messages != json.end()) {
      if (!messages->is_array() || messages->empty())
        throw Error(ErrorCode::invalid_argument, where() + "'messages' must be a non-empty array");
      std::vector<Message> conversation;
      for (const auto& m : *messages) {
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
            !m.contains("content") || !m["content"].is_string())
          throw Error(ErrorCode::invalid_argument,
                      where() + "each message needs a string 'role' and 'content'");
        const auto role = m["role"].get<std::string>();
        if (role != "system" && role != "user" && role != "assistant")
          throw Error(ErrorCode::invalid_argument, where() + "unknown role '" + role + "'");
        conversation.push_back({role, m["content"].get<std::string>()});
      }
      try {
        example = chat_example(conversation, tokenizer);
      } catch (const Error& e) {
        throw Error(e.code(), where() + e.what());
      }
    } else if (auto text = json.find("text"); text != json.end() && text->is_string()) {
      example.tokens = tokenizer.encode(text->get<std::string>(), true, false);
      example.mask.assign(example.tokens.size(), 1);
      if (!example.mask.empty()) example.mask[0] = 0;
    } else {
      throw Error(ErrorCode::invalid_argument,
                  where() + "expected {\"messages\": [...]} or {\"text\": \"...\"}");
    }
    if (example.tokens.size() > static_cast<size_t>(seq_len)) {
      example.tokens.resize(static_cast<size_t>(seq_len));
      example.mask.resize(static_cast<size_t>(seq_len));
      ++data.truncated;
    }
    if (example.trained_tokens() == 0) {
      ++data.skipped;
      continue;
    }
    data.examples.push_back(std::move(example));
  }
  return data;
}

}  // namespace inference::train
