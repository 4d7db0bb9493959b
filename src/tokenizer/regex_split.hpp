// tokenizer/regex_split.hpp — pre-tokenizer regexes (PCRE2, UTF + Unicode properties, JIT).
//
// Text is kept as a list of chunks (offset, length) into one string. Each regex splits every
// chunk further, running on that chunk alone (its ends are the subject's ends, as in
// llama.cpp's unicode_regex_split and HF's Split pre-tokenizer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace inference::tokenizer {

struct Chunk {
  uint32_t offset = 0;
  uint32_t length = 0;
};

/// How matches and the text between them become chunks (HF SplitDelimiterBehavior subset).
enum class SplitBehavior {
  isolated,              ///< matches and gaps each become a chunk
  merged_with_previous,  ///< each match is appended to the chunk before it
  removed,               ///< matches are dropped, gaps kept
};

class SplitRegex {
 public:
  /// Compiles `pattern` (PCRE2 syntax) with UTF and UCP. Throws Error(invalid_model) naming
  /// the pattern and PCRE2's message.
  explicit SplitRegex(const std::string& pattern);
  ~SplitRegex();
  SplitRegex(SplitRegex&&) noexcept;
  SplitRegex& operator=(SplitRegex&&) noexcept;

  /// Splits each chunk of `chunks` (over `text`, valid UTF-8) and replaces the list.
  void split(std::string_view text, std::vector<Chunk>& chunks,
             SplitBehavior behavior = SplitBehavior::isolated) const;
  const std::string& pattern() const noexcept { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

/// Escapes `literal` so that it matches itself in a PCRE2 pattern.
std::string regex_escape(std::string_view literal);

}  // namespace inference::tokenizer
