// generation/stop_matcher.hpp — ends generation at stop strings without ever emitting them.
//
// Text arrives piece by piece (one token's text at a time) and a stop string may span several
// pieces, so the matcher holds back the tail of the text that could still be the start of a
// stop string and releases it once it cannot be. On a match it releases only the text before
// the stop string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inference::generation {

class StopMatcher {
 public:
  /// Empty strings are ignored (validate_generate_config rejects them earlier).
  explicit StopMatcher(std::vector<std::string> stops = {});

  /// Appends `text`; returns what may be emitted now. After a match stopped() is true, the
  /// return value is the text before the earliest stop string, and later pushes return "".
  std::string push(std::string_view text);
  /// The held-back text, at the end of a generation that did not stop on a string.
  std::string flush();
  bool stopped() const noexcept { return stopped_; }
  /// The stop string that matched ("" if none).
  const std::string& matched() const noexcept { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace inference::generation
