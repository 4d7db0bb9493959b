// Tokenizer::load and the StreamingDetokenizer.
#include "tokenizer/tokenizer.hpp"

#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {

std::unique_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return from_hf(path);
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::not_found, path.string() + ": no such file or directory");
  }
  if (path.extension() == ".json") return from_hf(path);
  const auto file = formats::GgufFile::open(path);
  return from_gguf(file);
}

}  // namespace inference::tokenizer

namespace inference::tokenizer {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

namespace {

// How many trailing bytes of `text` may still change when more ids arrive.
size_t unstable_tail(const Tokenizer& tokenizer, std::string_view text, int32_t last_id) {
  // A byte token may be followed by more bytes of the same character (and a run of byte
  // tokens decodes as a whole in tokenizer.json byte-fallback decoders).
  if (tokenizer.token_type(last_id) == TokenType::byte) return text.size();
  size_t hold = incomplete_utf8_tail(text);
  // A trailing U+FFFD may be an incomplete character that later bytes complete.
  std::string_view rest = text.substr(0, text.size() - hold);
  while (rest.ends_with("\xEF\xBF\xBD")) {
    rest.remove_suffix(3);
    hold += 3;
  }
  // Clean-up of spaces changes " ." " 's" " n't" …: hold back a short tail that starts with a
  // space, since what follows may remove it.
  if (tokenizer.cleans_up_spaces()) {
    const size_t space = rest.rfind(' ');
    if (space != std::string_view::npos && rest.size() - space <= 4) hold += rest.size() - space;
  }
  return std::min(hold, text.size());
}

}  // namespace

std::string StreamingDetokenizer::push(int32_t id) {
  ids_.push_back(id);
  const std::string text = tokenizer_.decode_with(ids_, {.continued = continued_});
  const size_t stable = text.size() - unstable_tail(tokenizer_, text, id);
  std::string out;
  if (stable > emitted_bytes_) {
    out = text.substr(emitted_bytes_, stable - emitted_bytes_);
    emitted_bytes_ = stable;
  }
  // Everything is out and nothing can change it any more: start a new window, so that the
  // work per id stays bounded.
  if (emitted_bytes_ == text.size()) {
    ids_.clear();
    emitted_bytes_ = 0;
    continued_ = true;
  }
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out;
  if (!ids_.empty()) {
    const std::string text = tokenizer_.decode_with(ids_, {.continued = continued_});
    if (text.size() > emitted_bytes_) out = text.substr(emitted_bytes_);
  }
  ids_.clear();
  emitted_bytes_ = 0;
  continued_ = true;
  return out;
}

}  // namespace inference::tokenizer
