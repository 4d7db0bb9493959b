// backends/remote/utf8_joiner.hpp — holds back the bytes of a UTF-8 character that a server
// split across two streamed pieces, so no Token ever carries half a character.
#pragma once

#include <string>

namespace inference::remote {

class Utf8Joiner {
 public:
  /// `piece` prefixed by held-back bytes, minus an incomplete character at its end (kept for
  /// the next call).
  std::string push(const std::string& piece);
  /// What is still held back (an incomplete character at the end of the stream, as is).
  std::string flush();

 private:
  std::string pending_;
};

}  // namespace inference::remote
