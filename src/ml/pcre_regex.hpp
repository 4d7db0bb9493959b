// ml/pcre_regex.hpp — a compiled, JIT-accelerated, case-insensitive UTF-8 PCRE2 pattern.
// Thread-safe: the compiled code is shared, each thread matches with its own match data.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace inference::ml {

class PcreRegex {
 public:
  /// Compiles `pattern` (caseless, UTF, UCP; `multiline` makes ^/$ match at line breaks).
  /// Throws inference::Error(invalid_argument) with PCRE2's message on a bad pattern.
  explicit PcreRegex(std::string_view pattern, bool multiline = false);
  ~PcreRegex();
  PcreRegex(const PcreRegex&) = delete;
  PcreRegex& operator=(const PcreRegex&) = delete;

  /// Number of non-overlapping matches in `text`.
  size_t count(std::string_view text) const;
  /// Whether the pattern matches anywhere in `text`.
  bool search(std::string_view text) const;

 private:
  // Byte offsets of the first match at or after `start`, or false.
  bool find(std::string_view text, size_t start, size_t& begin, size_t& end) const;
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so users need no PCRE2 headers
};

}  // namespace inference::ml
