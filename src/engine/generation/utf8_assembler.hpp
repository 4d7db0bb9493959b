// generation/utf8_assembler.hpp — joins token pieces into text that never splits a character.
//
// Token pieces are raw bytes (byte-fallback tokens carry single bytes of a multi-byte UTF-8
// character). The assembler releases every complete character at once and holds back only an
// incomplete sequence at the end; bytes that can never become valid UTF-8 are passed through
// rather than held forever.
//
// Why not tokenizer::StreamingDetokenizer: that one reproduces decode(all ids), which for
// SentencePiece drops the leading space of the first piece. A generated continuation must keep
// it ("[/INST]" + " Hello"): the reference's streamed text is the concatenation of the pieces.
#pragma once

#include <string>
#include <string_view>

namespace inference::generation {

class Utf8Assembler {
 public:
  /// Appends `bytes`; returns the text that is complete now.
  std::string push(std::string_view bytes);
  /// Whatever is held back (an incomplete character at the end of the stream), as it is.
  std::string flush();

 private:
  std::string held_;
};

/// Bytes at the end of `text` that start a UTF-8 character but do not complete it (0..3).
size_t incomplete_utf8_tail(std::string_view text);

}  // namespace inference::generation
